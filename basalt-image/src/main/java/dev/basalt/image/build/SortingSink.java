package dev.basalt.image.build;

import dev.basalt.fs.tree.TreeEntry;
import dev.basalt.fs.tree.TreeSink;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.TreeMap;

/**
 * Puts a producer's entries into LayerWriter's depth-first order (NodeLayer emits plain string order, where
 * {@code system.conf.d} sorts before {@code system/}). Buffers contents in memory: for the node layer only.
 */
final class SortingSink implements TreeSink {
  private final TreeMap<String, Object[]> entries = new TreeMap<>(dev.basalt.oci.merge.LayerWriter.PATH_ORDER);
  private final TreeSink target;
  private boolean finished;

  SortingSink(TreeSink target) { this.target = target; }

  @Override
  public void add(TreeEntry entry, InputStream content) throws IOException {
    entries.put(entry.path(), new Object[] {entry, content == null ? null : content.readAllBytes()});
  }

  @Override
  public void finish() throws IOException {
    if (finished) return;
    finished = true;
    for (Object[] e : entries.values()) {
      target.add((TreeEntry) e[0], e[1] == null ? null : new ByteArrayInputStream((byte[]) e[1]));
    }
    target.finish();
  }
}

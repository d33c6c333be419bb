package dev.basalt.oci.merge;

import static org.assertj.core.api.Assertions.assertThat;

import dev.basalt.fs.tree.TreeEntry;
import dev.basalt.fs.tree.TreeSink;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;

/** Test sink: records entries in order with their content, and checks the stream contract as it goes. */
final class CollectingSink implements TreeSink {
  final Map<String, TreeEntry> entries = new LinkedHashMap<>();
  final Map<String, String> content = new LinkedHashMap<>();
  boolean finished;

  @Override
  public void add(TreeEntry entry, InputStream in) throws IOException {
    assertThat(entries).as("each path once").doesNotContainKey(entry.path());
    if (entry instanceof TreeEntry.Hardlink l) {
      assertThat(entries).as("hardlink %s → earlier entry", l.path()).containsKey(l.target());
    }
    if (entry instanceof TreeEntry.RegularFile f) {
      byte[] b = in.readNBytes((int) f.size());
      assertThat(b).as("content of %s", f.path()).hasSize((int) f.size());
      content.put(f.path(), new String(b, StandardCharsets.ISO_8859_1));
    } else {
      assertThat(in).isNull();
    }
    entries.put(entry.path(), entry);
  }

  @Override
  public void finish() {
    finished = true;
  }

  String text(String path) {
    TreeEntry e = entries.get(path);
    if (e instanceof TreeEntry.Hardlink l) return text(l.target());
    return content.get(path);
  }
}

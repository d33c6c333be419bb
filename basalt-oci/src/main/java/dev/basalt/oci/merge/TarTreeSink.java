package dev.basalt.oci.merge;

import dev.basalt.fs.tree.Metadata;
import dev.basalt.fs.tree.TreeEntry;
import dev.basalt.fs.tree.TreePaths;
import dev.basalt.fs.tree.TreeSink;
import dev.basalt.oci.tar.TarWriter;
import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.TreeSet;

/**
 * Writes a tree as one tar archive ({@code basalt export REF --tar OUT}): entries in stream order
 * (a directory may come after its children, which tar extraction handles), hardlinks as tar
 * hardlinks, numeric owners, no user/group names. Directories that never appeared are written at
 * the end with {@link Metadata#IMPLIED_DIRECTORY}. {@link #finish()} ends the archive and flushes;
 * the output stream is left open for the caller to close.
 */
public final class TarTreeSink implements TreeSink {
  private final TarWriter writer;
  private final TreeTar tar;
  private final TreeSet<String> parents = new TreeSet<>();
  private boolean done;

  public TarTreeSink(OutputStream out) {
    this.writer = new TarWriter(new FilterOutputStream(out) {
      @Override public void write(byte[] b, int off, int len) throws IOException { out.write(b, off, len); }
      @Override public void close() throws IOException { flush(); }
    });
    this.tar = new TreeTar(writer);
  }

  @Override
  public void add(TreeEntry entry, InputStream content) throws IOException {
    if (done) throw new IllegalStateException("sink already finished");
    tar.add(entry, content);
    for (String p = entry.path(); !p.isEmpty(); ) {
      p = TreePaths.parent(p);
      if (!parents.add(p)) break;
    }
  }

  @Override
  public void finish() throws IOException {
    if (done) return;
    done = true;
    for (String p : parents) {
      if (!tar.isWritten(p)) tar.add(new TreeEntry.Directory(p, Metadata.IMPLIED_DIRECTORY), null);
    }
    writer.close();
  }

  /** Bytes of tar written so far. */
  public long bytesWritten() {
    return writer.bytesWritten();
  }
}

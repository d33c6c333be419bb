package dev.basalt.image.disk;

import static org.assertj.core.api.Assertions.assertThat;

import dev.basalt.fs.tree.Metadata;
import dev.basalt.fs.tree.TreeEntry;
import dev.basalt.fs.tree.TreeSink;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

class NodeOverlayTest {
  private static final Metadata FILE = Metadata.of(0644, 0, 0, 0);
  private static final Metadata DIR = Metadata.of(0755, 0, 0, 0);
  private static final String RUNTIME = "usr/lib/basalt/runtime/lib/modules";

  /** A node layer with a preinit and a runtime file, each saying it is the layer's. */
  private static final TreeProducer LAYER = sink -> {
    sink.add(new TreeEntry.Directory("usr", DIR), null);
    file(sink, NodeOverlay.PREINIT, "layer");
    file(sink, RUNTIME, "layer");
  };

  private static void file(TreeSink sink, String path, String text) throws IOException {
    byte[] b = text.getBytes(StandardCharsets.UTF_8);
    sink.add(new TreeEntry.RegularFile(path, FILE, b.length), new ByteArrayInputStream(b));
  }

  /** Keeps small files' text and counts big files' bytes. */
  private static final class Collect implements TreeSink {
    final Map<String, String> files = new LinkedHashMap<>();
    long bigBytes;
    boolean finished;

    @Override
    public void add(TreeEntry entry, InputStream content) throws IOException {
      if (entry instanceof TreeEntry.RegularFile f && f.size() > 1024) {
        bigBytes += content.transferTo(OutputStream.nullOutputStream());
        files.put(entry.path(), "big");
      } else if (entry instanceof TreeEntry.RegularFile) {
        files.put(entry.path(), new String(content.readAllBytes(), StandardCharsets.UTF_8));
      }
    }

    @Override
    public void finish() {
      finished = true;
    }
  }

  /** Endless zeros up to {@code size}, without holding them in memory. */
  private static InputStream zeros(long size) {
    return new InputStream() {
      long left = size;

      @Override
      public int read() {
        return left-- > 0 ? 0 : -1;
      }

      @Override
      public int read(byte[] b, int off, int len) {
        if (left <= 0) return -1;
        int n = (int) Math.min(len, left);
        java.util.Arrays.fill(b, off, off + n, (byte) 0);
        left -= n;
        return n;
      }
    };
  }

  @Test
  void anImageWithoutItsOwnNodeLayerGetsOursAndLosesItsFilesAtOurPaths() throws IOException {
    Collect down = new Collect();
    NodeOverlay o = new NodeOverlay(down, LAYER);
    o.add(new TreeEntry.Directory("usr", DIR), null);
    file(o, RUNTIME, "image");
    file(o, "etc/hostname", "image");
    o.finish();
    assertThat(o.added()).isTrue();
    assertThat(down.finished).isTrue();
    assertThat(down.files).containsEntry(RUNTIME, "layer").containsEntry(NodeOverlay.PREINIT, "layer")
        .containsEntry("etc/hostname", "image");
  }

  @Test
  void anImageWithItsOwnNodeLayerKeepsItEvenWhenItsRuntimeIsFarLargerThanWhatMayBeHeld() throws IOException {
    Collect down = new Collect();
    NodeOverlay o = new NodeOverlay(down, LAYER);
    o.add(new TreeEntry.Directory("usr", DIR), null);
    file(o, "usr/bin/basalt", "image wrapper");
    file(o, NodeOverlay.PREINIT, "image");
    long big = 100L << 20; // beyond the 64 MiB that may be held while it is unknown whose layer wins
    o.add(new TreeEntry.RegularFile(RUNTIME, FILE, big), zeros(big));
    o.finish();
    assertThat(o.added()).isFalse();
    assertThat(down.bigBytes).isEqualTo(big);
    assertThat(down.files).containsEntry(NodeOverlay.PREINIT, "image").containsEntry(RUNTIME, "big")
        .containsEntry("usr/bin/basalt", "image wrapper");
  }
}

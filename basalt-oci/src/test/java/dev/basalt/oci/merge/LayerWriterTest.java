package dev.basalt.oci.merge;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.basalt.fs.tree.Metadata;
import dev.basalt.fs.tree.TreeEntry;
import dev.basalt.fs.tree.TreeException;
import dev.basalt.oci.api.Descriptor;
import dev.basalt.oci.api.Digest;
import dev.basalt.oci.api.MediaTypes.Compression;
import dev.basalt.oci.tar.FsSnapshot;
import dev.basalt.oci.tar.TarFixture;
import dev.basalt.testkit.Tools;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class LayerWriterTest {
  @TempDir Path tmp;

  /** The fixture tree as sorted tree entries (what a sorting directory walker would emit). */
  CollectingSink fixtureTree() throws IOException {
    Path src = Files.createDirectory(tmp.resolve("src"));
    TarFixture.create(src, false);
    Path in = tmp.resolve("rootfs.tar");
    Tools.check("tar", "--xattrs", "--xattrs-include=*", "--format=pax", "--sort=name", "-C", src.toString(), "-cf", in.toString(), ".");
    CollectingSink tree = new CollectingSink();
    TarTreeSource.read(in, tree);
    return tree;
  }

  static LayerWriter.Result write(CollectingSink tree, OutputStream out, Compression c) throws IOException {
    List<TreeEntry> sorted = new ArrayList<>(tree.entries.values());
    sorted.sort((a, b) -> LayerWriter.compare(a.path(), b.path()));
    // hardlinks must follow their target in sorted order: swap roles where needed is the walker's job;
    // the fixture's links (d/file ← hl, long/… ← long/hl-to-…) already have their target first
    LayerWriter w = LayerWriter.create(out, c, c == Compression.ZSTD ? 3 : 6);
    for (TreeEntry e : sorted) {
      if (e instanceof TreeEntry.Hardlink l && LayerWriter.compare(l.target(), l.path()) > 0) {
        throw new AssertionError("fixture link target sorts after link: " + l);
      }
      String c0 = tree.content.get(e.path());
      w.add(e, c0 == null ? null : new ByteArrayInputStream(c0.getBytes(StandardCharsets.ISO_8859_1)));
    }
    w.finish();
    return w.result();
  }

  @ParameterizedTest
  @EnumSource(Compression.class)
  void deterministicLayerWithDigestsThatMatchTheRealTools(Compression c) throws IOException {
    CollectingSink tree = fixtureTree();
    ByteArrayOutputStream a = new ByteArrayOutputStream();
    ByteArrayOutputStream b = new ByteArrayOutputStream();
    LayerWriter.Result ra = write(tree, a, c);
    LayerWriter.Result rb = write(tree, b, c);
    assertThat(a.toByteArray()).isEqualTo(b.toByteArray());
    assertThat(ra).isEqualTo(rb);
    assertThat(ra.digest()).isEqualTo(Digest.sha256(a.toByteArray()));
    assertThat(ra.size()).isEqualTo(a.size());

    Path blob = tmp.resolve("blob");
    Files.write(blob, a.toByteArray());
    Path plain = tmp.resolve("layer.tar");
    String decompress = switch (c) { case NONE -> "cat"; case GZIP -> "gzip -dc"; case ZSTD -> "zstd -dc"; };
    Tools.check("sh", "-c", decompress + " < '" + blob + "' > '" + plain + "'");
    assertThat(ra.diffId()).isEqualTo(Digest.sha256(Files.readAllBytes(plain)));

    // the real tar extracts it to the fixture tree, and our merge reads it back to the same entries
    Path dst = Files.createDirectory(tmp.resolve("dst"));
    Tools.check("tar", "--xattrs", "--xattrs-include=*", "--numeric-owner", "-xpf", plain.toString(), "-C", dst.toString());
    assertThat(FsSnapshot.of(dst)).containsExactlyEntriesOf(FsSnapshot.of(tmp.resolve("src")));
    CollectingSink back = new CollectingSink();
    LayerMerge.builder().layer(new Descriptor(ra.mediaType(), ra.digest(), ra.size()), () -> Files.newInputStream(blob))
        .build().into(back);
    assertThat(back.entries).containsExactlyInAnyOrderEntriesOf(tree.entries);
    assertThat(back.content).containsExactlyInAnyOrderEntriesOf(tree.content);
  }

  @Test
  void unsortedInputIsRefused() throws IOException {
    LayerWriter w = LayerWriter.create(new ByteArrayOutputStream(), Compression.GZIP, 6);
    Metadata m = Metadata.of(0644, 0, 0, 0);
    w.add(new TreeEntry.Directory("a", m), null);
    w.add(new TreeEntry.Fifo("a/b", m), null);
    w.add(new TreeEntry.Fifo("a-b", m), null);
    assertThatThrownBy(() -> w.add(new TreeEntry.Fifo("a/c", m), null))
        .isInstanceOf(TreeException.class)
        .hasMessage("/a/c: LayerWriter needs entries sorted depth-first by path, but it came after '/a-b'");
  }

  @Test
  void depthFirstOrder() {
    List<String> paths = new ArrayList<>(List.of("a-b", "a/b", "", "ab", "a", "a/b/c", "\uffff", "\ud83d\ude00", "B"));
    paths.sort(LayerWriter::compare);
    assertThat(paths).containsExactly("", "B", "a", "a/b", "a/b/c", "a-b", "ab", "\uffff", "\ud83d\ude00");
  }
}

package dev.basalt.oci.merge;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.basalt.fs.tree.TreeEntry;
import dev.basalt.fs.tree.TreeException;
import dev.basalt.fs.tree.TreeSink;
import dev.basalt.oci.api.Descriptor;
import dev.basalt.oci.api.Digest;
import dev.basalt.oci.api.MediaTypes;
import dev.basalt.oci.api.MediaTypes.Compression;
import dev.basalt.oci.compress.CompressionException;
import dev.basalt.oci.compress.DecompressionLimits;
import dev.basalt.oci.tar.TarException;
import dev.basalt.oci.tar.TarHeader;
import dev.basalt.oci.tar.TarType;
import dev.basalt.oci.tar.TarWriter;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** Merge rules and bad input, on hand-made layers (the umoci comparison is in LayerMergeUmociTest). */
class LayerMergeTest {

  /** A layer under construction: entries written with our TarWriter. */
  static final class L {
    final ByteArrayOutputStream tar = new ByteArrayOutputStream();
    final TarWriter w = new TarWriter(tar);

    L file(String name, String content) throws IOException {
      byte[] b = content.getBytes(StandardCharsets.UTF_8);
      w.add(TarHeader.builder(name, TarType.REGULAR).size(b.length).build(), new ByteArrayInputStream(b));
      return this;
    }

    L dir(String name, int mode) throws IOException {
      w.add(TarHeader.builder(name, TarType.DIRECTORY).mode(mode).build(), null);
      return this;
    }

    L symlink(String name, String target) throws IOException {
      w.add(TarHeader.builder(name, TarType.SYMLINK).linkName(target).build(), null);
      return this;
    }

    L link(String name, String target) throws IOException {
      w.add(TarHeader.builder(name, TarType.HARDLINK).linkName(target).build(), null);
      return this;
    }

    L fifo(String name) throws IOException {
      w.add(TarHeader.builder(name, TarType.FIFO).build(), null);
      return this;
    }

    byte[] tar() throws IOException {
      w.finish();
      return tar.toByteArray();
    }
  }

  record Blob(Descriptor descriptor, byte[] bytes) {}

  static Blob blob(L layer) throws IOException {
    byte[] gz = OciLayoutFixture.compress(layer.tar(), Compression.GZIP);
    return new Blob(new Descriptor(MediaTypes.OCI_LAYER_GZIP, Digest.sha256(gz), gz.length), gz);
  }

  static LayerMerge.Builder merge(Blob... blobs) {
    LayerMerge.Builder b = LayerMerge.builder();
    for (Blob x : blobs) b.layer(x.descriptor(), () -> new ByteArrayInputStream(x.bytes()));
    return b;
  }

  static CollectingSink run(LayerMerge.Builder b) throws IOException {
    CollectingSink s = new CollectingSink();
    b.build().into(s);
    return s;
  }

  @Test
  void whiteoutsAndOpaqueMarkersApplyOnlyToLowerLayersWhereverTheyAreInTheTar() throws IOException {
    Blob l1 = blob(new L().dir("a/", 0755).file("a/old", "1").file("b", "1").dir("c/", 0700).file("c/x", "1"));
    // opaque marker after its siblings, whiteout and recreation of c in the same layer
    Blob l2 = blob(new L().file("a/new", "2").file("a/.wh..wh..opq", "").file(".wh.b", "").file("b", "2 again")
        .file(".wh.c", "").file("c/y", "2"));
    CollectingSink s = run(merge(l1, l2));
    assertThat(s.entries.keySet()).containsExactlyInAnyOrder("", "a", "a/new", "b", "c", "c/y");
    assertThat(s.text("b")).isEqualTo("2 again");
    // c was deleted by l2's whiteout and recreated implicitly: l1's 0700 must not come back
    assertThat(((TreeEntry.Directory) s.entries.get("c")).metadata().permissions()).isEqualTo(0755);
    // a was only implied by l2: it keeps l1's explicit entry
    assertThat(((TreeEntry.Directory) s.entries.get("a")).metadata().permissions()).isEqualTo(0755);
  }

  @Test
  void rootOpaqueHidesEveryLowerLayer() throws IOException {
    Blob l1 = blob(new L().file("x", "1").dir("d/", 0700));
    Blob l2 = blob(new L().file(".wh..wh..opq", "").file("y", "2"));
    assertThat(run(merge(l1, l2)).entries.keySet()).containsExactlyInAnyOrder("", "y");
  }

  @Test
  void fileReplacedByDirectoryAndTheReverse() throws IOException {
    Blob l1 = blob(new L().file("f", "file").dir("d/", 0755).file("d/inner", "x"));
    Blob l2 = blob(new L().dir("f/", 0711).file("f/child", "c").file("d", "now a file"));
    CollectingSink s = run(merge(l1, l2));
    assertThat(s.entries.keySet()).containsExactlyInAnyOrder("", "f", "f/child", "d");
    assertThat(s.entries.get("f")).isInstanceOf(TreeEntry.Directory.class);
    assertThat(s.text("d")).isEqualTo("now a file");
  }

  @Test
  void hardlinkToAnOverriddenOriginalKeepsItsOwnLayersContentWithOneReread() throws IOException {
    Blob l1 = blob(new L().file("orig", "old").link("l1", "orig").link("l2", "l1").symlink("sym", "orig").link("sl", "sym"));
    Blob l2 = blob(new L().file("orig", "new").file(".wh.sym", ""));
    AtomicInteger opens = new AtomicInteger();
    LayerMerge.Builder b = LayerMerge.builder()
        .layer(l1.descriptor(), () -> { opens.incrementAndGet(); return new ByteArrayInputStream(l1.bytes()); })
        .layer(l2.descriptor(), () -> new ByteArrayInputStream(l2.bytes()));
    CollectingSink s = new CollectingSink();
    LayerMerge.Result r = b.build().into(s);
    assertThat(s.text("orig")).isEqualTo("new");
    assertThat(s.entries.get("l1")).isInstanceOf(TreeEntry.RegularFile.class);
    assertThat(s.text("l1")).isEqualTo("old");
    assertThat(s.entries.get("l2")).isEqualTo(new TreeEntry.Hardlink("l2", "l1"));
    // a link to a whited-out symlink becomes the symlink itself, no re-read needed for that
    assertThat(s.entries.get("sl")).isInstanceOf(TreeEntry.Symlink.class);
    assertThat(opens.get()).isEqualTo(2);
    assertThat(r.rereads()).isEqualTo(1);
  }

  @Test
  void commonCaseReadsEachBlobOnce() throws IOException {
    Blob l1 = blob(new L().file("a", "1").link("b", "a"));
    Blob l2 = blob(new L().file("c", "2"));
    AtomicInteger opens = new AtomicInteger();
    LayerMerge.Builder b = LayerMerge.builder();
    for (Blob x : List.of(l1, l2)) b.layer(x.descriptor(), () -> { opens.incrementAndGet(); return new ByteArrayInputStream(x.bytes()); });
    LayerMerge.Result r = b.build().into(new CollectingSink());
    assertThat(opens.get()).isEqualTo(2);
    assertThat(r.rereads()).isZero();
    assertThat(r.regularFiles()).isEqualTo(2);
  }

  @Test
  void hardlinkToMissingOrLowerLayerTargetIsAnError() throws IOException {
    Blob bad = blob(new L().file("a", "1").link("b", "nope"));
    assertThatThrownBy(() -> run(merge(bad)))
        .isInstanceOf(LayerMergeException.class)
        .hasMessageContaining("layer " + bad.descriptor().digest() + ": entry 'b': at byte 1024: hardlink to missing target 'nope'");
    Blob lower = blob(new L().file("a", "1"));
    Blob upper = blob(new L().link("b", "a"));
    assertThatThrownBy(() -> run(merge(lower, upper)))
        .hasMessageContaining("layer " + upper.descriptor().digest() + ": entry 'b'")
        .hasMessageContaining("same layer");
  }

  @Test
  void dotDotIsRefusedAndLeadingSlashIsStripped() throws IOException {
    Blob bad = blob(new L().file("ok", "1").file("a/../../etc/passwd", "x"));
    assertThatThrownBy(() -> run(merge(bad)))
        .isInstanceOf(LayerMergeException.class)
        .hasMessage("layer " + bad.descriptor().digest() + ": entry 'a/../../etc/passwd': at byte 1024: path has a '..'"
            + " component (refused: it could escape the root)");
    Blob badLink = blob(new L().file("a", "1").link("b", "../a"));
    assertThatThrownBy(() -> run(merge(badLink))).hasMessageContaining("entry 'b'").hasMessageContaining("'..'");
    CollectingSink s = run(merge(blob(new L().file("/etc/abs", "1").file("./rel", "2"))));
    assertThat(s.entries).containsKeys("etc/abs", "rel");
  }

  @Test
  void writingThroughASymlinkIsRefusedNamingBothEntries() throws IOException {
    Blob l1 = blob(new L().symlink("etc", "/tmp/x"));
    Blob l2 = blob(new L().file("etc/passwd", "root"));
    assertThatThrownBy(() -> run(merge(l1, l2)))
        .isInstanceOf(LayerMergeException.class)
        .hasMessageContaining("layer " + l1.descriptor().digest() + ": entry 'etc'")
        .hasMessageContaining("'etc/passwd'")
        .hasMessageContaining("write through a symlink");
    Blob same = blob(new L().symlink("etc", "/tmp/x").file("etc/passwd", "root"));
    assertThatThrownBy(() -> run(merge(same)))
        .hasMessageContaining("entry 'etc/passwd'")
        .hasMessageContaining("below 'etc', a non-directory of the same layer");
    // an explicit directory entry above legitimately replaces the symlink
    Blob l2dir = blob(new L().dir("etc/", 0755).file("etc/passwd", "root"));
    assertThat(run(merge(l1, l2dir)).entries.get("etc")).isInstanceOf(TreeEntry.Directory.class);
  }

  @Test
  void whiteoutOfTheRootIsRefused() throws IOException {
    Blob bad = blob(new L().file(".wh.", ""));
    assertThatThrownBy(() -> run(merge(bad)))
        .hasMessageContaining("layer " + bad.descriptor().digest() + ": entry '.wh.'")
        .hasMessageContaining("would remove the root");
  }

  @Test
  void duplicatesWithinALayerNeedPrescanForLastWins() throws IOException {
    Blob dup = blob(new L().file("a", "first").dir("d/", 0700).file("b", "x").link("c", "a").file("a", "second").dir("d/", 0751));
    assertThatThrownBy(() -> run(merge(dup)))
        .isInstanceOf(LayerMergeException.DuplicateEntry.class)
        .hasMessageContaining("entry 'a'")
        .hasMessageContaining("prescan");
    CollectingSink s = run(merge(dup).prescan(true));
    assertThat(s.text("a")).isEqualTo("second");
    assertThat(s.text("c")).as("link made before 'a' was replaced keeps the first content").isEqualTo("first");
    assertThat(((TreeEntry.Directory) s.entries.get("d")).metadata().permissions()).isEqualTo(0751);
  }

  @Test
  void digestMismatchNamesTheDigest() throws IOException {
    Blob l = blob(new L().file("a", "1"));
    Digest wrong = Digest.sha256("something else".getBytes());
    Blob lie = new Blob(new Descriptor(MediaTypes.OCI_LAYER_GZIP, wrong, l.bytes().length), l.bytes());
    assertThatThrownBy(() -> run(merge(lie)))
        .isInstanceOf(LayerMergeException.class)
        .hasMessageStartingWith("layer " + wrong + ": digest mismatch: the blob's content hashes to " + l.descriptor().digest())
        .hasMessageContaining("must be discarded");
    Blob bigger = new Blob(new Descriptor(MediaTypes.OCI_LAYER_GZIP, l.descriptor().digest(), l.bytes().length - 1), l.bytes());
    assertThatThrownBy(() -> run(merge(bigger))).hasMessageContaining("blob is larger than the");
  }

  @Test
  void sourceVerifiedStreamsAreTrustedOnlyForTheirOwnDescriptorAndStillFailOnAMismatch() throws IOException {
    Blob l = blob(new L().file("a", "1"));
    LayerMerge.Builder good = LayerMerge.builder().layer(l.descriptor(),
        () -> new dev.basalt.oci.api.VerifyingInputStream(new ByteArrayInputStream(l.bytes()), l.descriptor(), "test source"));
    assertThat(run(good).text("a")).isEqualTo("1");
    Digest wrong = Digest.sha256("something else".getBytes());
    Descriptor lie = new Descriptor(MediaTypes.OCI_LAYER_GZIP, wrong, l.bytes().length);
    LayerMerge.Builder sourceChecksTheLie = LayerMerge.builder().layer(lie,
        () -> new dev.basalt.oci.api.VerifyingInputStream(new ByteArrayInputStream(l.bytes()), lie, "test source"));
    assertThatThrownBy(() -> run(sourceChecksTheLie))
        .isInstanceOf(LayerMergeException.class)
        .hasMessageStartingWith("layer " + wrong + ": blob " + wrong + " from test source failed verification");
    // A stream verifying some other descriptor is not trusted: the merge hashes it itself.
    LayerMerge.Builder otherDescriptor = LayerMerge.builder().layer(lie,
        () -> new dev.basalt.oci.api.VerifyingInputStream(new ByteArrayInputStream(l.bytes()), l.descriptor(), "test source"));
    assertThatThrownBy(() -> run(otherDescriptor))
        .isInstanceOf(LayerMergeException.class)
        .hasMessageStartingWith("layer " + wrong + ": digest mismatch");
  }

  @Test
  void truncatedBlobNamesTheDigest() throws IOException {
    byte[] big = new byte[200_000];
    new java.util.Random(1).nextBytes(big);
    L layer = new L();
    layer.w.add(TarHeader.builder("big", TarType.REGULAR).size(big.length).build(), new ByteArrayInputStream(big));
    Blob l = blob(layer);
    byte[] cut = Arrays.copyOf(l.bytes(), l.bytes().length / 2);
    Blob truncated = new Blob(l.descriptor(), cut);
    assertThatThrownBy(() -> run(merge(truncated)))
        .isInstanceOf(CompressionException.class)
        .hasMessageStartingWith("layer " + l.descriptor().digest() + ": truncated gzip");
    byte[] tar = new L().file("a", "1").tar();
    byte[] tarCut = Arrays.copyOf(tar, 600);
    Blob plain = new Blob(new Descriptor(MediaTypes.OCI_LAYER_TAR, Digest.sha256(tarCut), tarCut.length), tarCut);
    assertThatThrownBy(() -> run(merge(plain)))
        .isInstanceOf(TarException.class)
        .hasMessage("layer " + plain.descriptor().digest() + ": truncated tar at byte 600 while reading entry a");
  }

  @Test
  void wrongMediaTypeOrMagicNamesTheDigest() throws IOException {
    Blob l = blob(new L().file("a", "1"));
    Blob asZstd = new Blob(new Descriptor(MediaTypes.OCI_LAYER_ZSTD, l.descriptor().digest(), l.bytes().length), l.bytes());
    assertThatThrownBy(() -> run(merge(asZstd)))
        .isInstanceOf(CompressionException.class)
        .hasMessage("layer " + l.descriptor().digest() + ": declared zstd but the data starts with gzip magic");
    Blob asJson = new Blob(new Descriptor(MediaTypes.OCI_CONFIG, l.descriptor().digest(), l.bytes().length), l.bytes());
    assertThatThrownBy(() -> run(merge(asJson)))
        .hasMessage("layer " + l.descriptor().digest() + ": not a layer media type: '" + MediaTypes.OCI_CONFIG + "'");
  }

  @Test
  void corruptHeaderChecksumNamesLayerAndOffset() throws IOException {
    byte[] tar = new L().file("a", "1").file("b", "2").tar();
    tar[1024 + 3] ^= 0x20;
    Blob l = new Blob(new Descriptor(MediaTypes.OCI_LAYER_TAR, Digest.sha256(tar), tar.length), tar);
    assertThatThrownBy(() -> run(merge(l)))
        .isInstanceOf(TarException.class)
        .hasMessageStartingWith("layer " + l.descriptor().digest() + ": bad header checksum at byte 1024");
  }

  @Test
  void decompressionBombIsStoppedNamingTheDigest() throws IOException {
    // 64 MiB of zeros as one file (~64 KiB gzipped); a lowered limit keeps the test fast.
    ByteArrayOutputStream gz = new ByteArrayOutputStream();
    try (OutputStream z = dev.basalt.oci.compress.LayerStreams.compress(gz, Compression.GZIP, 1)) {
      TarWriter w = new TarWriter(z);
      long size = 64L << 20;
      w.add(TarHeader.builder("zeros", TarType.REGULAR).size(size).build(), new InputStream() {
        long left = size;
        @Override public int read() { return left-- > 0 ? 0 : -1; }
        @Override public int read(byte[] b, int off, int len) {
          if (left == 0) return -1;
          int n = (int) Math.min(len, left);
          Arrays.fill(b, off, off + n, (byte) 0);
          left -= n;
          return n;
        }
      });
      w.finish();
    }
    byte[] bytes = gz.toByteArray();
    Blob bomb = new Blob(new Descriptor(MediaTypes.OCI_LAYER_GZIP, Digest.sha256(bytes), bytes.length), bytes);
    assertThatThrownBy(() -> run(merge(bomb).limits(DecompressionLimits.DEFAULT.withMaxRatio(100, 1 << 20))))
        .isInstanceOf(CompressionException.class)
        .hasMessageStartingWith("layer " + bomb.descriptor().digest() + ": compression ratio above 100:1");
    assertThatThrownBy(() -> run(merge(bomb).limits(DecompressionLimits.UNLIMITED.withMaxBytes(8 << 20))))
        .hasMessageStartingWith("layer " + bomb.descriptor().digest() + ": decompresses to more than 8388608 bytes");
  }

  @Test
  void sinkRejectionsNameTheLayerAndEntry() throws IOException {
    Blob l = blob(new L().fifo("p"));
    TreeSink refusing = new TreeSink() {
      @Override public void add(TreeEntry e, InputStream c) throws IOException {
        if (e instanceof TreeEntry.Fifo) throw new TreeException(e.path(), "fifos not supported here");
      }
      @Override public void finish() {}
    };
    assertThatThrownBy(() -> LayerMerge.builder().layer(l.descriptor(), () -> new ByteArrayInputStream(l.bytes())).build().into(refusing))
        .isInstanceOf(LayerMergeException.class)
        .hasMessage("layer " + l.descriptor().digest() + ": entry 'p': /p: fifos not supported here");
  }

  @Test
  void outputOrderIsDeterministic() throws IOException {
    List<List<String>> runs = new ArrayList<>();
    for (int i = 0; i < 2; i++) {
      Blob l1 = blob(new L().dir("z/", 0755).file("z/a", "1").file("m", "1").dir("a/", 0700));
      Blob l2 = blob(new L().file("z/b", "2").file("b", "2"));
      runs.add(new ArrayList<>(run(merge(l1, l2)).entries.keySet()));
    }
    assertThat(runs.get(0)).isEqualTo(runs.get(1)).containsExactly("z/b", "b", "z/a", "m", "", "a", "z");
  }
  @Test
  void aLargeLayerMergesRepeatablyWithoutRereads() throws IOException {
    // 48 MiB in 1,536 files; speed is measured in MergeBench / bench/, never asserted here.
    byte[] chunk = new byte[32 * 1024];
    java.util.Random rnd = new java.util.Random(3);
    for (int i = 0; i < chunk.length; i++) chunk[i] = (byte) ("etaoin shrdlu\n".charAt(rnd.nextInt(14)));
    ByteArrayOutputStream gz = new ByteArrayOutputStream();
    LayerWriter w = LayerWriter.create(gz, Compression.GZIP, 1);
    dev.basalt.fs.tree.Metadata m = dev.basalt.fs.tree.Metadata.of(0644, 0, 0, 0);
    for (int d = 0; d < 48; d++) {
      for (int f = 0; f < 32; f++) {
        w.add(new TreeEntry.RegularFile(String.format("d%02d/f%02d", d, f), m, chunk.length), new ByteArrayInputStream(chunk));
      }
    }
    w.finish();
    LayerWriter.Result lr = w.result();
    byte[] blob = gz.toByteArray();
    for (int run = 0; run < 2; run++) {
      TarTreeSink sink = new TarTreeSink(OutputStream.nullOutputStream());
      LayerMerge.Result r = LayerMerge.builder().layer(new Descriptor(lr.mediaType(), lr.digest(), lr.size()),
          () -> new ByteArrayInputStream(blob)).build().into(sink);
      sink.finish();
      assertThat(r.rereads()).isZero();
      assertThat(r.regularFiles()).isEqualTo(48 * 32);
      assertThat(r.contentBytes()).isEqualTo(48L * 32 * chunk.length);
    }
  }
}

package dev.basalt.fs.erofs;

import static org.assertj.core.api.Assertions.assertThat;

import dev.basalt.fs.tree.DirectoryTreeReader;
import dev.basalt.fs.tree.Metadata;
import dev.basalt.fs.tree.TestTrees;
import dev.basalt.fs.tree.TreeEntry;
import dev.basalt.fs.tree.TreeSnapshot;
import dev.basalt.testkit.Tools;
import java.io.InputStream;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Writing into a region of a disk image, and a 5 GiB sparse file. */
class ErofsWriterOutputsTest {
  @TempDir Path tmp;

  @Test
  void writesOnlyInsideItsRegionAndTheKernelMountsIt() throws Exception {
    Path src = tmp.resolve("src");
    Files.createDirectories(src.resolve("etc"));
    Files.writeString(src.resolve("etc/hostname"), "basalt\n");
    TestTrees.write(src.resolve("blob"), TestTrees.random(new java.util.Random(3), 3 * 1024 * 1024 + 17));
    Files.createSymbolicLink(src.resolve("link"), Path.of("etc/hostname"));
    Path plain = tmp.resolve("plain.erofs");
    ErofsWriter.Result r = Images.write(src, plain, b -> b);

    Path disk = tmp.resolve("disk.img");
    byte[] fill = new byte[1 << 20];
    Arrays.fill(fill, (byte) 0xAB);
    try (FileChannel ch = FileChannel.open(disk, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
      for (int i = 0; i < 16; i++) ch.write(ByteBuffer.wrap(fill));
    }
    long offset = 1 << 20;
    try (FileChannel ch = FileChannel.open(disk, StandardOpenOption.READ, StandardOpenOption.WRITE);
        ErofsWriter w = ErofsWriter.builder().output(ch, offset, 8L << 20).build()) {
      DirectoryTreeReader.of(src).feed(w);
      w.finish();
      assertThat(w.result()).isEqualTo(r);
      assertThat(ch.isOpen()).isTrue(); // the caller's channel stays open
    }
    byte[] all = Files.readAllBytes(disk);
    assertThat(all).hasSize(16 << 20);
    assertThat(Arrays.equals(all, (int) offset, (int) (offset + r.imageBytes()), Files.readAllBytes(plain), 0,
        (int) r.imageBytes())).as("region bytes equal the plain image").isTrue();
    assertThat(allEqual(all, 0, (int) offset, (byte) 0xAB)).as("bytes before the region untouched").isTrue();
    assertThat(allEqual(all, (int) (offset + r.imageBytes()), all.length, (byte) 0xAB))
        .as("bytes after the image untouched").isTrue();
    TreeSnapshot mounted = Images.mounted(disk, tmp.resolve("mnt"), ",offset=" + offset + ",sizelimit=" + r.imageBytes(),
        TreeSnapshot::of);
    assertThat(TreeSnapshot.of(src).diff(mounted)).isEmpty();
  }

  @Test
  void fiveGibSparseFileTakesAlmostNoSpaceAndReadsBackExactly() throws Exception {
    long size = (5L << 30) + 100;
    Map<Long, String> markers = Map.of(0L, "HEAD", (4L << 30) + 12345, "PAST-4-GIB", size - 8, "THE-END!");
    Path img = tmp.resolve("sparse.erofs");
    ErofsWriter.Result r;
    try (ErofsWriter w = ErofsWriter.builder().output(img).build()) {
      w.add(new TreeEntry.Directory("", Metadata.of(0755, 0, 0, 1_000)), null);
      w.add(new TreeEntry.RegularFile("var/disk.raw", Metadata.of(0600, 0, 0, 1_000), size), new MarkedZeros(size, markers));
      w.finish();
      r = w.result();
    }
    assertThat(r.imageBytes()).isLessThan(2L << 20);
    assertThat(Files.size(img)).isEqualTo(r.imageBytes());
    assertThat(Images.dumpInode(img, "/var/disk.raw")).contains("Size: " + size).contains("Layout: 4")
        .contains("Inode size: 64");
    Images.assertClean(img); // fsck.erofs walks the whole chunk map
    Images.mounted(img, tmp.resolve("mnt"), m -> {
      Path f = m.resolve("var/disk.raw");
      assertThat(Files.size(f)).isEqualTo(size);
      try (RandomAccessFile raf = new RandomAccessFile(f.toFile(), "r")) {
        for (var e : markers.entrySet()) {
          byte[] got = new byte[e.getValue().length()];
          raf.seek(e.getKey());
          raf.readFully(got);
          assertThat(new String(got, StandardCharsets.US_ASCII)).isEqualTo(e.getValue());
        }
        byte[] zeros = new byte[1 << 16];
        raf.seek(3L << 30);
        raf.readFully(zeros);
        assertThat(allEqual(zeros, 0, zeros.length, (byte) 0)).isTrue();
      }
      return null;
    });
    assertThat(Tools.check("du", "-k", img.toString()).split("\\s+")[0]).satisfies(k -> assertThat(Long.parseLong(k)).isLessThan(4096));
  }

  static boolean allEqual(byte[] b, int from, int to, byte v) {
    for (int i = from; i < to; i++) if (b[i] != v) return false;
    return true;
  }

  /** {@code size} zero bytes with ASCII markers at given offsets, generated on the fly. */
  static final class MarkedZeros extends InputStream {
    private final long size;
    private final Map<Long, String> markers;
    private long pos;

    MarkedZeros(long size, Map<Long, String> markers) {
      this.size = size;
      this.markers = markers;
    }

    @Override
    public int read() {
      byte[] one = new byte[1];
      return read(one, 0, 1) < 0 ? -1 : one[0] & 0xFF;
    }

    @Override
    public int read(byte[] b, int off, int len) {
      if (pos >= size) return -1;
      int n = (int) Math.min(len, size - pos);
      Arrays.fill(b, off, off + n, (byte) 0);
      for (var e : markers.entrySet()) {
        byte[] m = e.getValue().getBytes(StandardCharsets.US_ASCII);
        for (int i = 0; i < m.length; i++) {
          long at = e.getKey() + i;
          if (at >= pos && at < pos + n) b[off + (int) (at - pos)] = m[i];
        }
      }
      pos += n;
      return n;
    }
  }
}

package dev.basalt.fs.diskimage;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.basalt.testkit.Tools;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class DiskImagesTest {
  static final long MiB = 1 << 20;
  @TempDir Path dir;

  @BeforeAll
  static void tools() { Tools.require("qemu-img"); }

  /** A sparse raw image with random data scattered over several 512 MiB qcow2 L2 ranges and at the very end. */
  Path raw(String name, long size, long seed) throws IOException {
    Path p = dir.resolve(name);
    Random r = new Random(seed);
    try (FileChannel ch = FileChannel.open(p, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
      long[][] extents = {{0, 3 * MiB}, {10 * MiB + 512, 700_000}, {511 * MiB, 2 * MiB}, {size - 1000, 1000},
          {size / 2, 64 * 1024}};
      for (long[] e : extents) {
        if (e[0] + e[1] > size) continue;
        byte[] b = new byte[(int) e[1]];
        r.nextBytes(b);
        ch.write(ByteBuffer.wrap(b), e[0]);
      }
      if (ch.size() < size) ch.write(ByteBuffer.allocate(1), size - 1);
    }
    return p;
  }

  static void identical(Path raw, Path image, String format) {
    Tools.Result r = Tools.run(List.of("qemu-img", "compare", "-f", "raw", "-F", format, raw.toString(), image.toString()));
    assertThat(r.exitCode()).as("qemu-img compare: %s %s", r.stdout(), r.stderr()).isZero();
    assertThat(r.stdout()).contains("Images are identical");
  }

  static String info(Path image, String format) {
    return Tools.check("qemu-img", "info", "-f", format, "--output=json", image.toString());
  }

  @Test
  void qcow2IsCleanIdenticalAndCompact() throws IOException {
    long size = 1300 * MiB + 3 * 512; // three L2 ranges, a partial last cluster
    Path raw = raw("disk.raw", size, 1);
    Path q = dir.resolve("disk.qcow2");
    ConversionResult r = DiskImages.convert(raw, q, DiskImageFormat.QCOW2);
    Tools.Result check = Tools.run(List.of("qemu-img", "check", "-f", "qcow2", q.toString()));
    assertThat(check.exitCode()).as(check.stdout() + check.stderr()).isZero();
    assertThat(check.stdout()).contains("No errors were found").doesNotContain("leaked");
    identical(raw, q, "qcow2");
    assertThat(info(q, "qcow2")).contains("\"virtual-size\": " + size).contains("\"compat\": \"1.1\"")
        .contains("\"cluster-size\": 65536");
    assertThat(r.virtualSize()).isEqualTo(size);
    assertThat(r.fileSize()).isEqualTo(Files.size(q)).isLessThan(10 * MiB);
    assertThat(r.dataClusters()).isBetween(80L, 100L);
    assertThat(r.dataClusters() + r.zeroClusters()).isEqualTo(Math.ceilDiv(size, 65536));

    Path again = dir.resolve("again.qcow2");
    DiskImages.convert(raw, again, DiskImageFormat.QCOW2);
    assertThat(Files.mismatch(q, again)).as("deterministic").isEqualTo(-1L);
  }

  @Test
  void qcow2OfAllZeroAndAllDataDisks() throws IOException {
    Path zeros = dir.resolve("zeros.raw");
    try (FileChannel ch = FileChannel.open(zeros, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
      ch.write(ByteBuffer.allocate(1), 64 * MiB - 1);
    }
    Path full = dir.resolve("full.raw");
    byte[] b = new byte[(int) (9 * MiB)];
    new Random(2).nextBytes(b);
    Files.write(full, b);
    for (Path raw : List.of(zeros, full)) {
      Path q = dir.resolve(raw.getFileName() + ".qcow2");
      DiskImages.convert(raw, q, DiskImageFormat.QCOW2);
      Tools.check("qemu-img", "check", "-f", "qcow2", q.toString());
      identical(raw, q, "qcow2");
    }
  }

  @Test
  void vhdFixedIsIdenticalAndAzureSized() throws IOException {
    long size = 700 * MiB;
    Path raw = raw("disk.raw", size, 3);
    Path v = dir.resolve("disk.vhd");
    ConversionResult r = DiskImages.convert(raw, v, DiskImageFormat.VHD, "node-7");
    assertThat(Files.size(v)).isEqualTo(size + 512);
    identical(raw, v, "vpc");
    assertThat(info(v, "vpc")).contains("\"virtual-size\": " + size);
    assertThat(r.fileSize()).isEqualTo(size + 512);
    byte[] footer = new byte[512];
    try (FileChannel ch = FileChannel.open(v)) {
      ch.read(ByteBuffer.wrap(footer), size);
    }
    assertThat(new String(footer, 0, 8)).isEqualTo("conectix");
    assertThat(ByteBuffer.wrap(footer).getInt(60)).as("disk type fixed").isEqualTo(2);

    Path odd = raw("odd.raw", 5 * MiB + 512, 4);
    Path out = dir.resolve("odd.vhd");
    assertThatThrownBy(() -> DiskImages.convert(odd, out, DiskImageFormat.VHD))
        .hasMessageContaining("multiple of 1 MiB").hasMessageContaining(Long.toString(5 * MiB + 512));
    assertThat(out).doesNotExist();
  }

  @Test
  void vmdkStreamOptimizedIsCleanAndIdentical() throws IOException {
    long size = 600 * MiB + 512;
    Path raw = raw("disk.raw", size, 5);
    Path v = dir.resolve("disk.vmdk");
    DiskImages.convert(raw, v, DiskImageFormat.VMDK);
    Tools.Result check = Tools.run(List.of("qemu-img", "check", "-f", "vmdk", v.toString()));
    assertThat(check.exitCode()).as(check.stdout() + check.stderr()).isZero();
    identical(raw, v, "vmdk");
    assertThat(info(v, "vmdk")).contains("\"virtual-size\": " + size).contains("\"create-type\": \"streamOptimized\"")
        .contains("\"compressed\": true");
    Path again = dir.resolve("again.vmdk");
    DiskImages.convert(raw, again, DiskImageFormat.VMDK);
    // same name in the descriptor: rename before comparing bytes
    Path same = dir.resolve("x/disk.vmdk");
    Files.createDirectories(same.getParent());
    DiskImages.convert(raw, same, DiskImageFormat.VMDK);
    assertThat(Files.mismatch(v, same)).as("deterministic").isEqualTo(-1L);

    Path odd = dir.resolve("odd.raw");
    Files.write(odd, new byte[1000]);
    assertThatThrownBy(() -> DiskImages.convert(odd, dir.resolve("odd.vmdk"), DiskImageFormat.VMDK))
        .hasMessageContaining("multiple of 512").hasMessageContaining("1000 bytes");
    assertThat(dir.resolve("odd.vmdk")).doesNotExist();
  }

  @Test
  void rawCopyIsSparseAndEqual() throws IOException {
    long size = 300 * MiB;
    Path raw = raw("disk.raw", size, 6);
    Path out = dir.resolve("copy.raw");
    ConversionResult r = DiskImages.convert(raw, out, DiskImageFormat.RAW);
    assertThat(Files.size(out)).isEqualTo(size);
    assertThat(Files.mismatch(raw, out)).isEqualTo(-1L);
    long blocks = Long.parseLong(Tools.check("stat", "-c", "%b", out.toString()).strip());
    assertThat(blocks * 512).as("allocated bytes").isLessThan(20 * MiB);
    assertThat(r.dataClusters()).isLessThan(r.zeroClusters());
  }

  @ParameterizedTest
  @EnumSource(DiskImageFormat.class)
  void refusesToOverwriteItsInput(DiskImageFormat f) throws IOException {
    Path raw = raw("self.raw", 2 * MiB, 7);
    assertThatThrownBy(() -> DiskImages.convert(raw, raw, f)).hasMessageContaining("is the raw input itself");
    assertThat(Files.size(raw)).isEqualTo(2 * MiB);
  }
}

package dev.basalt.image.initramfs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.basalt.image.testing.Cpio;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.ValueSource;

class InitramfsTest {
  private static final String KVER = "6.1.0-99-amd64";

  enum Packing {
    NONE(Compression.NONE, b -> b),
    GZIP(Compression.GZIP, Cpio::gzip),
    ZSTD(Compression.ZSTD, Cpio::zstd),
    XZ(Compression.XZ, Cpio::xz);

    final Compression compression;
    final UnaryOperator<byte[]> pack;

    Packing(Compression compression, UnaryOperator<byte[]> pack) {
      this.compression = compression;
      this.pack = pack;
    }
  }

  private static Initramfs read(byte[] image) throws IOException {
    return Initramfs.read(new ByteArrayInputStream(image), "test.img");
  }

  /** The early microcode archive Debian puts first, uncompressed and padded to 512 bytes. */
  private static byte[] early() {
    return Cpio.newc().dir("kernel").dir("kernel/x86").dir("kernel/x86/microcode")
        .file("kernel/x86/microcode/GenuineIntel.bin", "microcode").bytes(512);
  }

  private static final int EARLY = early().length;

  static {
    assertThat(EARLY).isEqualTo(1024);
  }

  @ParameterizedTest
  @EnumSource(Packing.class)
  void readsEachCompressionAloneAndAfterAnEarlyCpio(Packing packing) throws IOException {
    byte[] main = Cpio.initramfsTree(KVER, "erofs/erofs", "overlayfs/overlay").bytes();
    for (boolean withEarly : List.of(false, true)) {
      byte[] image = withEarly ? Cpio.concat(early(), packing.pack.apply(main)) : packing.pack.apply(main);
      Initramfs r = read(image);

      assertThat(r.compression()).isEqualTo(packing.compression);
      assertThat(r.archives()).hasSize(withEarly ? 2 : 1);
      if (withEarly) {
        assertThat(r.archives().get(0)).isEqualTo(new Archive(0, Compression.NONE, "newc", 4));
        assertThat(r.archives().get(1).offset()).isEqualTo(EARLY);
        assertThat(r.entry("kernel/x86/microcode/GenuineIntel.bin")).get()
            .extracting(InitramfsEntry::size, InitramfsEntry::archive).containsExactly(9L, 0);
      }
      assertThat(r.entry("")).get().extracting(InitramfsEntry::kind).isEqualTo(InitramfsEntry.Kind.DIRECTORY);
      assertThat(r.entry("lib")).get().extracting(InitramfsEntry::linkTarget).isEqualTo("usr/lib");
      assertThat(r.entry("init")).get().extracting(InitramfsEntry::mode, InitramfsEntry::size)
          .containsExactly(0100644, 26L);
      assertThat(r.kernelVersions()).containsExactly(KVER);
      assertThat(r.module("erofs")).contains(new KernelModule("erofs", KVER,
          "usr/lib/modules/" + KVER + "/kernel/fs/erofs/erofs.ko", false));
      assertThat(r.module("overlay")).get().extracting(KernelModule::path)
          .isEqualTo("usr/lib/modules/" + KVER + "/kernel/fs/overlayfs/overlay.ko");
      assertThat(r.module("overlayfs")).isEmpty();
      assertThat(r.module("ext4", KVER)).contains(new KernelModule("ext4", KVER,
          "usr/lib/modules/" + KVER + "/modules.builtin", true));
      assertThat(r.module("erofs", "5.10.0-1-amd64")).isEmpty();
    }
  }

  @Test
  void readsSeveralArchivesInsideOneCompressedStreamAndZeroPadding() throws IOException {
    byte[] inner = Cpio.concat(Cpio.newc().file("a", "1").bytes(512), new byte[64],
        Cpio.crc().file("b", "22").bytes());
    Initramfs r = read(Cpio.concat(early(), new byte[512], Cpio.zstd(inner)));
    assertThat(r.archives()).extracting(Archive::offset, Archive::compression, Archive::format, Archive::entries)
        .containsExactly(
            org.assertj.core.groups.Tuple.tuple(0L, Compression.NONE, "newc", 4),
            org.assertj.core.groups.Tuple.tuple(EARLY + 512L, Compression.ZSTD, "newc", 1),
            org.assertj.core.groups.Tuple.tuple(EARLY + 512L, Compression.ZSTD, "crc", 1));
    assertThat(r.entries()).extracting(InitramfsEntry::path).endsWith("a", "b");
  }

  @Test
  void aLaterArchiveOverridesAnEarlierPath() throws IOException {
    byte[] image = Cpio.concat(Cpio.newc().file("etc/x", "old").bytes(), Cpio.gzip(Cpio.newc().file("etc/x", "newer").bytes()));
    Initramfs r = read(image);
    assertThat(r.entries()).hasSize(2);
    assertThat(r.entry("etc/x")).get().extracting(InitramfsEntry::size, InitramfsEntry::archive).containsExactly(5L, 1);
  }

  @ParameterizedTest
  @ValueSource(strings = {"erofs.ko", "erofs.ko.xz", "erofs.ko.zst", "erofs.ko.gz"})
  void findsCompressedModulesAndTreatsDashAsUnderscore(String file) throws IOException {
    String dir = "lib/modules/" + KVER + "/kernel/fs/";
    byte[] image = Cpio.newc().file(dir + "erofs/" + file, "m").file(dir + "fuse/cuse-x.ko", "m").bytes();
    Initramfs r = read(Cpio.gzip(image));
    assertThat(r.module("erofs")).get().extracting(KernelModule::path).isEqualTo(dir + "erofs/" + file);
    assertThat(r.module("erofs.ko")).isPresent();
    assertThat(r.module("cuse_x")).isPresent();
    assertThat(r.module("cuse-x")).isPresent();
  }

  @Test
  void findsModulesBuiltIntoTheKernel() throws IOException {
    byte[] image = Cpio.newc().file("usr/lib/modules/" + KVER + "/modules.builtin",
        "kernel/fs/ext4/ext4.ko\nkernel/fs/erofs/erofs.ko\nkernel/fs/overlayfs/overlay.ko\n").bytes();
    Initramfs r = read(image);
    assertThat(r.module("erofs")).contains(new KernelModule("erofs", KVER,
        "usr/lib/modules/" + KVER + "/modules.builtin", true));
    assertThat(r.module("overlay")).get().extracting(KernelModule::builtin).isEqualTo(true);
    assertThat(r.module("squashfs")).isEmpty();
  }

  @Test
  void verifiesCrcChecksums() throws IOException {
    byte[] good = Cpio.crc().file("data", "hello").bytes();
    assertThat(read(good).archives()).singleElement().extracting(Archive::format).isEqualTo("crc");
    byte[] bad = good.clone();
    int at = indexOf(bad, "hello".getBytes());
    bad[at] = 'j';
    assertThatThrownBy(() -> read(bad)).isInstanceOf(InitramfsException.class)
        .hasMessage("test.img: checksum mismatch for 'data' (data at offset 116): header says 0x214,"
            + " data sums to 0x216");
  }

  @ParameterizedTest
  @EnumSource(Packing.class)
  void rejectsTruncatedImages(Packing packing) {
    byte[] full = packing.pack.apply(Cpio.initramfsTree(KVER, "erofs/erofs").bytes());
    for (int cut : List.of(full.length / 3, full.length / 2, full.length - 9)) {
      byte[] image = Arrays.copyOf(Cpio.concat(early(), full), EARLY + cut);
      assertThatThrownBy(() -> read(image)).as("cut at %d of %d", cut, full.length)
          .isInstanceOf(InitramfsException.class)
          .hasMessageStartingWith(packing == Packing.NONE ? "test.img" : "the " + packing.compression.id()
              + " stream at offset " + EARLY + " of test.img")
          .hasMessageMatching("(?s).*(truncated|corrupt|without a TRAILER).*");
    }
  }

  @ParameterizedTest
  @EnumSource(value = Packing.class, names = {"GZIP", "ZSTD", "XZ"})
  void rejectsCorruptCompressedData(Packing packing) {
    byte[] image = packing.pack.apply(Cpio.initramfsTree(KVER, "erofs/erofs").bytes());
    for (int i = image.length / 2; i < image.length / 2 + 8; i++) image[i] ^= 0x55;
    assertThatThrownBy(() -> read(image)).isInstanceOf(InitramfsException.class)
        .hasMessageStartingWith("the " + packing.compression.id() + " stream at offset 0 of test.img");
  }

  @Test
  void rejectsBadHeadersWithTheirOffset() {
    byte[] archive = Cpio.newc().file("a", "x").file("b", "y").bytes();
    byte[] badMagic = archive.clone();
    badMagic[116] = 'X'; // the second header: 110 + "a\0" + "x" + 3 bytes of padding
    assertThatThrownBy(() -> read(badMagic)).isInstanceOf(InitramfsException.class)
        .hasMessage("test.img: bad cpio magic 'X70701' at offset 116 (expected 070701 or 070702;"
            + " old binary or odc cpio is not an initramfs format)");
    byte[] badHex = archive.clone();
    badHex[6 + 6 * 8] = 'Z'; // filesize of the first entry
    assertThatThrownBy(() -> read(badHex)).isInstanceOf(InitramfsException.class)
        .hasMessage("test.img: bad cpio header at offset 0: field filesize is not hexadecimal: 'Z0000001'");
    byte[] garbage = "hello world, not an initramfs".getBytes();
    assertThatThrownBy(() -> read(garbage)).isInstanceOf(InitramfsException.class)
        .hasMessage("test.img: unknown data at offset 0 (bytes 68 65 6c 6c 6f 20 77 6f): neither a cpio archive"
            + " nor a known compression");
    byte[] trailing = Cpio.concat(archive, "junk".getBytes());
    assertThatThrownBy(() -> read(trailing)).isInstanceOf(InitramfsException.class)
        .hasMessageStartingWith("test.img: unknown data at offset " + archive.length);
    assertThatThrownBy(() -> read(new byte[1024])).isInstanceOf(InitramfsException.class)
        .hasMessage("test.img: no cpio archive found (empty image?)");
  }

  @ParameterizedTest
  @ValueSource(strings = {"lz4:04224d18", "lz4:02214c18", "lzma:5d000080", "bzip2:425a6839", "lzo:894c5a4f"})
  void refusesUnsupportedCompressionsByName(String spec) {
    String name = spec.substring(0, spec.indexOf(':'));
    byte[] magic = java.util.HexFormat.of().parseHex(spec.substring(spec.indexOf(':') + 1));
    byte[] image = Cpio.concat(early(), magic, new byte[100]);
    image[EARLY + magic.length] = 1;
    assertThatThrownBy(() -> read(image)).isInstanceOf(InitramfsException.class)
        .hasMessageStartingWith("test.img: unsupported compression " + name + " for the archive at offset " + EARLY
            + " (Basalt reads gzip, zstd, xz and uncompressed cpio; with initramfs-tools set COMPRESS=zstd");
  }

  @Test
  void readsFromAFileAndNamesItInErrors(@TempDir Path tmp) throws IOException {
    Path f = tmp.resolve("initrd.img");
    Files.write(f, Cpio.zstd(Cpio.initramfsTree(KVER, "erofs/erofs").bytes()));
    assertThat(Initramfs.read(f).name()).isEqualTo(f.toString());
    Files.write(f, Arrays.copyOf(Files.readAllBytes(f), 40));
    assertThatThrownBy(() -> Initramfs.read(f)).hasMessageStartingWith("the zstd stream at offset 0 of " + f);
  }

  private static int indexOf(byte[] hay, byte[] needle) {
    outer:
    for (int i = 0; i + needle.length <= hay.length; i++) {
      for (int j = 0; j < needle.length; j++) if (hay[i + j] != needle[j]) continue outer;
      return i;
    }
    throw new AssertionError("not found");
  }
}

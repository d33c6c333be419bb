package dev.basalt.fs.fat;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.basalt.testkit.Tools;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.LocalDateTime;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class Fat32BuilderTest {
  static final long MiB = 1 << 20;
  @TempDir Path dir;

  @BeforeAll
  static void tools() {
    for (String t : List.of("fsck.fat", "mdir", "mcopy", "fatlabel")) Tools.require(t);
  }

  static byte[] random(int n, long seed) {
    byte[] b = new byte[n];
    new Random(seed).nextBytes(b);
    return b;
  }

  /** A tree with every awkward case: path → content. */
  static Map<String, byte[]> richTree() {
    Map<String, byte[]> t = new LinkedHashMap<>();
    t.put("EFI/BOOT/BOOTX64.EFI", random(150_000, 1));
    t.put("loader/loader.conf", "timeout 3\neditor no\n".getBytes());
    t.put("loader/entries/basalt-00000002-b+3.conf", "title Basalt b\nlinux /basalt/b/vmlinuz\n".getBytes());
    t.put("loader/entries/basalt-00000001-a.conf", "title Basalt a\n".getBytes());
    t.put("basalt/a/vmlinuz", random(5 * (int) MiB + 123, 2));
    t.put("basalt/a/initrd.img", random(700_001, 3));
    t.put("Mixed Case Name With Spaces.Text", "mixed".getBytes());
    t.put("readme.txt", "lower 8.3".getBytes());
    t.put("README2.TXT", "upper 8.3, no long name".getBytes());
    t.put("ünïcødé ✓.txt", "unicode".getBytes());
    t.put("L".repeat(200) + "/" + "n".repeat(251) + ".bin", "255 chars".getBytes());
    t.put("longfilename1.txt", "1".getBytes());
    t.put("longfilename2.txt", "2".getBytes());
    t.put("a/b/c/d/e/f/g/deep.txt", "deep".getBytes());
    t.put("empty", new byte[0]);
    t.put(".hidden-ish", "dot".getBytes());
    t.put("exactly4096", random(4096, 4));
    for (int i = 0; i < 300; i++) t.put("many/entry number " + i + ".conf", ("#" + i).getBytes());
    return t;
  }

  static Fat32Builder builder(Map<String, byte[]> tree) {
    Fat32Builder b = Fat32Builder.create().label("Basalt ESP").seed("node-1")
        .timestamp(LocalDateTime.of(2024, 5, 17, 13, 45, 30));
    tree.forEach(b::file);
    b.directory("empty-dir/inner");
    return b;
  }

  static void fsckClean(Path img) {
    Tools.Result r = Tools.run(List.of("fsck.fat", "-n", "-V", img.toString()));
    assertThat(r.exitCode()).as("fsck.fat -n:\n%s\n%s", r.stdout(), r.stderr()).isZero();
    assertThat(r.stdout() + r.stderr()).doesNotContainIgnoringCase("warning").doesNotContain("differences")
        .doesNotContainIgnoringCase("label").doesNotContain("Free cluster summary");
  }

  void assertReadBack(String image, Map<String, byte[]> tree) throws IOException {
    int i = 0;
    for (var e : tree.entrySet()) {
      Path out = dir.resolve("out" + i++);
      Tools.check("mcopy", "-n", "-i", image, "::" + e.getKey(), out.toString());
      assertThat(Files.readAllBytes(out)).as(e.getKey()).isEqualTo(e.getValue());
      Files.delete(out);
    }
  }

  @Test
  void fsckCleanAndMtoolsReadsEveryFileBack() throws IOException {
    Map<String, byte[]> tree = richTree();
    Path img = dir.resolve("esp.img");
    Fat32Result r = builder(tree).writeTo(img, 64 * MiB);
    assertThat(Files.size(img)).isEqualTo(64 * MiB);
    fsckClean(img);
    assertReadBack(img.toString(), tree);

    String root = Tools.check("mdir", "-i", img.toString(), "::/");
    assertThat(root).contains("Volume in drive : is BASALT ESP").contains("Volume Serial Number is " + r.volumeIdText())
        .contains("Mixed Case Name With Spaces.Text").contains("ünïcødé ✓.txt").contains("LONGFI~1 TXT")
        .contains("LONGFI~2 TXT").contains("2024-05-17  13:45");
    assertThat(root.lines().filter(l -> l.startsWith("README2  TXT")).toList()).singleElement()
        .satisfies(l -> assertThat(l.strip()).endsWith("13:45")); // exact 8.3 upper-case name: no long name
    String many = Tools.check("mdir", "-b", "-i", img.toString(), "::/many");
    assertThat(many.lines().filter(l -> l.endsWith(".conf")).count()).isEqualTo(300);
    assertThat(Tools.check("mdir", "-b", "-i", img.toString(), "::/empty-dir")).contains("inner");
    assertThat(Tools.check("fatlabel", img.toString()).strip()).isEqualTo("BASALT ESP");
    assertThat(r.label()).isEqualTo("BASALT ESP");
    assertThat(r.layout().clusterBytes()).isEqualTo(512);
  }

  @Test
  void sameInputSameBytes() throws IOException {
    Path a = dir.resolve("a");
    Path b = dir.resolve("b");
    builder(richTree()).writeTo(a, 40 * MiB);
    builder(richTree()).writeTo(b, 40 * MiB);
    assertThat(Files.mismatch(a, b)).isEqualTo(-1L);
    Fat32Result other = Fat32Builder.create().seed("node-2").writeTo(dir.resolve("c"), 40 * MiB);
    Fat32Result same = Fat32Builder.create().seed("node-2").writeTo(dir.resolve("d"), 40 * MiB);
    assertThat(other.volumeId()).isEqualTo(same.volumeId()).isNotEqualTo(builder(Map.of()).writeTo(a, 40 * MiB).volumeId());
    assertThat(other.label()).isEqualTo("NO NAME");
    fsckClean(dir.resolve("c"));
  }

  @ParameterizedTest
  @CsvSource({"33, 512", "261, 4096", "9000, 8192"})
  void geometryAcrossSizes(long mib, int clusterBytes) throws IOException {
    Path img = dir.resolve("v.img");
    Map<String, byte[]> t = Map.of("EFI/BOOT/BOOTX64.EFI", random(100_000, 5), "zero", new byte[0]);
    Fat32Result r = builder(t).writeTo(img, mib * MiB);
    assertThat(r.layout().clusterBytes()).isEqualTo(clusterBytes);
    assertThat(r.layout().clusterCount()).isGreaterThanOrEqualTo(Fat32Layout.MIN_CLUSTERS);
    assertThat(r.layout().dataOffset() % 4096).isZero();
    fsckClean(img);
    assertReadBack(img.toString(), t);
  }

  @Test
  void writesIntoARegionOfADiskOverOldData() throws IOException {
    Path disk = dir.resolve("disk.img");
    byte[] junk = new byte[(int) (40 * MiB)];
    Arrays.fill(junk, (byte) 0xA5);
    Files.write(disk, junk);
    Map<String, byte[]> t = Map.of("EFI/BOOT/BOOTX64.EFI", random(10_000, 6), "loader/loader.conf", "x".getBytes());
    try (FileChannel ch = FileChannel.open(disk, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
      builder(t).hiddenSectors(2048).writeTo(ch, MiB, 38 * MiB);
      ByteBuffer edge = ByteBuffer.allocate(1);
      ch.read(edge, MiB - 1);
      assertThat(edge.get(0)).as("byte before the region untouched").isEqualTo((byte) 0xA5);
    }
    assertReadBack(disk + "@@" + MiB, t);
    Path region = dir.resolve("region.img");
    try (FileChannel in = FileChannel.open(disk); FileChannel out = FileChannel.open(region, StandardOpenOption.CREATE_NEW,
        StandardOpenOption.WRITE)) {
      in.transferTo(MiB, 38 * MiB, out);
    }
    fsckClean(region);
  }

  @Test
  void rejectsBadNamesAndLabels() {
    Fat32Builder b = Fat32Builder.create();
    assertThatThrownBy(() -> b.file("d/" + "x".repeat(256), new byte[1])).hasMessageContaining("256 UTF-16 units")
        .hasMessageContaining("at most 255");
    assertThatThrownBy(() -> b.file("a//b", new byte[1])).hasMessageContaining("'a//b' has an empty component");
    assertThatThrownBy(() -> b.file("/abs", new byte[1])).hasMessageContaining("must be relative");
    assertThatThrownBy(() -> b.file("nul\0here", new byte[1])).hasMessageContaining("illegal character U+0000");
    for (String bad : List.of("a*b", "what?", "x:y", "p|q", "lt<", "q\"uote", "back\\slash")) {
      assertThatThrownBy(() -> b.file("dir/" + bad, new byte[1])).hasMessageContaining("'" + bad + "'")
          .hasMessageContaining("illegal character");
    }
    assertThatThrownBy(() -> b.file("trailing.", new byte[1])).hasMessageContaining("ends with '.'");
    assertThatThrownBy(() -> b.directory("..")).hasMessageContaining("uses '..'");
    b.file("Kernel.EFI", new byte[1]);
    assertThatThrownBy(() -> b.file("KERNEL.efi", new byte[1])).hasMessageContaining("already exists as 'Kernel.EFI'");
    assertThatThrownBy(() -> b.file("Kernel.EFI/x", new byte[1])).hasMessageContaining("'Kernel.EFI' is a file");
    assertThatThrownBy(() -> b.label("TOO LONG LABEL")).hasMessageContaining("1..11 characters");
    assertThatThrownBy(() -> b.label("a.b")).hasMessageContaining("illegal character '.'");
  }

  @Test
  void rejectsContentThatDoesNotFitAndRemovesTheFile() throws IOException {
    Path img = dir.resolve("full.img");
    Path big = dir.resolve("big.bin");
    try (FileChannel ch = FileChannel.open(big, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
      ch.write(ByteBuffer.allocate(1), 40 * MiB);
    }
    Fat32Builder b = Fat32Builder.create().file("small", new byte[10]).file("basalt/a/huge.img", big);
    assertThatThrownBy(() -> b.writeTo(img, 34 * MiB)).hasMessageContaining("FAT32 content needs")
        .hasMessageContaining("largest file: 'basalt/a/huge.img'");
    assertThat(img).doesNotExist();
    assertThatThrownBy(() -> Fat32Builder.create().writeTo(img, 32 * MiB)).hasMessageContaining("too small")
        .hasMessageContaining("at least 65525");
    assertThat(img).doesNotExist();
    assertThatThrownBy(() -> Fat32Layout.forSize(3L << 40)).hasMessageContaining("too large");
  }

  @Test
  void shortNamesAreUniqueAndLongNameChecksumsMatch() {
    var used = new java.util.HashSet<String>();
    assertThat(FatNames.exactShortName("BOOTX64.EFI")).isEqualTo("BOOTX64 EFI");
    assertThat(FatNames.exactShortName("bootx64.efi")).isNull();
    for (int i = 1; i <= 12; i++) {
      String s = FatNames.generateShortName("Program Files " + i + ".text", used);
      assertThat(used.add(s)).isTrue();
      assertThat(s).hasSize(11).endsWith("TEX");
    }
    assertThat(used).contains("PROGRA~1TEX", "PROGRA~9TEX", "PROGR~10TEX");
    assertThat(FatNames.generateShortName("readme.txt", used)).isEqualTo("README  TXT");
    byte[] lfn = FatNames.longNameEntries("A long name.txt", FatNames.shortBytes("ALONGN~1TXT"));
    assertThat(lfn).hasSize(64);
    assertThat(lfn[0]).isEqualTo((byte) 0x42);
    assertThat(lfn[32]).isEqualTo((byte) 0x01);
    assertThat(lfn[13] & 0xff).isEqualTo(FatNames.checksum(FatNames.shortBytes("ALONGN~1TXT")));
  }
}

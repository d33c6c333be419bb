package dev.basalt.fs.gpt;

import static dev.basalt.fs.gpt.GptPartition.*;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.basalt.testkit.Tools;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class GptTableTest {
  static final long MiB = 1 << 20;
  @TempDir Path dir;

  @BeforeAll
  static void tools() {
    Tools.require("sgdisk");
    Tools.require("sfdisk");
  }

  static GptTable basaltLayout(long diskBytes) {
    return GptTable.builder(diskBytes).seed("node-42")
        .add("esp", PartitionTypes.EFI_SYSTEM, 64 * MiB, ATTR_REQUIRED, null)
        .add("root-a", PartitionTypes.ROOT_X86_64, 100 * MiB, ATTR_READ_ONLY, null)
        .add("root-b", PartitionTypes.ROOT_X86_64, 100 * MiB, ATTR_READ_ONLY | ATTR_NO_AUTO, null)
        .add("verity-a", PartitionTypes.ROOT_VERITY_X86_64, 3 * MiB, ATTR_READ_ONLY, null)
        .add("Verity B ünïcødé", PartitionTypes.ROOT_VERITY_X86_64, 3 * MiB + 512, ATTR_READ_ONLY | ATTR_NO_AUTO,
            UUID.fromString("01234567-89ab-cdef-0123-456789abcdef"))
        .add("var-123456789012345678901234567890xy", PartitionTypes.VAR, GptTable.Builder.REST, ATTR_GROWFS, null)
        .build();
  }

  Path write(GptTable t, String name) throws IOException {
    Path disk = dir.resolve(name);
    try (FileChannel ch = FileChannel.open(disk, StandardOpenOption.CREATE_NEW, StandardOpenOption.READ,
        StandardOpenOption.WRITE)) {
      t.writeTo(ch);
    }
    return disk;
  }

  /** The partitions sfdisk --json reports, as key → value maps (a tiny parser for its fixed layout). */
  static List<Map<String, String>> sfdiskPartitions(Path disk) {
    String json = Tools.check("sfdisk", "--json", disk.toString());
    List<Map<String, String>> out = new ArrayList<>();
    Matcher obj = Pattern.compile("\\{([^{}]*\"node\"[^{}]*)\\}").matcher(json);
    while (obj.find()) {
      Map<String, String> m = new LinkedHashMap<>();
      Matcher kv = Pattern.compile("\"(\\w+)\":\\s*(\"((?:[^\"\\\\]|\\\\.)*)\"|(\\d+))").matcher(obj.group(1));
      while (kv.find()) m.put(kv.group(1), kv.group(3) != null ? kv.group(3) : kv.group(4));
      out.add(m);
    }
    return out;
  }

  static String sfdiskAttrs(long a) {
    List<String> words = new ArrayList<>();
    if ((a & ATTR_REQUIRED) != 0) words.add("RequiredPartition");
    if ((a & ATTR_LEGACY_BIOS_BOOTABLE) != 0) words.add("LegacyBIOSBootable");
    List<String> bits = new ArrayList<>();
    for (int b = 48; b < 64; b++) if ((a & (1L << b)) != 0) bits.add(Integer.toString(b));
    if (!bits.isEmpty()) words.add("GUID:" + String.join(",", bits));
    return String.join(" ", words);
  }

  @Test
  void sgdiskAndSfdiskSeeExactlyWhatWeWrote() throws IOException {
    GptTable t = basaltLayout(512 * MiB);
    Path disk = write(t, "disk.img");
    assertThat(Files.size(disk)).isEqualTo(512 * MiB);

    Tools.Result v = Tools.run(List.of("sgdisk", "-v", disk.toString()));
    assertThat(v.exitCode()).isZero();
    assertThat(v.stdout()).contains("No problems found").doesNotContain("Warning");
    // partition 5 has a deliberately odd size; every other partition must start and end aligned
    assertThat(v.stdout().lines().filter(l -> l.contains("Caution")).toList())
        .containsExactly("Caution: Partition 5 doesn't end on a 2048-sector boundary. This may");

    List<Map<String, String>> seen = sfdiskPartitions(disk);
    assertThat(seen).hasSize(6);
    for (int i = 0; i < 6; i++) {
      GptPartition p = t.partitions().get(i);
      Map<String, String> s = seen.get(i);
      assertThat(s.get("start")).isEqualTo(Long.toString(p.firstLba()));
      assertThat(s.get("size")).isEqualTo(Long.toString(p.sectors()));
      assertThat(s.get("type")).isEqualToIgnoringCase(p.type().toString());
      assertThat(s.get("uuid")).isEqualToIgnoringCase(p.uuid().toString());
      assertThat(s.get("name")).isEqualTo(p.name());
      assertThat(s.getOrDefault("attrs", "")).isEqualTo(sfdiskAttrs(p.attributes()));
      assertThat(p.firstLba() % 2048).as("1 MiB aligned").isZero();
    }
    assertThat(Tools.check("sfdisk", "--json", disk.toString()))
        .containsIgnoringCase("\"id\": \"" + t.diskGuid() + "\"");
    assertThat(t.partitions().get(4).uuid().toString()).isEqualTo("01234567-89ab-cdef-0123-456789abcdef");
    assertThat((t.partitions().get(5).lastLba() + 1) % 2048).as("REST ends on a 1 MiB boundary").isZero();

    try (FileChannel ch = FileChannel.open(disk)) {
      assertThat(GptTable.read(ch)).isEqualTo(t);
    }
  }

  @Test
  void deterministicBytesAndSeedDependence() throws IOException {
    Path a = write(basaltLayout(300 * MiB), "a");
    Path b = write(basaltLayout(300 * MiB), "b");
    assertThat(Files.mismatch(a, b)).isEqualTo(-1L);
    GptTable other = GptTable.builder(300 * MiB).seed("node-43").add("esp", PartitionTypes.EFI_SYSTEM, MiB).build();
    assertThat(other.diskGuid()).isNotEqualTo(basaltLayout(300 * MiB).diskGuid());
  }

  @Test
  void readsDisksMadeBySgdisk() throws IOException {
    Path disk = dir.resolve("sg.img");
    try (FileChannel ch = FileChannel.open(disk, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
      ch.write(ByteBuffer.allocate(1), 100 * MiB - 1);
    }
    Tools.check("sgdisk", "-n", "1:2048:+10M", "-t", "1:ef00", "-c", "1:EFI System", "-A", "1:set:0",
        "-n", "3:0:+20M", "-t", "3:8304", "-c", "3:root-a", "-A", "3:set:60", "-A", "3:set:63",
        "-n", "2:0:0", "-t", "2:8310", "-c", "2:var", disk.toString());
    GptTable t;
    try (FileChannel ch = FileChannel.open(disk)) {
      t = GptTable.read(ch);
    }
    List<Map<String, String>> seen = sfdiskPartitions(disk);
    assertThat(t.partitions()).hasSize(3);
    assertThat(t.sectors()).isEqualTo(100 * MiB / 512);
    for (Map<String, String> s : seen) {
      int number = Integer.parseInt(s.get("node").replaceAll(".*img", ""));
      GptPartition p = t.partition(number).orElseThrow();
      assertThat(p.uuid().toString()).isEqualToIgnoringCase(s.get("uuid"));
      assertThat(p.type().toString()).isEqualToIgnoringCase(s.get("type"));
      assertThat(p.name()).isEqualTo(s.get("name"));
      assertThat(p.firstLba()).isEqualTo(Long.parseLong(s.get("start")));
      assertThat(p.sectors()).isEqualTo(Long.parseLong(s.get("size")));
      assertThat(sfdiskAttrs(p.attributes())).isEqualTo(s.getOrDefault("attrs", ""));
    }
    assertThat(t.find("root-a").orElseThrow().number()).isEqualTo(3);
    assertThat(t.find("root-a").orElseThrow().has(ATTR_READ_ONLY | ATTR_NO_AUTO)).isTrue();
    assertThat(t.find("nope")).isEmpty();
  }

  @Test
  void fallsBackToBackupAndReportsBothWhenBothAreBroken() throws IOException {
    GptTable t = basaltLayout(300 * MiB);
    Path disk = write(t, "d");
    try (FileChannel ch = FileChannel.open(disk, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
      ch.write(ByteBuffer.wrap(new byte[] {0x55}), 2 * 512 + 40); // damage the primary entry array
      assertThat(GptTable.read(ch)).isEqualTo(t);
      ch.write(ByteBuffer.wrap(new byte[] {0x55}), ch.size() - 512 + 60); // damage the backup header
      assertThatThrownBy(() -> GptTable.read(ch)).isInstanceOf(GptException.class)
          .hasMessageContaining("primary header: partition entry array CRC32 mismatch at sector 2")
          .hasMessageContaining("backup header: header CRC32 mismatch at sector " + (ch.size() / 512 - 1));
    }
    Path empty = dir.resolve("empty");
    Files.write(empty, new byte[1 << 20]);
    try (FileChannel ch = FileChannel.open(empty)) {
      assertThatThrownBy(() -> GptTable.read(ch)).hasMessageContaining("no 'EFI PART' signature at sector 1");
    }
  }

  @Test
  void guidBytesAreMixedEndian() {
    assertThat(HexFormat.of().formatHex(Guids.toBytes(PartitionTypes.EFI_SYSTEM)))
        .isEqualTo("28732ac11ff8d211ba4b00a0c93ec93b");
    UUID r = UUID.randomUUID();
    assertThat(Guids.fromBytes(Guids.toBytes(r), 0)).isEqualTo(r);
    UUID d = Guids.derive("s", "l");
    assertThat(d.version()).isEqualTo(5);
    assertThat(d.variant()).isEqualTo(2);
    assertThat(d).isEqualTo(Guids.derive("s", "l")).isNotEqualTo(Guids.derive("s", "m"));
  }

  @Test
  void rejectsBadLayouts() throws IOException {
    assertThatThrownBy(() -> GptTable.builder(100 * MiB)
        .addAt("one", PartitionTypes.LINUX_DATA, 2048, 10 * MiB, 0, null)
        .addAt("two", PartitionTypes.LINUX_DATA, 2048 + 20479, MiB, 0, null).build())
        .hasMessageContaining("partition 2 'two'").hasMessageContaining("overlaps partition 1 'one'");
    assertThatThrownBy(() -> GptTable.builder(100 * MiB).add("big", PartitionTypes.LINUX_DATA, 100 * MiB).build())
        .hasMessageContaining("partition 1 'big'").hasMessageContaining("does not fit");
    assertThatThrownBy(() -> GptTable.builder(100 * MiB).addAt("early", PartitionTypes.LINUX_DATA, 10, MiB, 0, null).build())
        .hasMessageContaining("'early'").hasMessageContaining("outside the usable range 34..");
    assertThatThrownBy(() -> GptTable.builder(100 * MiB).add("x".repeat(37), PartitionTypes.LINUX_DATA, MiB))
        .hasMessageContaining("37 UTF-16 units").hasMessageContaining("at most 36");
    assertThatThrownBy(() -> GptTable.builder(100 * MiB).add("a\0b", PartitionTypes.LINUX_DATA, MiB))
        .hasMessageContaining("contains NUL");
    assertThatThrownBy(() -> GptTable.builder(100 * MiB).add("odd", PartitionTypes.LINUX_DATA, 1000))
        .hasMessageContaining("'odd'").hasMessageContaining("multiple of 512");
    assertThatThrownBy(() -> GptTable.builder(512 * 100).build()).hasMessageContaining("too small for a GPT");
    GptTable.Builder many = GptTable.builder(1024 * MiB);
    for (int i = 0; i < 128; i++) many.add("p" + i, PartitionTypes.LINUX_DATA, MiB);
    assertThatThrownBy(() -> many.add("p128", PartitionTypes.LINUX_DATA, MiB)).hasMessageContaining("too many partitions");
    assertThat(many.build().partitions()).hasSize(128);
    assertThatThrownBy(() -> GptTable.builder(100 * MiB)
        .add("a", PartitionTypes.LINUX_DATA, MiB, 0, PartitionTypes.VAR)
        .add("b", PartitionTypes.LINUX_DATA, MiB, 0, PartitionTypes.VAR).build())
        .hasMessageContaining("'b'").hasMessageContaining("used twice");

    GptTable small = GptTable.builder(10 * MiB).build();
    Path bigger = dir.resolve("bigger");
    Files.write(bigger, new byte[(int) (11 * MiB)]);
    try (FileChannel ch = FileChannel.open(bigger, StandardOpenOption.WRITE)) {
      assertThatThrownBy(() -> small.writeTo(ch)).hasMessageContaining("built for " + 10 * MiB);
    }
    assertThat(GptTable.alignUp(1)).isEqualTo(MiB);
    assertThat(GptTable.alignDown(MiB + 5)).isEqualTo(MiB);
  }
}

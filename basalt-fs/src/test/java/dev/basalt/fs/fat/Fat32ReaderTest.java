package dev.basalt.fs.fat;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.basalt.testkit.Tools;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class Fat32ReaderTest {
  static final long MiB = 1 << 20;
  @TempDir Path dir;

  @BeforeAll
  static void tools() {
    Tools.require("mkfs.fat");
    Tools.require("mcopy");
    Tools.require("mmd");
  }

  @Test
  void readsOurVolumeAndRewritesItIdentically() throws IOException {
    Map<String, byte[]> tree = Fat32BuilderTest.richTree();
    Path img = dir.resolve("esp.img");
    Fat32Result written = Fat32BuilderTest.builder(tree).writeTo(img, 48 * MiB);
    Fat32Builder copy = Fat32Builder.create().seed("node-1").timestamp(LocalDateTime.of(2024, 5, 17, 13, 45, 30));
    try (FileChannel ch = FileChannel.open(img)) {
      Fat32Reader r = Fat32Reader.open(ch, 0, ch.size());
      assertThat(r.label()).isEqualTo("BASALT ESP");
      assertThat(r.volumeId()).isEqualTo(written.volumeId());
      for (var e : tree.entrySet()) assertThat(r.readFile(e.getKey())).as(e.getKey()).isEqualTo(e.getValue());
      assertThat(r.readFile("efi/boot/bootx64.efi")).isEqualTo(tree.get("EFI/BOOT/BOOTX64.EFI"));
      assertThat(r.list("many")).hasSize(300);
      assertThat(r.list("")).extracting(Fat32Reader.Entry::name).contains("Mixed Case Name With Spaces.Text", "README2.TXT");
      assertThatThrownBy(() -> r.readFile("loader/missing.conf")).hasMessageContaining("no such file")
          .hasMessageContaining("loader/missing.conf");
      r.copyTo(copy);
    }
    Path again = dir.resolve("again.img");
    copy.writeTo(again, 48 * MiB);
    assertThat(Files.mismatch(img, again)).as("read + rewrite gives the same volume").isEqualTo(-1L);
  }

  @Test
  void readsAVolumeMadeByMkfsFatAndMtools() throws IOException {
    Path img = dir.resolve("mk.img");
    Tools.check("mkfs.fat", "-F", "32", "-n", "MKFSLABEL", "-C", img.toString(), "65536");
    Path src = dir.resolve("src");
    Files.writeString(src, "kernel bytes ".repeat(10_000));
    Tools.check("mmd", "-i", img.toString(), "::/EFI", "::/EFI/Linux");
    Tools.check("mcopy", "-i", img.toString(), src.toString(), "::/EFI/Linux/A Long Kernel Name.efi");
    Tools.check("mcopy", "-i", img.toString(), src.toString(), "::/readme.txt");
    Tools.check("mcopy", "-i", img.toString(), src.toString(), "::/UPPER.TXT");
    try (FileChannel ch = FileChannel.open(img)) {
      Fat32Reader r = Fat32Reader.open(ch, 0, ch.size());
      assertThat(r.label()).isEqualTo("MKFSLABEL");
      assertThat(r.list("")).extracting(Fat32Reader.Entry::name).contains("EFI", "readme.txt", "UPPER.TXT");
      assertThat(r.readFile("EFI/Linux/A Long Kernel Name.efi")).isEqualTo(Files.readAllBytes(src));
      assertThat(r.readFile("readme.txt")).isEqualTo(Files.readAllBytes(src));
    }
    Path notFat = dir.resolve("zero.img");
    Files.write(notFat, new byte[4096]);
    try (FileChannel ch = FileChannel.open(notFat)) {
      assertThatThrownBy(() -> Fat32Reader.open(ch, 0, ch.size())).hasMessageContaining("no boot sector signature");
    }
  }
}

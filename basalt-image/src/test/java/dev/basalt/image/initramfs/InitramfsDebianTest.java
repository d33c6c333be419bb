package dev.basalt.image.initramfs;

import static org.assertj.core.api.Assertions.assertThat;

import dev.basalt.fs.tree.TreePaths;
import dev.basalt.image.testing.Cpio;
import dev.basalt.image.testing.TestOs;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The reader on the real initramfs of the Debian test OS, cross-checked with Debian's lsinitramfs. */
class InitramfsDebianTest {
  private static String kver;
  private static Path initrd;

  @BeforeAll
  static void fixture() {
    kver = TestOs.env().get("KVER");
    initrd = TestOs.rootfs().resolve(TestOs.env().get("INITRD"));
  }

  /** lsinitramfs' names, normalized as the reader does ("." is the root ""). */
  private static List<String> lsinitramfs(Path image) {
    String out = TestOs.runFixtureTool("lsinitramfs", image.toString()).stdout();
    return Arrays.stream(out.split("\n")).filter(s -> !s.isEmpty()).map(TreePaths::normalize).toList();
  }

  @Test
  void findsErofsAndOverlayInTheDebianInitramfs() throws IOException {
    long start = System.nanoTime();
    Initramfs r = Initramfs.read(initrd);
    long ms = (System.nanoTime() - start) / 1_000_000;
    System.out.printf("read %s (%d bytes, %s, %d entries) in %d ms%n", initrd.getFileName(), Files.size(initrd),
        r.compression(), r.entries().size(), ms);

    assertThat(r.compression()).isEqualTo(Compression.valueOf(TestOs.env().get("INITRD_COMPRESSION").toUpperCase()));
    assertThat(r.kernelVersions()).containsExactly(kver);
    String base = "usr/lib/modules/" + kver + "/kernel/fs/";
    assertThat(r.module("erofs")).contains(new KernelModule("erofs", kver, base + "erofs/erofs.ko", false));
    assertThat(r.module("overlay", kver)).contains(new KernelModule("overlay", kver, base + "overlayfs/overlay.ko", false));
    assertThat(r.module("no_such_module")).isEmpty();
  }

  @Test
  void agreesWithLsinitramfsOnEveryFilesystemModuleOfTheKernel() throws IOException {
    Initramfs r = Initramfs.read(initrd);
    List<String> listed = lsinitramfs(initrd);
    Path fs = TestOs.rootfs().resolve("usr/lib/modules/" + kver + "/kernel/fs");
    List<Path> modules;
    try (var s = Files.walk(fs)) {
      modules = s.filter(p -> p.toString().endsWith(".ko")).sorted().toList();
    }
    int inside = 0;
    for (Path m : modules) {
      String path = "usr/lib/modules/" + kver + "/kernel/fs/" + fs.relativize(m);
      String name = m.getFileName().toString().replace(".ko", "");
      boolean expected = listed.contains(path);
      assertThat(r.module(name, kver).map(KernelModule::path)).as(name)
          .isEqualTo(expected ? java.util.Optional.of(path) : java.util.Optional.empty());
      if (expected) inside++;
    }
    // Both outcomes occur: MODULES=most leaves some filesystems out.
    assertThat(inside).isBetween(2, modules.size() - 1);
  }

  @Test
  void findsBuiltinModulesFromTheRealModulesBuiltin() throws IOException {
    Path list = TestOs.rootfs().resolve("usr/lib/modules/" + kver + "/modules.builtin");
    String first = Files.readAllLines(list).get(0);
    String name = first.substring(first.lastIndexOf('/') + 1).replace(".ko", "");
    assertThat(Initramfs.read(initrd).module(name)).get().extracting(KernelModule::builtin).isEqualTo(true);
  }

  @Test
  void listsTheSameEntriesAsLsinitramfs() throws IOException {
    Initramfs r = Initramfs.read(initrd);
    List<String> ours = r.entries().stream().map(InitramfsEntry::path).toList();
    assertThat(ours).hasSizeGreaterThan(500).isEqualTo(lsinitramfs(initrd));
  }

  @Test
  void anEarlyCpioBeforeTheRealArchiveMatchesLsinitramfs(@TempDir Path tmp) throws IOException {
    byte[] early = Cpio.newc().dir("kernel").dir("kernel/x86").dir("kernel/x86/microcode")
        .file("kernel/x86/microcode/AuthenticAMD.bin", "ucode").bytes(512);
    Path image = tmp.resolve("initrd.img");
    Files.write(image, Cpio.concat(early, Files.readAllBytes(initrd)));

    Initramfs r = Initramfs.read(image);
    assertThat(r.archives()).hasSize(2);
    assertThat(r.archives().get(0).compression()).isEqualTo(Compression.NONE);
    assertThat(r.archives().get(1).offset()).isEqualTo(early.length);
    assertThat(r.entries().stream().map(InitramfsEntry::path).toList()).isEqualTo(lsinitramfs(image));
    assertThat(r.module("erofs")).isPresent();
  }
}

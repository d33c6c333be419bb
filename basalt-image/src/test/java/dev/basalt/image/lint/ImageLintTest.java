package dev.basalt.image.lint;

import static dev.basalt.image.testing.TestImage.KVER;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.basalt.image.initramfs.Compression;
import dev.basalt.image.testing.Cpio;
import dev.basalt.image.testing.DirectoryTree;
import dev.basalt.image.testing.TestImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

class ImageLintTest {
  @TempDir Path root;

  /** Both views of the same directory must lint alike. */
  enum View { DIRECTORY, TREE }

  private LintReport lint(View view, TestImage image) throws IOException {
    return lint(view, image, ImageLint.create());
  }

  private LintReport lint(View view, TestImage image, ImageLint lint) throws IOException {
    if (view == View.DIRECTORY) return lint.check(new DirectoryRootFs(image.root()));
    try (TreeRootFs.Sink sink = TreeRootFs.sink()) {
      DirectoryTree.feed(image.root(), sink);
      try (TreeRootFs fs = sink.build()) {
        return lint.check(fs);
      }
    }
  }

  private static Finding only(LintReport r) {
    assertThat(r.findings()).as(r.toText()).hasSize(1);
    return r.findings().get(0);
  }

  @ParameterizedTest
  @EnumSource(View.class)
  void aGoodImageIsClean(View view) throws IOException {
    LintReport r = lint(view, TestImage.good(root));
    assertThat(r.findings()).as(r.toText()).isEmpty();
    assertThat(r.ok()).isTrue();
    assertThat(r.boot()).contains(new LintReport.BootFiles(KVER, "/boot/vmlinuz-" + KVER,
        "/boot/initrd.img-" + KVER, Compression.ZSTD));
    assertThat(r.kargs()).containsExactly("console=ttyS0,115200");
    assertThat(r.toText()).isEqualTo("kernel " + KVER + ": /boot/vmlinuz-" + KVER + ", initramfs /boot/initrd.img-"
        + KVER + " (zstd)\nkargs: console=ttyS0,115200\nok: 0 errors, 0 warnings\n");
  }

  @ParameterizedTest
  @EnumSource(View.class)
  void noKernel(View view) throws IOException {
    LintReport r = lint(view, TestImage.good(root).delete("boot/vmlinuz-" + KVER));
    assertThat(only(r)).isEqualTo(new Finding(Severity.ERROR, Check.KERNEL, null,
        "no kernel: neither /usr/lib/modules/<kver>/vmlinuz nor /boot/vmlinuz-<kver> exists",
        "install a kernel in the image (Debian/Ubuntu: apt-get install linux-image-amd64;"
            + " Fedora/CentOS: dnf install kernel)"));
    assertThat(r.ok()).isFalse();
    assertThat(r.boot()).isEmpty();
  }

  @ParameterizedTest
  @EnumSource(View.class)
  void twoKernelsAreListed(View view) throws IOException {
    TestImage image = TestImage.good(root)
        .file("usr/lib/modules/6.12.0-1-amd64/vmlinuz", TestImage.kernel())
        .file("usr/lib/modules/6.12.0-1-amd64/initramfs.img",
            Cpio.gzip(Cpio.initramfsTree("6.12.0-1-amd64", "erofs/erofs", "overlayfs/overlay").bytes()));
    LintReport r = lint(view, image);
    Finding f = only(r);
    assertThat(f.severity()).isEqualTo(Severity.ERROR);
    assertThat(f.check()).isEqualTo(Check.KERNEL);
    assertThat(f.problem()).isEqualTo("found 2 kernels, Basalt boots exactly one: /boot/vmlinuz-" + KVER
        + ", /usr/lib/modules/6.12.0-1-amd64/vmlinuz");
    assertThat(f.fix()).startsWith("remove all kernels but one (Debian: apt-get purge linux-image-<kver>");
    assertThat(r.boot()).isEmpty();
  }

  @Test
  void theBootcKernelLocationWinsForTheSameVersion() throws IOException {
    TestImage image = TestImage.good(root).file("usr/lib/modules/" + KVER + "/vmlinuz", TestImage.kernel());
    LintReport r = lint(View.DIRECTORY, image);
    assertThat(r.findings()).isEmpty();
    assertThat(r.boot()).get().extracting(LintReport.BootFiles::kernel).isEqualTo("/usr/lib/modules/" + KVER + "/vmlinuz");
  }

  @ParameterizedTest
  @EnumSource(View.class)
  void aKernelWithoutTheBootHeader(View view) throws IOException {
    LintReport r = lint(view, TestImage.good(root).file("boot/vmlinuz-" + KVER, "placeholder"));
    assertThat(only(r)).isEqualTo(new Finding(Severity.ERROR, Check.KERNEL, "/boot/vmlinuz-" + KVER,
        "not a bootable x86 Linux kernel image (no 'HdrS' boot header at offset 0x202; 11 bytes)",
        "reinstall the kernel package (Debian: apt-get install --reinstall linux-image-" + KVER + ")"));
  }

  @ParameterizedTest
  @EnumSource(View.class)
  void noInitramfs(View view) throws IOException {
    LintReport r = lint(view, TestImage.good(root).delete("boot/initrd.img-" + KVER));
    Finding f = only(r);
    assertThat(f.check()).isEqualTo(Check.INITRAMFS);
    assertThat(f.problem()).isEqualTo("kernel " + KVER + " has no initramfs: neither /usr/lib/modules/" + KVER
        + "/initramfs.img nor /boot/initrd.img-" + KVER + " exists");
    assertThat(f.fix()).contains("apt-get install initramfs-tools", "update-initramfs -c -k " + KVER);
    assertThat(r.boot()).contains(new LintReport.BootFiles(KVER, "/boot/vmlinuz-" + KVER, null, null));
  }

  enum Packing { GZIP, ZSTD }

  @ParameterizedTest
  @EnumSource(Packing.class)
  void anInitramfsWithoutErofs(Packing packing) throws IOException {
    byte[] cpio = Cpio.initramfsTree(KVER, "overlayfs/overlay").bytes();
    byte[] image = packing == Packing.GZIP ? Cpio.gzip(cpio) : Cpio.zstd(cpio);
    LintReport r = lint(View.TREE, TestImage.good(root).file("boot/initrd.img-" + KVER, image));
    assertThat(only(r)).isEqualTo(new Finding(Severity.ERROR, Check.INITRAMFS_EROFS, "/boot/initrd.img-" + KVER,
        "no erofs module (no erofs.ko under lib/modules/" + KVER + "/ and not in modules.builtin),"
            + " so it cannot mount Basalt's EROFS root",
        "add `erofs` to /etc/initramfs-tools/modules and run update-initramfs -u -k " + KVER
            + " (dracut: add_drivers+=\" erofs \" in /etc/dracut.conf.d/basalt.conf, then dracut --force --kver "
            + KVER + ")"));
    assertThat(r.boot()).get().extracting(LintReport.BootFiles::initramfsCompression)
        .isEqualTo(Compression.valueOf(packing.name()));
  }

  @Test
  void erofsBuiltIntoTheKernelIsEnough() throws IOException {
    byte[] cpio = Cpio.newc().file("usr/lib/modules/" + KVER + "/modules.builtin",
        "kernel/fs/erofs/erofs.ko\nkernel/fs/overlayfs/overlay.ko\n").bytes();
    LintReport r = lint(View.DIRECTORY, TestImage.good(root).file("boot/initrd.img-" + KVER, Cpio.gzip(cpio)));
    assertThat(r.findings()).as(r.toText()).isEmpty();
  }

  @Test
  void overlayOnlyOnTheRootIsAWarningAndNowhereAnError() throws IOException {
    TestImage image = TestImage.good(root).file("boot/initrd.img-" + KVER,
        Cpio.zstd(Cpio.initramfsTree(KVER, "erofs/erofs").bytes()));
    Finding f = only(lint(View.DIRECTORY, image));
    assertThat(f.severity()).isEqualTo(Severity.WARNING);
    assertThat(f.check()).isEqualTo(Check.INITRAMFS_OVERLAY);
    assertThat(f.fix()).startsWith("add `overlay` to /etc/initramfs-tools/modules and run update-initramfs -u -k " + KVER);

    image.delete("usr/lib/modules/" + KVER + "/kernel/fs/overlayfs/overlay.ko");
    f = only(lint(View.DIRECTORY, image));
    assertThat(f.severity()).isEqualTo(Severity.ERROR);
    assertThat(f.problem()).contains("neither in the initramfs nor under /usr/lib/modules/" + KVER);
  }

  @Test
  void unreadableInitramfs() throws IOException {
    byte[] good = Cpio.zstd(Cpio.initramfsTree(KVER, "erofs/erofs", "overlayfs/overlay").bytes());
    TestImage image = TestImage.good(root).file("boot/initrd.img-" + KVER, java.util.Arrays.copyOf(good, good.length / 2));
    Finding f = only(lint(View.DIRECTORY, image));
    assertThat(f.check()).isEqualTo(Check.INITRAMFS);
    assertThat(f.problem()).startsWith("cannot be read: the zstd stream at offset 0 of /boot/initrd.img-" + KVER
        + " is truncated");
    assertThat(f.fix()).contains("update-initramfs -u -k " + KVER);

    image.file("boot/initrd.img-" + KVER, Cpio.concat(new byte[] {0x04, 0x22, 0x4d, 0x18}, new byte[16]));
    f = only(lint(View.DIRECTORY, image));
    assertThat(f.problem()).startsWith("cannot be read: /boot/initrd.img-" + KVER + ": unsupported compression lz4");
  }

  @Test
  void anInitramfsForAnotherKernel() throws IOException {
    TestImage image = TestImage.good(root).file("boot/initrd.img-" + KVER,
        Cpio.zstd(Cpio.initramfsTree("5.10.0-1-amd64", "erofs/erofs", "overlayfs/overlay").bytes()));
    LintReport r = lint(View.DIRECTORY, image);
    assertThat(r.errors()).extracting(Finding::check)
        .containsExactly(Check.INITRAMFS, Check.INITRAMFS_EROFS);
    assertThat(r.errors().get(0).problem()).isEqualTo("holds modules for kernel 5.10.0-1-amd64, not for " + KVER);
  }

  @ParameterizedTest
  @EnumSource(View.class)
  void noSystemdBoot(View view) throws IOException {
    LintReport r = lint(view, TestImage.good(root).delete("usr/lib/systemd/boot/efi/systemd-bootx64.efi"));
    assertThat(only(r)).isEqualTo(new Finding(Severity.ERROR, Check.SYSTEMD_BOOT,
        "/usr/lib/systemd/boot/efi/systemd-bootx64.efi",
        "missing: the disk's bootloader (EFI/BOOT/BOOTX64.EFI) is taken from the image",
        "Debian/Ubuntu: apt-get install systemd-boot-efi; Fedora: dnf install systemd-boot-unsigned"));
  }

  @Test
  void aSystemdBootThatIsNoPeBinary() throws IOException {
    Finding f = only(lint(View.TREE, TestImage.good(root).file("usr/lib/systemd/boot/efi/systemd-bootx64.efi", "")));
    assertThat(f.problem()).isEqualTo("not an EFI (PE) binary: no 'MZ' header");
  }

  @ParameterizedTest
  @EnumSource(View.class)
  void missingShell(View view) throws IOException {
    String fix = "install a POSIX shell that provides /bin/sh (Debian/Ubuntu: apt-get install dash;"
        + " Fedora: dnf install bash); usrmerged images also need the /bin -> usr/bin link";
    String problem = "does not resolve to a file (missing, a dangling symlink or a symlink loop)";
    Finding expected = new Finding(Severity.ERROR, Check.SHELL, "/bin/sh", problem, fix);
    TestImage image = TestImage.good(root);
    assertThat(only(lint(view, image.delete("usr/bin/sh")))).isEqualTo(expected);
    assertThat(only(lint(view, image.symlink("usr/bin/sh", "/usr/bin/nope")))).isEqualTo(expected);
    assertThat(only(lint(view, image.symlink("usr/bin/sh", "sh")))).isEqualTo(expected);
    assertThat(only(lint(view, image.symlink("usr/bin/sh", "dash").delete("bin").symlink("bin", "nowhere"))))
        .isEqualTo(expected);
  }

  @Test
  void aShellThatIsNotExecutable() throws IOException {
    Finding f = only(lint(View.DIRECTORY, TestImage.good(root).file("usr/bin/dash", "no x bit")));
    assertThat(f).isEqualTo(new Finding(Severity.ERROR, Check.SHELL, "/bin/sh",
        "resolves to /usr/bin/dash, which is not executable (mode 0644)", "chmod 0755 /usr/bin/dash"));
  }

  @Test
  void initMustBeSystemd() throws IOException {
    TestImage image = TestImage.good(root).exe("usr/bin/busybox", "bb").symlink("usr/sbin/init", "/bin/busybox");
    Finding f = only(lint(View.DIRECTORY, image));
    assertThat(f.severity()).isEqualTo(Severity.ERROR);
    assertThat(f.problem()).startsWith("resolves to /usr/bin/busybox, not to systemd");
    assertThat(f.fix()).isEqualTo("Debian/Ubuntu: apt-get install systemd-sysv (it links /sbin/init to systemd)");

    f = only(lint(View.DIRECTORY, image.delete("usr/sbin/init")));
    assertThat(f.severity()).isEqualTo(Severity.WARNING);
    assertThat(f.problem()).startsWith("missing, although systemd is at /usr/lib/systemd/systemd");

    f = only(lint(View.DIRECTORY, image.delete("usr/lib/systemd/systemd")));
    assertThat(f).isEqualTo(new Finding(Severity.ERROR, Check.INIT, null,
        "systemd is not installed (neither /sbin/init nor /usr/lib/systemd/systemd)",
        "Debian/Ubuntu: apt-get install systemd systemd-sysv; Fedora: dnf install systemd"));
  }

  @ParameterizedTest
  @EnumSource(View.class)
  void badKargsToml(View view) throws IOException {
    TestImage image = TestImage.good(root)
        .file("usr/lib/bootc/kargs.d/30-broken.toml", "kargs = [\"quiet\"\n")
        .file("usr/lib/bootc/kargs.d/40-unknown.toml", "kargs = []\nkernel = \"x\"\n")
        .file("usr/lib/bootc/kargs.d/50-type.toml", "kargs = \"quiet\"\n")
        .file("usr/lib/bootc/kargs.d/60-missing.toml", "match-architectures = [\"x86_64\"]\n")
        .file("usr/lib/bootc/kargs.d/70-number.toml", "kargs = [\"a\", 3]\n")
        .file("usr/lib/bootc/kargs.d/80-good.toml", "kargs = ['mitigations=off']\nmatch-architectures = [\"x86_64\"]\n");
    LintReport r = lint(view, image);
    assertThat(r.findings()).allSatisfy(f -> {
      assertThat(f.severity()).isEqualTo(Severity.ERROR);
      assertThat(f.check()).isEqualTo(Check.KARGS);
      assertThat(f.fix()).startsWith("write it in bootc's kargs.d format, e.g. kargs = [\"console=ttyS0,115200\"");
    });
    assertThat(r.findings()).extracting(Finding::path).containsExactly(
        "/usr/lib/bootc/kargs.d/30-broken.toml", "/usr/lib/bootc/kargs.d/40-unknown.toml",
        "/usr/lib/bootc/kargs.d/50-type.toml", "/usr/lib/bootc/kargs.d/60-missing.toml",
        "/usr/lib/bootc/kargs.d/70-number.toml");
    List<String> problems = r.findings().stream().map(Finding::problem).toList();
    assertThat(problems.get(0)).startsWith("not valid TOML: ").contains("line 2");
    assertThat(problems.subList(1, 5)).containsExactly(
        "unknown key 'kernel' (bootc allows only kargs and match-architectures)",
        "'kargs' must be an array of strings, got string \"quiet\"",
        "missing the required key 'kargs'",
        "'kargs'[1] must be a string, got number 3");
    assertThat(r.kargs()).containsExactly("console=ttyS0,115200", "mitigations=off");
  }

  @Test
  void withoutTheNodeLayerItWarns() throws IOException {
    LintReport r = lint(View.DIRECTORY, TestImage.good(root).delete("usr/lib/basalt/preinit"));
    assertThat(only(r)).isEqualTo(new Finding(Severity.WARNING, Check.NODE_LAYER, "/usr/lib/basalt/preinit",
        "missing: the image has no Basalt node layer yet",
        "nothing to do for a disk: `basalt disk` adds the node layer when it is missing;"
            + " `basalt image build` adds it when building the image"));
    assertThat(r.ok()).isTrue();
    assertThat(r.toText()).endsWith("ok: 0 errors, 1 warning\n");
  }

  @Test
  void architectureSelectsKargsAndTheEfiBinary() throws IOException {
    TestImage image = TestImage.good(root);
    LintReport r = lint(View.DIRECTORY, image, ImageLint.builder().architecture("aarch64").build());
    assertThat(r.kargs()).containsExactly("console=ttyS0,115200", "arm-only");
    assertThat(only(r).path()).isEqualTo("/usr/lib/systemd/boot/efi/systemd-bootaa64.efi");
    assertThat(only(r).problem()).contains("EFI/BOOT/BOOTAA64.EFI");
  }

  @Test
  void theBuilderRefusesUnknownArchitectures() {
    assertThatThrownBy(() -> ImageLint.builder().architecture("amd64"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("architecture 'amd64' is a Debian name; kargs.d uses Rust names: use 'x86_64'");
    assertThatThrownBy(() -> ImageLint.builder().architecture("pdp11"))
        .hasMessage("unknown architecture 'pdp11' (one of [aarch64, arm, loongarch64, riscv64, x86, x86_64])");
    assertThatThrownBy(() -> ImageLint.builder().architecture(" "))
        .hasMessage("architecture must not be empty (use x86_64 or aarch64)");
  }

  @Test
  void jsonAndTextReports() throws IOException {
    TestImage image = TestImage.good(root).delete("boot/vmlinuz-" + KVER).delete("usr/lib/basalt/preinit");
    LintReport r = lint(View.DIRECTORY, image);
    JsonNode json = JsonMapper.builder().build().readTree(r.toJson());
    assertThat(json.get("ok").booleanValue()).isFalse();
    assertThat(json.get("errors").intValue()).isEqualTo(1);
    assertThat(json.get("warnings").intValue()).isEqualTo(1);
    assertThat(json.get("boot").isNull()).isTrue();
    assertThat(json.get("kargs").get(0).stringValue()).isEqualTo("console=ttyS0,115200");
    JsonNode first = json.get("findings").get(0);
    assertThat(first.get("severity").stringValue()).isEqualTo("error");
    assertThat(first.get("check").stringValue()).isEqualTo("kernel");
    assertThat(first.get("path").isNull()).isTrue();
    assertThat(first.get("fix").stringValue()).contains("apt-get install linux-image-amd64");
    assertThat(json.get("findings").get(1).get("path").stringValue()).isEqualTo("/usr/lib/basalt/preinit");
    assertThat(r.toJson()).isEqualTo(lint(View.TREE, image).toJson());
    assertThat(r.toText()).isEqualTo("""
        error: [kernel] no kernel: neither /usr/lib/modules/<kver>/vmlinuz nor /boot/vmlinuz-<kver> exists
          fix: install a kernel in the image (Debian/Ubuntu: apt-get install linux-image-amd64; Fedora/CentOS: dnf install kernel)
        warning: [node-layer] /usr/lib/basalt/preinit: missing: the image has no Basalt node layer yet
          fix: nothing to do for a disk: `basalt disk` adds the node layer when it is missing; `basalt image build` adds it when building the image
        kargs: console=ttyS0,115200
        not bootable: 1 error, 1 warning
        """);
  }
}

package dev.basalt.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.basalt.fs.fat.Fat32Reader;
import dev.basalt.fs.gpt.GptPartition;
import dev.basalt.image.disk.DiskBuilder;
import dev.basalt.image.disk.DiskResult;
import dev.basalt.image.rootfs.MergedImage;
import dev.basalt.oci.api.Platform;
import dev.basalt.oci.ref.ImageReference;
import dev.basalt.oci.transport.TransportOptions;
import dev.basalt.oci.transport.Transports;
import dev.basalt.testkit.Tools;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** status / upgrade / switch / rollback through the real CLI, on a DiskBuilder disk file with --sysroot/--disk/--esp. */
class NodeCommandsTest {
  static final String KVER = "6.1.0-99-amd64";
  @TempDir Path tmp;

  private static void write(Path root, String path, byte[] content, String perms) throws IOException {
    Path p = root.resolve(path);
    Files.createDirectories(p.getParent());
    Files.write(p, content);
    Files.setPosixFilePermissions(p, PosixFilePermissions.fromString(perms));
  }

  /** A tiny bootable tree (fake kernel, real gzip cpio initramfs with the erofs module). */
  private Path rootfs(String version) throws IOException {
    return rootfs(tmp, version);
  }

  /** The same, under {@code tmp} (shared with other node command tests). */
  static Path rootfs(Path tmp, String version) throws IOException {
    Path r = Files.createDirectories(tmp.resolve("rootfs-" + version));
    for (String d : List.of("usr/bin", "usr/sbin", "usr/lib", "boot", "etc")) Files.createDirectories(r.resolve(d));
    Files.createSymbolicLink(r.resolve("bin"), Path.of("usr/bin"));
    Files.createSymbolicLink(r.resolve("sbin"), Path.of("usr/sbin"));
    write(r, "usr/bin/dash", "#!fake".getBytes(StandardCharsets.UTF_8), "rwxr-xr-x");
    Files.createSymbolicLink(r.resolve("usr/bin/sh"), Path.of("dash"));
    write(r, "usr/lib/systemd/systemd", "fake".getBytes(StandardCharsets.UTF_8), "rwxr-xr-x");
    Files.createSymbolicLink(r.resolve("usr/sbin/init"), Path.of("../lib/systemd/systemd"));
    byte[] k = new byte[4096];
    k[0x1fe] = 0x55;
    k[0x1ff] = (byte) 0xaa;
    System.arraycopy("HdrS".getBytes(StandardCharsets.US_ASCII), 0, k, 0x202, 4);
    write(r, "boot/vmlinuz-" + KVER, k, "rw-r--r--");
    Path ird = Files.createDirectories(tmp.resolve("initrd-" + version + "/usr/lib/modules/" + KVER + "/kernel/fs/erofs"));
    Files.writeString(ird.resolve("erofs.ko"), "\u007fELF");
    Files.createDirectories(ird.resolveSibling("overlayfs"));
    Files.writeString(ird.resolveSibling("overlayfs").resolve("overlay.ko"), "\u007fELF");
    Path img = tmp.resolve("initrd-" + version + ".img");
    Tools.check("bash", "-c", "cd '" + tmp.resolve("initrd-" + version) + "' && find . | LC_ALL=C sort | cpio -o -H newc --quiet | gzip -n > '" + img + "'");
    write(r, "boot/initrd.img-" + KVER, Files.readAllBytes(img), "rw-r--r--");
    write(r, "usr/lib/modules/" + KVER + "/kernel/fs/overlayfs/overlay.ko", "m".getBytes(StandardCharsets.UTF_8), "rw-r--r--");
    write(r, "usr/lib/systemd/boot/efi/systemd-bootx64.efi", "MZ".getBytes(StandardCharsets.UTF_8), "rw-r--r--");
    write(r, "usr/lib/basalt/preinit", "#!/bin/sh\n".getBytes(StandardCharsets.UTF_8), "rwxr-xr-x");
    write(r, "etc/os-release", ("PRETTY_NAME=\"CLI OS " + version + "\"\n").getBytes(StandardCharsets.UTF_8), "rw-r--r--");
    return r;
  }

  @Test
  void statusSwitchUpgradeRollbackOnADiskImage() throws Exception {
    String layout = tmp.resolve("layout").toString();
    String v1 = "oci:" + layout + ":v1";
    String v2 = "oci:" + layout + ":v2";
    Cli.run("image", "import", rootfs("1").toString(), v1).ok();
    String d2 = Cli.run("image", "import", rootfs("2").toString(), v2).ok().lastLine();
    Path disk = tmp.resolve("disk.raw");
    MergedImage image = MergedImage.resolve(Transports.openSource(ImageReference.parse(v1), TransportOptions.defaults()),
        Platform.LINUX_AMD64);
    DiskResult r = DiskBuilder.of(image).output(disk).espSize(64L << 20).rootSize(16L << 20).size(400L << 20).build();
    Path esp = Files.createDirectories(tmp.resolve("esp"));
    GptPartition p = r.table().find("esp").orElseThrow();
    try (FileChannel ch = FileChannel.open(disk, StandardOpenOption.READ)) {
      Fat32Reader fat = Fat32Reader.open(ch, p.offsetBytes(), p.sizeBytes());
      for (String f : List.of("loader/entries/" + r.entry(), "basalt/a/vmlinuz", "basalt/a/initrd.img")) {
        Files.createDirectories(esp.resolve(f).getParent());
        Files.write(esp.resolve(f), fat.readFile(f));
      }
    }
    Path sys = tmp.resolve("sysroot");
    Files.createDirectories(sys.resolve("proc/sys/kernel/random"));
    Files.writeString(sys.resolve("proc/cmdline"), r.options() + "\n");
    Files.writeString(sys.resolve("proc/sys/kernel/random/boot_id"), "boot-1\n");
    List<String> at = List.of("--sysroot", sys.toString(), "--disk", disk.toString(), "--esp", esp.toString());

    String json = run("status", at, "--format", "json").ok().out();
    assertThat(json).contains("\"slot\" : \"a\"", "\"staged\" : null", "\"updatePhase\" : \"idle\"",
        "\"verityRootHash\" : \"" + r.verity().rootHash() + "\"");
    Cli.Run up = run("upgrade", at);
    assertThat(up.exitCode()).isEqualTo(1);
    assertThat(up.err()).contains("no image reference is recorded", "basalt switch REF");
    assertThat(run("status", at, "--sysroot-typo").exitCode()).isEqualTo(2);

    Path rebooted = tmp.resolve("rebooted");
    Cli.Run sw = run("switch", at, v2, "--apply", "--reboot-command", "touch " + rebooted);
    sw.ok();
    assertThat(sw.lastLine()).isEqualTo(d2);
    assertThat(sw.err()).contains("==> downloading", "==> writing root", "staged " + d2 + " in slot b (serial 2)");
    assertThat(rebooted).exists();
    assertThat(esp.resolve("loader/entries/basalt-00000002-b+3.conf")).exists();

    String yaml = run("status", at, "--format", "yaml").ok().out();
    assertThat(yaml).contains("staged:", "slot: \"b\"", "manifestDigest: \"" + d2 + "\"", "updatePhase: \"staged\"");
    assertThat(run("status", at).ok().out()).contains("Staged:   " + v2, "slot b, serial 00000002, health pending");
    Cli.Run check = run("upgrade", at, "--check");
    check.ok();
    assertThat(check.err()).contains("up to date");

    Cli.Run rb = run("rollback", at);
    rb.ok();
    assertThat(rb.err()).contains("discarded the staged deployment");
    assertThat(esp.resolve("loader/entries/basalt-00000002-b+3.conf")).doesNotExist();
    Cli.Run bad = run("switch", at, "oci:" + tmp.resolve("nowhere") + ":x");
    assertThat(bad.exitCode()).isEqualTo(1);
    assertThat(bad.err()).contains("basalt switch: error:", "nowhere");
  }

  private static Cli.Run run(String cmd, List<String> at, String... more) {
    List<String> args = new ArrayList<>(List.of(cmd));
    args.addAll(at);
    args.addAll(List.of(more));
    return Cli.run(args.toArray(String[]::new));
  }
}

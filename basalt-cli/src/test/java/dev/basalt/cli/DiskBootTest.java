package dev.basalt.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.basalt.fs.gpt.GptPartition;
import dev.basalt.fs.gpt.GptTable;
import dev.basalt.testkit.QemuMachine;
import dev.basalt.testkit.Tools;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.List;
import java.util.regex.MatchResult;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * End to end, with Basalt's own writers only: the Debian test OS rootfs -> `basalt image import`
 * -> `basalt disk` (qcow2, with a config) -> offline checks with the reference tools -> the disk
 * is enlarged and booted under QEMU (TCG, OVMF), then rebooted once; over the serial console the
 * test checks the root, /var, /etc, the kernel command line, the config and the blessed entry.
 */
@Tag("boot")
class DiskBootTest {
  private static final Duration BOOT = Duration.ofMinutes(6);
  private static final Duration CMD = Duration.ofSeconds(60);

  @TempDir Path tmp;

  private static Path testOs() {
    Path d = Path.of("").toAbsolutePath();
    while (d != null && !Files.isRegularFile(d.resolve("fixtures/testos/build.sh"))) d = d.getParent();
    if (d == null) throw new AssertionError("fixtures/testos/build.sh not found");
    List<String> cmd = List.of("bash", d.resolve("fixtures/testos/build.sh").toString(), "--print-dir");
    return Path.of(Tools.run(cmd, null, 1800).requireSuccess(cmd).stdout().strip());
  }

  /** The last line of a command's output (console messages may come before it). */
  private static long number(String output) {
    String[] lines = output.strip().split("\n");
    return Long.parseLong(lines[lines.length - 1].strip());
  }

  private static String sh(String script) {
    return Tools.check("bash", "-c", "set -euo pipefail; " + script);
  }

  @Test
  void builtDiskPassesTheToolsBootsAndKeepsEtcAcrossAReboot() throws Exception {
    for (String t : List.of("qemu-img", "sgdisk", "fsck.fat", "fsck.erofs", "veritysetup", "qemu-system-x86_64")) Tools.require(t);
    Path os = testOs();
    String ref = "oci:" + tmp.resolve("layout") + ":testos";
    long t0 = System.nanoTime();
    Cli.run("image", "import", "--compression", "zstd", os.resolve("rootfs.tar").toString(), ref).ok();
    long t1 = System.nanoTime();
    Path config = tmp.resolve("config.toml");
    Files.writeString(config, """
        hostname = "basalt-e2e"
        [customizations.kernel]
        append = "basalt.e2e=1"
        [[customizations.user]]
        name = "alice"
        key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIE2e alice@e2e"
        groups = ["sudo", "adm"]
        """);
    Path disk = tmp.resolve("testos.qcow2");
    Cli.Run built = Cli.run("disk", ref, "-o", disk.toString(), "--config", config.toString()).ok();
    long t2 = System.nanoTime();
    System.out.printf("import %.1f s, disk %.1f s%n%s", (t1 - t0) / 1e9, (t2 - t1) / 1e9, built.out());
    Matcher m = Pattern.compile("root hash ([0-9a-f]{64})").matcher(built.out());
    assertThat(m.find()).isTrue();
    String rootHash = m.group(1);
    assertThat(built.out()).startsWith(disk.toAbsolutePath() + "\n");
    assertThat(built.err()).contains("(node layer added)");

    // ---- offline: the reference tools on the disk as built
    Tools.check("qemu-img", "check", disk.toString());
    Path raw = tmp.resolve("disk.raw");
    Tools.check("qemu-img", "convert", "-O", "raw", disk.toString(), raw.toString());
    assertThat(Tools.check("sgdisk", "-v", raw.toString())).contains("No problems found");
    GptTable table;
    try (FileChannel ch = FileChannel.open(raw, StandardOpenOption.READ)) {
      table = GptTable.read(ch);
    }
    GptPartition esp = table.partition(1).orElseThrow();
    GptPartition rootA = table.partition(2).orElseThrow();
    GptPartition verityA = table.partition(4).orElseThrow();
    Path espImg = tmp.resolve("esp.img");
    Path rootImg = tmp.resolve("root-a.img");
    Path hashImg = tmp.resolve("verity-a.img");
    for (var e : List.of(java.util.Map.entry(esp, espImg), java.util.Map.entry(rootA, rootImg), java.util.Map.entry(verityA, hashImg))) {
      sh("dd if=" + raw + " of=" + e.getValue() + " bs=1M skip=" + e.getKey().offsetBytes() / (1 << 20)
          + " count=" + e.getKey().sizeBytes() / (1 << 20) + " conv=sparse status=none");
    }
    Tools.check("fsck.fat", "-n", espImg.toString());
    Tools.check("fsck.erofs", rootImg.toString());
    Tools.check("veritysetup", "verify", rootImg.toString(), hashImg.toString(), rootHash);
    Files.delete(raw);
    Files.delete(rootImg);

    // ---- boot: enlarged first, so that preinit must grow var to the new end
    Tools.check("qemu-img", "resize", "-q", disk.toString(), "+2G");
    long diskSectors = table.sizeBytes() / 512 + (2L << 30) / 512;
    try (QemuMachine vm = QemuMachine.builder(disk).consoleLog(tmp.resolve("console.log")).start()) {
      // Health checks and blessing print on the console: wait for them, so that they do not
      // interleave with the command output below.
      vm.awaitConsole("basalt-preinit: var partition /dev/vda6: \\d+ MiB -> \\d+ MiB", BOOT);
      vm.awaitConsole("basalt-health: boot is healthy", BOOT);
      MatchResult blessed = vm.awaitConsole("basalt-bless: blessed (\\S+) \\(was (\\S+)\\)", CMD);
      Duration firstBoot = vm.uptime();
      assertThat(blessed.group(1)).isEqualTo("basalt-00000001-a.conf");
      assertThat(blessed.group(2)).isEqualTo("basalt-00000001-a+2-1.conf");
      vm.login("root", "basalt", BOOT);
      assertThat(vm.execOk("findmnt -no FSTYPE,OPTIONS /", CMD)).startsWith("erofs").contains("ro,");
      assertThat(vm.execOk("findmnt -no SOURCE,FSTYPE /var", CMD).strip()).isEqualTo("/dev/vda6 ext4");
      long start = number(vm.execOk("cat /sys/class/block/vda6/start", CMD).strip());
      long size = number(vm.execOk("cat /sys/class/block/vda6/size", CMD).strip());
      assertThat(number(vm.execOk("cat /sys/class/block/vda/size", CMD).strip())).isEqualTo(diskSectors);
      assertThat(start + size - 1).as("var's last sector: the (enlarged) disk's last usable one")
          .isGreaterThan(diskSectors - 34 - 2048).isLessThanOrEqualTo(diskSectors - 34);
      long fsBlocks = number(vm.execOk("df -B1 --output=size /var | tail -n 1", CMD).strip());
      assertThat(fsBlocks).isGreaterThan(2L << 30); // ext4 made after growing: > 2 GiB of the 3 GiB
      String cmdline = vm.execOk("cat /proc/cmdline", CMD);
      assertThat(cmdline).contains("root=PARTUUID=" + rootA.uuid() + " rootfstype=erofs ro init=/usr/lib/basalt/preinit panic=10",
          "console=ttyS0,115200", "basalt.e2e=1", "basalt.verity=" + rootHash);
      assertThat(vm.execOk("findmnt -no FSTYPE /etc", CMD).strip()).isEqualTo("overlay");
      // the config
      assertThat(vm.execOk("hostname", CMD).strip()).isEqualTo("basalt-e2e");
      assertThat(vm.execOk("id alice", CMD)).contains("uid=1000(alice)", "(sudo)", "(adm)");
      assertThat(vm.execOk("stat -c '%U %a' /home/alice/.ssh/authorized_keys ~alice/.ssh", CMD))
          .isEqualTo("alice 600\nalice 700\n");
      // /etc is writable
      vm.execOk("echo survives-reboot > /etc/basalt-e2e && sync", CMD);
      // the entry was blessed after the health checks passed
      assertThat(vm.execOk("systemctl is-active basalt-health.service basalt-bless.service", CMD)).isEqualTo("active\nactive\n");
      String entries = vm.execOk("mkdir -p /run/esp && mount -o ro /dev/vda1 /run/esp && ls /run/esp/loader/entries;"
          + " umount /run/esp", CMD);
      assertThat(entries.strip()).isEqualTo("basalt-00000001-a.conf");
      assertThat(vm.execOk("cat /run/basalt/health.status", CMD)).startsWith("passed");

      vm.reboot();
      long r0 = System.nanoTime();
      vm.awaitConsole("reboot: Restarting system", Duration.ofMinutes(2));
      vm.awaitConsole("basalt-preinit: starting", BOOT);
      vm.awaitConsole("basalt-health: boot is healthy", BOOT);
      vm.login("root", "basalt", BOOT);
      Duration secondBoot = Duration.ofNanos(System.nanoTime() - r0);
      assertThat(vm.execOk("cat /etc/basalt-e2e", CMD).strip()).isEqualTo("survives-reboot");
      assertThat(vm.execOk("findmnt -no FSTYPE,OPTIONS /", CMD)).startsWith("erofs").contains("ro,");
      assertThat(vm.execOk("findmnt -no SOURCE,FSTYPE /var", CMD).strip()).isEqualTo("/dev/vda6 ext4");
      assertThat(vm.execOk("cat /proc/cmdline", CMD)).contains("basalt.verity=" + rootHash);
      System.out.printf("boot to login: first %d s, after reboot %d s (TCG)%n", firstBoot.toSeconds(), secondBoot.toSeconds());
    }
  }
}

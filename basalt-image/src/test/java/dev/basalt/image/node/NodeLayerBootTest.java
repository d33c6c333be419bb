package dev.basalt.image.node;

import static org.assertj.core.api.Assertions.assertThat;

import dev.basalt.image.testing.TestOs;
import dev.basalt.testkit.QemuMachine;
import dev.basalt.testkit.Tools;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.regex.MatchResult;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * The boot path proved in QEMU (TCG, OVMF, systemd-boot, the Debian test OS kernel): a disk made
 * by hand with the reference tools ({@code fixtures/boot/mkdisk.sh}: sgdisk, mkfs.erofs,
 * mkfs.vfat, mtools) from the test OS root plus the {@link NodeLayer}, then enlarged as
 * {@code qemu-img resize} would. Two boots share all assertions: the first checks the EROFS root,
 * /var grown and seeded, the /etc overlay and the blessing; the second runs with a failing
 * required health check and must reboot, spending a try of the boot counter.
 */
@Tag("qemu")
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class NodeLayerBootTest {
  private static final Duration BOOT = Duration.ofMinutes(6);
  private static final Duration CMD = Duration.ofSeconds(60);
  private static final long GROW_BYTES = 512L << 20;

  private final String marker = "persist-" + UUID.randomUUID();
  private final Map<String, String> timings = new LinkedHashMap<>();
  private Path work;
  private Path disk;
  private Map<String, String> facts;
  private QemuMachine vm;

  @BeforeAll
  void makeDisk() throws IOException {
    Path repo = TestOs.script().getParent().getParent().getParent();
    Path rootfs = TestOs.rootfs();
    long epoch = Long.parseLong(TestOs.env().getOrDefault("SOURCE_DATE_EPOCH", "0"));
    work = Files.createDirectories(Path.of("target", "boot-test").toAbsolutePath());
    Path layer = work.resolve("layer");
    Tools.check("rm", "-rf", layer.toString());
    DirectoryTreeSink sink = new DirectoryTreeSink(layer);
    NodeLayer.builder().mtime(epoch).build().writeTo(sink);
    sink.finish();

    disk = work.resolve("disk.raw");
    long t0 = System.nanoTime();
    String out = Tools.check("bash", repo.resolve("fixtures/boot/mkdisk.sh").toString(), "--out", disk.toString(),
        "--var-size", "64", rootfs.toString(), layer.toString());
    timings.put("mkdisk.sh", seconds(t0));
    facts = new LinkedHashMap<>();
    out.lines().filter(l -> l.contains("=")).forEach(l -> facts.put(l.substring(0, l.indexOf('=')), l.substring(l.indexOf('=') + 1)));
    assertThat(facts.get("entry")).isEqualTo("basalt-00000001-a+3.conf");
    // A user who wants a bigger disk enlarges the image; first boot must grow var into it.
    Tools.check(Tools.require("qemu-img").toString(), "resize", "-q", "-f", "raw", disk.toString(), "+" + GROW_BYTES);
    Tools.check(Tools.require("sgdisk").toString(), "--verify", disk.toString());
  }

  @AfterAll
  void tearDown() throws IOException {
    if (vm != null) vm.close();
    // the disk is ~0.7 GB even sparse; the console logs and timings stay in target/boot-test
    if (disk != null) Files.deleteIfExists(disk);
    StringBuilder sb = new StringBuilder();
    timings.forEach((k, v) -> sb.append(k).append(": ").append(v).append('\n'));
    Files.writeString(work.resolve("timings.txt"), sb);
    System.out.print("[NodeLayerBootTest] timings (TCG):\n" + sb);
  }

  @Test
  @Order(1)
  void firstBootMountsGrowsSeedsAndBlesses() throws IOException {
    vm = QemuMachine.builder(disk).watchdog(true).consoleLog(work.resolve("console-1.log")).start();
    vm.awaitConsole("basalt-preinit: first boot: no filesystem on /dev/vda6", BOOT);
    vm.awaitConsole("basalt-preinit: seeded /var from the image", BOOT);
    vm.awaitConsole("Reached target .*Multi-User System", BOOT);
    timings.put("boot 1: power-on to multi-user.target", seconds(vm.uptime()));
    vm.awaitConsole("basalt-health: boot is healthy", CMD);
    MatchResult blessed = vm.awaitConsole("basalt-bless: blessed (\\S+) \\(was (\\S+)\\)", CMD);
    timings.put("boot 1: power-on to blessed", seconds(vm.uptime()));
    assertThat(blessed.group(1)).isEqualTo("basalt-00000001-a.conf");
    assertThat(blessed.group(2)).isEqualTo("basalt-00000001-a+2-1.conf");
    vm.login("root", "basalt", BOOT);
    timings.put("boot 1: power-on to shell", seconds(vm.uptime()));

    // / is the EROFS image, read-only
    String[] root = vm.execOk("findmnt -no SOURCE,FSTYPE,OPTIONS /", CMD).strip().split("\\s+");
    assertThat(root[0]).isEqualTo("/dev/vda2");
    assertThat(root[1]).isEqualTo("erofs");
    assertThat(root[2].split(",")).contains("ro");
    assertThat(vm.exec("touch /usr/basalt-probe", CMD).exitCode()).isNotZero();

    // /var: ext4 on the partition labelled var, grown to the end of the enlarged disk
    assertThat(vm.execOk("findmnt -no SOURCE,FSTYPE /var", CMD).strip()).isEqualTo("/dev/vda6 ext4");
    assertThat(vm.execOk("lsblk -no PARTLABEL /dev/vda6", CMD).strip()).isEqualTo("var");
    long diskSectors = Long.parseLong(vm.execOk("cat /sys/class/block/vda/size", CMD).strip());
    assertThat(diskSectors * 512).isEqualTo(Files.size(disk));
    String[] var = vm.execOk("cat /sys/class/block/vda6/start /sys/class/block/vda6/size", CMD).strip().split("\\s+");
    long varEnd = Long.parseLong(var[0]) + Long.parseLong(var[1]) - 1;
    assertThat(varEnd).as("var's last sector = the disk's last usable LBA (before the 33-sector backup GPT)")
        .isEqualTo(diskSectors - 34);
    assertThat(Long.parseLong(var[1]) * 512).isGreaterThan(GROW_BYTES);
    assertThat(vm.execOk("sfdisk --verify /dev/vda 2>&1; sfdisk -d /dev/vda | sed -n 's/^last-lba: //p'", CMD))
        .contains(Long.toString(diskSectors - 34));
    String[] statfs = vm.execOk("stat -f -c '%b %S' /var", CMD).strip().split("\\s+");
    long fsBytes = Long.parseLong(statfs[0]) * Long.parseLong(statfs[1]);
    assertThat(fsBytes).as("ext4 spans the grown partition").isGreaterThan(Long.parseLong(var[1]) * 512 * 9 / 10);
    // seeded once from the image's /var
    assertThat(vm.execOk("test -f /var/lib/basalt/.seeded && test -d /var/lib/dpkg/info && echo seeded", CMD)).contains("seeded");

    // /etc: writable overlay; the edit must survive the reboot below
    assertThat(vm.execOk("findmnt -no FSTYPE /etc", CMD).strip()).isEqualTo("overlay");
    vm.execOk("echo " + marker + " > /etc/basalt-test.conf && sync", CMD);
    assertThat(vm.execOk("cat /var/lib/basalt/etc/upper/basalt-test.conf", CMD).strip()).isEqualTo(marker);
    // /tmp is a tmpfs, root's home is writable (bound from /var/roothome)
    assertThat(vm.execOk("findmnt -no FSTYPE /tmp; touch /root/.probe && echo home-ok", CMD)).contains("tmpfs", "home-ok");

    // health and blessing, seen from the guest: the ESP entry lost its counter
    assertThat(vm.execOk("cat /run/basalt/health.status", CMD).strip()).isEqualTo("passed");
    assertThat(vm.execOk("systemctl is-active basalt-health.service basalt-bless.service boot-complete.target", CMD).lines().toList())
        .containsExactly("active", "active", "active");
    String entries = vm.execOk("mount -o ro /dev/vda1 /mnt && ls /mnt/loader/entries; umount /mnt", CMD);
    assertThat(entries.lines().toList()).containsExactly("basalt-00000001-a.conf");

    // user-mode networking: the guest reaches a server on the host's loopback at 10.0.2.2
    var server = com.sun.net.httpserver.HttpServer.create(
        new java.net.InetSocketAddress(java.net.InetAddress.getLoopbackAddress(), 0), 0);
    server.createContext("/probe", x -> {
      byte[] body = ("hello from the host " + marker).getBytes();
      x.sendResponseHeaders(200, body.length);
      try (var o = x.getResponseBody()) {
        o.write(body);
      }
    });
    server.start();
    try {
      String got = vm.execOk("dev=$(ls /sys/class/net | grep -v '^lo$' | head -n 1) && ip link set \"$dev\" up"
          + " && ip addr add 10.0.2.15/24 dev \"$dev\" && bash -c 'exec 3<>/dev/tcp/10.0.2.2/" + server.getAddress().getPort()
          + " && printf \"GET /probe HTTP/1.0\\r\\n\\r\\n\" >&3 && cat <&3'", CMD);
      assertThat(got).contains("200", "hello from the host " + marker);
    } finally {
      server.stop(0);
    }

    // systemd drives the i6300esb watchdog (our system.conf.d drop-in): a hung PID 1 resets
    String wd = vm.execOk("for w in /sys/class/watchdog/watchdog*; do echo \"$(cat $w/identity):$(cat $w/state)\"; done; "
        + "systemctl show -p RuntimeWatchdogUSec --value", CMD);
    assertThat(wd.lines().toList()).contains("i6300ESB timer:active", "1min");
  }

  @Test
  @Order(2)
  void failingRequiredCheckRebootsAndSpendsATry() throws IOException {
    assertThat(vm).as("first boot ran").isNotNull();
    // A local required check that fails; it prints the /etc edit, proving it survived the reboot.
    vm.execOk("mkdir -p /etc/basalt/health.d/required.d && printf '%s\\n' '#!/bin/sh' "
        + "'echo \"etc edit: $(cat /etc/basalt-test.conf)\"' 'exit 1' > /etc/basalt/health.d/required.d/90-test-fail "
        + "&& chmod 755 /etc/basalt/health.d/required.d/90-test-fail", CMD);
    // Put the entry back on trial with two tries, as a staged update would be.
    vm.execOk("mount /dev/vda1 /mnt && mv /mnt/loader/entries/basalt-00000001-a.conf /mnt/loader/entries/basalt-00000001-a+2.conf"
        + " && sync && umount /mnt", CMD);
    vm.reboot();
    vm.awaitConsole("reboot: Restarting system", BOOT);
    long t0 = System.nanoTime();
    vm.awaitConsole("basalt-preinit: starting", BOOT);
    assertThat(vm.pendingConsole()).doesNotContain("first boot");
    vm.awaitConsole("Reached target .*Multi-User System", BOOT);
    timings.put("boot 2: reset to multi-user.target", seconds(t0));
    vm.awaitConsole("required 90-test-fail: FAILED \\(exit 1", BOOT);
    // the check prints the /etc edit made on boot 1; the kernel may interleave console lines, so match the marker
    // itself rather than "the rest of the line"
    assertThat(vm.awaitConsole("etc edit: (persist-[0-9a-f-]{36})", CMD).group(1)).isEqualTo(marker);
    vm.awaitConsole("basalt-health: boot is UNHEALTHY", CMD);
    vm.awaitConsole("rebooting to spend a try \\(1 left\\)", CMD);
    vm.awaitConsole("reboot: Restarting system", BOOT);
    timings.put("boot 2: reset to failed-health reboot", seconds(t0));
    vm.kill();

    // Offline, with mtools: systemd-boot counted the try (+2 -> +1-1) and nothing blessed it.
    List<String> names = new ArrayList<>();
    String dir = Tools.check(Tools.require("mdir").toString(), "-b", "-i", disk + "@@" + facts.get("esp_offset"), "::/loader/entries");
    dir.lines().map(String::strip).filter(l -> !l.isEmpty()).forEach(l -> names.add(l.substring(l.lastIndexOf('/') + 1)));
    assertThat(names).containsExactly("basalt-00000001-a+1-1.conf");
  }

  private static String seconds(long startNanos) {
    return String.format("%.1f s", (System.nanoTime() - startNanos) / 1e9);
  }

  private static String seconds(Duration d) {
    return String.format("%.1f s", d.toMillis() / 1000.0);
  }
}

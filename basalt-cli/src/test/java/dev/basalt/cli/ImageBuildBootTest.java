package dev.basalt.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.basalt.testkit.QemuMachine;
import dev.basalt.testkit.Tools;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * One example spec all the way: examples/k8s-node built on the Debian test OS -> {@code basalt disk} -> booted
 * under QEMU; over the serial console the test checks what the spec asked for.
 */
@Tag("boot")
class ImageBuildBootTest {
  private static final Duration BOOT = Duration.ofMinutes(6);
  private static final Duration CMD = Duration.ofSeconds(60);

  @TempDir Path tmp;

  @Test
  void theK8sNodeExampleBootsWithItsCustomizations() throws Exception {
    for (String t : List.of("qemu-img", "qemu-system-x86_64")) Tools.require(t);
    Path repo = Path.of("").toAbsolutePath();
    while (repo != null && !Files.isRegularFile(repo.resolve("fixtures/testos/build.sh"))) repo = repo.getParent();
    if (repo == null) throw new AssertionError("fixtures/testos/build.sh not found");
    List<String> cmd = List.of("bash", repo.resolve("fixtures/testos/build.sh").toString(), "--print-dir");
    Path os = Path.of(Tools.run(cmd, null, 1800).requireSuccess(cmd).stdout().strip());
    String base = "oci:" + tmp.resolve("base") + ":latest";
    Cli.run("image", "import", "--compression", "zstd", os.resolve("rootfs").toString(), base).ok();
    Path spec = tmp.resolve("k8s-node");
    Tools.check("cp", "-r", repo.resolve("examples/k8s-node").toString(), spec.toString());
    String image = "oci:" + tmp.resolve("image") + ":1";
    Cli.run("image", "build", "-f", spec.resolve("os.yaml").toString(), "-t", image, "--base-override", base,
        "--cache-dir", tmp.resolve("cache").toString()).ok();
    Path disk = tmp.resolve("k8s.qcow2");
    Cli.Run built = Cli.run("disk", image, "-o", disk.toString()).ok();
    assertThat(built.err()).doesNotContain("(node layer added)");
    try (QemuMachine vm = QemuMachine.builder(disk).consoleLog(tmp.resolve("console.log")).start()) {
      vm.awaitConsole("basalt-health: boot is healthy", BOOT);
      vm.login("root", "basalt", BOOT);
      assertThat(vm.execOk("hostname", CMD).strip()).isEqualTo("k8s-node");
      assertThat(vm.execOk("cat /proc/cmdline", CMD)).contains("systemd.unified_cgroup_hierarchy=1", "console=ttyS0,115200");
      assertThat(vm.execOk("cat /etc/modules-load.d/k8s.conf", CMD)).isEqualTo("overlay\nbr_netfilter\n");
      assertThat(vm.execOk("cat /root/.ssh/authorized_keys", CMD)).contains("admin@example");
      assertThat(vm.execOk("systemctl is-enabled apt-daily.timer || true", CMD).strip()).isEqualTo("masked");
      assertThat(vm.execOk("ls /usr/lib/basalt/health.d/required.d", CMD)).contains("cgroup2", "swap-off");
      assertThat(vm.execOk("cat /run/basalt/health.status", CMD)).startsWith("passed");
      assertThat(vm.execOk("test -s /etc/basalt/keys/image-signing.pub && echo present", CMD).strip()).isEqualTo("present");
      System.out.printf("boot to login %d s (k8s-node example)%n", vm.uptime().toSeconds());
    }
  }
}

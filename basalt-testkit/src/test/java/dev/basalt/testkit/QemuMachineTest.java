package dev.basalt.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Drives OVMF's built-in UEFI shell over the serial console: no OS image needed. */
class QemuMachineTest {

  @TempDir Path tmp;

  @Test
  void consoleResetAndPowerCutOnTheUefiShell() throws Exception {
    Path disk = tmp.resolve("empty.raw");
    Files.write(disk, new byte[1 << 20]);
    Path log = tmp.resolve("console.log");
    Path transcript;
    System.setProperty("basalt.qemu.transcripts", tmp.resolve("transcripts").toString());
    try (QemuMachine vm = QemuMachine.builder(disk).network(false).memoryMiB(256).cpus(1).consoleLog(log).start()) {
      transcript = vm.transcript();
      assertThat(transcript.getParent()).isEqualTo(tmp.resolve("transcripts"));
      assertThat(transcript.getFileName().toString()).startsWith("QemuMachineTest-").endsWith(".txt");
      vm.awaitConsole("Shell> ", Duration.ofSeconds(120));
      vm.send("echo basalt-\"one\"\r");
      // The echoed input shows the quotes; only the shell's output has the joined word.
      assertThat(vm.awaitConsole("^basalt-(one)$", Duration.ofSeconds(30)).group(1)).isEqualTo("one");
      assertThat(vm.console()).doesNotContain("\u001b").doesNotContain("\r");
      assertThat(Files.readString(log)).contains("\u001b[");

      // reset = power cycle: a new QEMU process, same console
      vm.awaitConsole("Shell> ", Duration.ofSeconds(30)); // the prompt after the echo
      vm.reset();
      vm.awaitConsole("UEFI Interactive Shell", Duration.ofSeconds(120));
      vm.awaitConsole("Shell> ", Duration.ofSeconds(120));
      assertThat(vm.powerCycles()).isEqualTo(1);
      vm.send("echo after-\"reset\"\r");
      vm.awaitConsole("^after-reset$", Duration.ofSeconds(30));

      assertThatThrownBy(() -> vm.awaitConsole("never-printed", Duration.ofMillis(300)))
          .isInstanceOf(AssertionError.class).hasMessageContaining("timed out").hasMessageContaining("never-printed");

      vm.kill();
      assertThat(vm.isRunning()).isFalse();
      assertThat(vm.powerCycles()).as("a kill is not a reboot").isEqualTo(1);
      assertThatThrownBy(() -> vm.awaitConsole("not printed either", Duration.ofSeconds(5)))
          .isInstanceOf(AssertionError.class).hasMessageContaining("machine stopped");
    } finally {
      System.clearProperty("basalt.qemu.transcripts");
    }
    // the transcript outlives the machine: console text, and why QEMU was restarted or ended
    assertThat(Files.readString(transcript)).contains("after-reset", "shutdown reason host-qmp-system-reset: power cycle 1",
        "(killed by the test)").doesNotContain("\u001b");
  }

  @Test
  void theLoginPromptIsNotTheLastLoginLine() {
    String banner = "Debian GNU/Linux 12 basalt-e2e ttyS0\n\nbasalt-e2e login: root (automatic login)\n\n"
        + "Linux basalt-e2e 6.1.0-50-amd64 #1 SMP\nLast login: Thu Nov 26 03:08:11 UTC 2026 on ttyS0\nroot@basalt-e2e:~# ";
    var m = QemuMachine.LOGIN_OR_SHELL.matcher(banner);
    assertThat(m.find()).isTrue();
    assertThat(m.group("login")).isEqualTo("basalt-e2e login: ");
    assertThat(m.find()).isTrue();
    assertThat(m.group("shell")).as("the next match after the prompt is the shell, not 'Last login: '")
        .isEqualTo("root@basalt-e2e:~# ");
    var k = QemuMachine.LOGIN_OR_SHELL.matcher("[   28.2] health[338]: ok\nnode-1.example login: ");
    assertThat(k.find()).isTrue();
    assertThat(k.group("login")).isEqualTo("node-1.example login: ");
  }

  @Test
  void probesQcow2ByMagic() throws Exception {
    Path raw = tmp.resolve("a.img");
    Files.write(raw, new byte[512]);
    Path qcow = tmp.resolve("b.img");
    Tools.check(Tools.require("qemu-img").toString(), "create", "-q", "-f", "qcow2", qcow.toString(), "1M");
    assertThat(QemuMachine.probeFormat(raw)).isEqualTo("raw");
    assertThat(QemuMachine.probeFormat(qcow)).isEqualTo("qcow2");
  }

  @Test
  void rejectsBadOptionsWithTheValue() {
    var b = QemuMachine.builder(tmp.resolve("x"));
    assertThatThrownBy(() -> b.memoryMiB(16)).hasMessageContaining("16");
    assertThatThrownBy(() -> b.hostForward(0, 22)).hasMessageContaining("0 -> 22");
    assertThatThrownBy(() -> b.format("vmdk")).hasMessageContaining("vmdk");
    assertThatThrownBy(() -> b.cache("fast")).hasMessageContaining("fast");
    assertThatThrownBy(() -> b.name("a/b")).hasMessageContaining("a/b");
    assertThatThrownBy(b::start).hasMessageContaining("disk image not found");
  }
}

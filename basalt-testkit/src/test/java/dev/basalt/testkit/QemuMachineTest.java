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
    try (QemuMachine vm = QemuMachine.builder(disk).network(false).memoryMiB(256).cpus(1).consoleLog(log).start()) {
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
    }
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
    assertThatThrownBy(b::start).hasMessageContaining("disk image not found");
  }
}

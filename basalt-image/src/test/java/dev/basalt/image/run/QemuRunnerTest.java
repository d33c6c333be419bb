package dev.basalt.image.run;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.basalt.image.run.QemuRunner.Accel;
import dev.basalt.image.run.QemuRunner.Format;
import dev.basalt.testkit.Tools;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class QemuRunnerTest {
  @TempDir Path tmp;

  @Test
  void probesTheFormatAndChecksTheExtension() throws IOException {
    Path raw = Files.write(tmp.resolve("disk.raw"), new byte[4096]);
    Path qcow = tmp.resolve("disk.qcow2");
    Tools.check(Tools.require("qemu-img").toString(), "create", "-q", "-f", "qcow2", qcow.toString(), "1M");
    assertThat(QemuRunner.builder(raw).build().format()).isEqualTo(Format.RAW);
    assertThat(QemuRunner.builder(qcow).build().format()).isEqualTo(Format.QCOW2);

    Path fakeQcow = Files.write(tmp.resolve("fake.qcow2"), new byte[4096]);
    assertThatThrownBy(() -> QemuRunner.builder(fakeQcow).build())
        .isInstanceOf(IOException.class).hasMessageContaining("fake.qcow2 is named .qcow2 but is not a qcow2 image");
    Path hidden = tmp.resolve("hidden.img");
    Files.copy(qcow, hidden);
    assertThatThrownBy(() -> QemuRunner.builder(hidden).build())
        .isInstanceOf(IOException.class).hasMessageContaining("hidden.img is named .img but holds a qcow2 image");
    assertThat(QemuRunner.builder(hidden).format(Format.QCOW2).build().format()).isEqualTo(Format.QCOW2);
    assertThatThrownBy(() -> QemuRunner.builder(tmp.resolve("nope.raw")).build())
        .isInstanceOf(IOException.class).hasMessageContaining("disk image not found").hasMessageContaining("nope.raw");
    assertThatThrownBy(() -> QemuRunner.builder(raw).ovmf(tmp.resolve("CODE.fd"), tmp.resolve("VARS.fd")).build())
        .isInstanceOf(IOException.class).hasMessageContaining("UEFI firmware not found").hasMessageContaining("CODE.fd");
  }

  @Test
  void optionsAreChecked() {
    var b = QemuRunner.builder(tmp.resolve("d.raw"));
    assertThatThrownBy(() -> b.memoryMiB(100)).hasMessageContaining("--memory").hasMessageContaining("100");
    assertThatThrownBy(() -> b.cpus(0)).hasMessageContaining("--cpus").hasMessageContaining("0");
    assertThatThrownBy(() -> b.sshPort(70000)).hasMessageContaining("--ssh-port").hasMessageContaining("70000");
  }

  @Test
  void commandLineForTcgAndKvm() throws IOException {
    Path disk = Files.write(tmp.resolve("node.raw"), new byte[4096]);
    QemuRunner r = QemuRunner.builder(disk).memoryMiB(1024).cpus(3).sshPort(2222).build();
    assertThat(r.varsFile()).isEqualTo(tmp.resolve("node.raw.efivars"));
    List<String> tcg = r.command(Accel.TCG, List.of("-nographic"));
    assertThat(String.join(" ", tcg)).contains("-machine q35 -m 1024 -smp 3 -accel tcg,thread=multi -cpu max",
        "if=pflash,format=raw,unit=0,readonly=on,file=" + QemuRunner.OVMF_CODE,
        "if=pflash,format=raw,unit=1,file=" + r.varsFile(),
        "if=virtio,format=raw,file=" + disk,
        "hostfwd=tcp:127.0.0.1:2222-:22", "-device i6300esb").endsWith("-nographic");
    assertThat(String.join(" ", r.command(Accel.KVM, List.of()))).contains("-accel kvm -cpu host").doesNotContain("tcg");
    assertThatThrownBy(() -> r.command(Accel.AUTO, List.of())).hasMessageContaining("AUTO");
  }

  @Test
  void runReturnsQemusExitStatusAndCreatesTheVarsStore() throws IOException {
    Path disk = Files.write(tmp.resolve("node.raw"), new byte[4096]);
    Path args = tmp.resolve("args");
    Path fake = Files.writeString(tmp.resolve("fake-qemu"), "#!/bin/sh\necho \"$@\" > " + args + "\nexit 7\n");
    fake.toFile().setExecutable(true);
    QemuRunner r = QemuRunner.builder(disk).qemu(fake.toString()).accel(Accel.TCG).build();
    assertThat(r.run()).isEqualTo(7);
    assertThat(Files.readString(args)).contains("-nographic", "file=" + disk);
    assertThat(Files.mismatch(r.varsFile(), QemuRunner.OVMF_VARS)).isEqualTo(-1L);
  }

  @Test
  void theKvmProbeGuestReallyExitsUnderTcg() {
    // The probe sector itself is proved under TCG: it must reach isa-debug-exit (status 3).
    assertThat(QemuRunner.probeBoots(Tools.require("qemu-system-x86_64").toString(), "tcg", 20)).isTrue();
    assertThat(QemuRunner.kvmWorks("qemu-system-x86_64", tmp.resolve("no-kvm"), 2)).isFalse();
    long t0 = System.nanoTime();
    boolean kvm = QemuRunner.kvmWorks("qemu-system-x86_64", Path.of("/dev/kvm"), 2);
    System.out.printf("[QemuRunnerTest] KVM usable here: %s (probe %d ms)%n", kvm, (System.nanoTime() - t0) / 1_000_000);
    assertThat((System.nanoTime() - t0) / 1_000_000).isLessThan(10_000);
  }
}

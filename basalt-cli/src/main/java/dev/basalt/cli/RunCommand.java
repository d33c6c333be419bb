package dev.basalt.cli;

import dev.basalt.image.disk.DiskBuilder;
import dev.basalt.image.rootfs.MergedImage;
import dev.basalt.image.run.QemuRunner;
import dev.basalt.fs.diskimage.DiskImageFormat;
import dev.basalt.oci.api.ImageSource;
import dev.basalt.oci.transport.Transports;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "run", mixinStandardHelpOptions = true,
    description = {"Boot a disk (raw or qcow2) or an image in QEMU with UEFI (OVMF), the serial console on this",
        "terminal. KVM when it truly works here, else TCG. An image reference is first made into a temporary",
        "qcow2 disk. Exits with QEMU's status when the VM stops (Ctrl-A X quits)."})
final class RunCommand implements Callable<Integer> {
  @Parameters(paramLabel = "FILE|REF") String target;
  @Option(names = "--memory", defaultValue = "2048", description = "Guest memory in MiB (default ${DEFAULT-VALUE}).") int memory;
  @Option(names = "--cpus", defaultValue = "2", description = "Guest CPUs (default ${DEFAULT-VALUE}).") int cpus;
  @Option(names = "--ssh-port", defaultValue = "0", description = "Forward 127.0.0.1:PORT to the guest's port 22.") int sshPort;
  @Mixin RegistryFlags flags;

  @Override
  public Integer call() throws Exception {
    Path disk = Path.of(target);
    Path temp = null;
    if (!Files.isRegularFile(disk)) {
      temp = Files.createTempDirectory("basalt-run");
      disk = temp.resolve("disk.qcow2");
      try (ImageSource s = Transports.openSource(RegistryFlags.parse(target), flags.options(true))) {
        DiskBuilder.of(MergedImage.resolve(s, flags.platform())).output(disk).format(DiskImageFormat.QCOW2)
            .nodeLayer(NodeLayers.forThisInstallation(true)::writeTo).build();
      }
    }
    try {
      QemuRunner.Builder b = QemuRunner.builder(disk).memoryMiB(memory).cpus(cpus);
      if (sshPort > 0) b.sshPort(sshPort);
      return b.build().run();
    } finally {
      if (temp != null) {
        try (var s = Files.walk(temp)) {
          s.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
      }
    }
  }
}

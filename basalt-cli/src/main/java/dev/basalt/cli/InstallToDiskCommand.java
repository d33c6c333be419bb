package dev.basalt.cli;

import dev.basalt.image.disk.DiskResult;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "to-disk", mixinStandardHelpOptions = true,
    description = {"Write an image onto a block device (or disk image file), sized to it: the layout of",
        "'basalt disk' (GPT, ESP with systemd-boot and a counted entry, root-a EROFS + verity, root-b,",
        "var made on first boot), written straight onto the device. Refuses the disk the running system",
        "runs from, a device in use, and one holding a partition table or filesystem unless --wipe.",
        "The partition table is invalidated first and written last: an interrupted install boots nothing."})
final class InstallToDiskCommand implements Callable<Integer> {
  @Parameters(index = "0", paramLabel = "DEVICE", description = "The whole disk, e.g. /dev/sdb or /dev/disk/by-id/...")
  Path device;
  @Parameters(index = "1", paramLabel = "REF", description = "docker://…, oci:…, oci-archive:…, docker-archive:…")
  String ref;
  @Option(names = "--wipe", description = "Overwrite whatever partition table or filesystem the device holds.")
  boolean wipe;
  @Mixin DiskOptions options;

  /** Where the host tells mounts, swaps and block devices (tests replace it). */
  static TargetDevice.Host host = TargetDevice.Host.LIVE;

  @Override
  public Integer call() throws Exception {
    TargetDevice target = TargetDevice.of(device, host);
    target.refuseInUse(host);
    Optional<String> found = target.signature();
    if (found.isPresent() && !wipe) {
      throw new IOException(device + " holds " + found.get() + "; pass --wipe to overwrite it");
    }
    found.ifPresent(f -> System.err.println("wiping " + f + " on " + device));
    long t0 = System.nanoTime();
    Path work = Path.of(System.getProperty("java.io.tmpdir"));
    DiskResult r = options.write(ref, b -> b.size(target.sizeBytes()).writeOnto(target.path(), work),
        () -> invalidate(target.path(), target.sizeBytes()));
    double secs = (System.nanoTime() - t0) / 1e9;
    if (target.blockDevice()) rereadPartitions(target.path());
    System.out.print(r.summary());
    System.err.printf(Locale.ROOT, "installed onto %s in %.1f s%n", device, secs);
    return 0;
  }

  /** Zeroes both GPT headers: the disk no longer claims to hold anything. */
  private static String invalidate(Path dev, long size) throws IOException {
    try (FileChannel ch = FileChannel.open(dev, StandardOpenOption.WRITE)) {
      ByteBuffer zeros = ByteBuffer.allocate(1 << 20);
      for (long at : new long[] {0, size - (1 << 20)}) {
        zeros.clear();
        while (zeros.hasRemaining()) ch.write(zeros, at + zeros.position());
      }
      ch.force(true);
    }
    return "its partition table on " + dev + " was erased";
  }

  /** Lets the kernel see the new partitions; a device without partition support (plain loop) is fine without. */
  private static void rereadPartitions(Path dev) {
    try {
      Process p = new ProcessBuilder(List.of("blockdev", "--rereadpt", dev.toString())).redirectErrorStream(true).start();
      String out = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
      if (p.waitFor(60, TimeUnit.SECONDS) && p.exitValue() != 0) {
        System.err.println("note: the kernel did not re-read the partition table of " + dev + " (" + out.strip()
            + "); it will at the next boot");
      }
    } catch (IOException e) {
      System.err.println("note: blockdev not found; the kernel sees the new partitions at the next boot");
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}

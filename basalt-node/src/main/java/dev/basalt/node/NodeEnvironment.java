package dev.basalt.node;

import dev.basalt.fs.gpt.GptPartition;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.UUID;

/**
 * Where a node's pieces are: the disk (a block device, or in tests a disk image file), the mounted
 * ESP, the state directory, and the files the running system tells its boot by.
 *
 * @param disk the whole disk holding the Basalt partitions
 * @param esp the ESP's mount point (or an unpacked copy in tests)
 * @param stateDir {@code /var/lib/basalt}: state.json, the blob cache ({@code cache/}), the lock
 * @param cmdline {@code /proc/cmdline}: {@code root=PARTUUID=} tells the booted slot
 * @param bootId {@code /proc/sys/kernel/random/boot_id}: tells one boot from the next
 * @param healthStatus {@code /run/basalt/health.status}, written by the health runner
 * @param rebooter what {@code --apply} runs
 */
public record NodeEnvironment(Path disk, Path esp, Path stateDir, Path cmdline, Path bootId, Path healthStatus,
    Rebooter rebooter) {
  public NodeEnvironment {
    Objects.requireNonNull(disk, "disk");
    Objects.requireNonNull(esp, "esp");
    Objects.requireNonNull(stateDir, "stateDir");
    Objects.requireNonNull(cmdline, "cmdline");
    Objects.requireNonNull(bootId, "bootId");
    Objects.requireNonNull(healthStatus, "healthStatus");
    Objects.requireNonNull(rebooter, "rebooter");
  }

  /**
   * A system in a directory tree, for tests and offline work: {@code <sysroot>/proc/cmdline},
   * {@code <sysroot>/proc/sys/kernel/random/boot_id}, {@code <sysroot>/var/lib/basalt},
   * {@code <sysroot>/run/basalt/health.status}; disk image file and ESP directory given; no reboot.
   */
  public static NodeEnvironment sysroot(Path sysroot, Path disk, Path esp) {
    return new NodeEnvironment(disk, esp, sysroot.resolve("var/lib/basalt"), sysroot.resolve("proc/cmdline"),
        sysroot.resolve("proc/sys/kernel/random/boot_id"), sysroot.resolve("run/basalt/health.status"), Rebooter.NONE);
  }

  public NodeEnvironment withRebooter(Rebooter r) {
    return new NodeEnvironment(disk, esp, stateDir, cmdline, bootId, healthStatus, r);
  }

  /**
   * The running machine: the disk is the one holding {@code root=PARTUUID=} of /proc/cmdline, the
   * ESP its partition labelled {@code esp}, used where it is mounted or else mounted privately at
   * {@code /run/basalt/esp} (as the bless script does).
   */
  public static NodeEnvironment live() throws IOException {
    Path cmdline = Path.of("/proc/cmdline");
    KernelCmdline cl = KernelCmdline.parse(Files.readString(cmdline, StandardCharsets.UTF_8));
    UUID root = cl.rootPartUuid().orElseThrow(() -> new NodeException(
        "/proc/cmdline has no root=PARTUUID=...: this system was not booted from a Basalt disk"));
    Path part = byPartUuid(root);
    String name = part.getFileName().toString();
    Path sysPart = Path.of("/sys/class/block", name).toRealPath();
    Path disk = Path.of("/dev", sysPart.getParent().getFileName().toString());
    DiskLayout layout = DiskLayout.read(disk);
    Path espDev = byPartUuid(layout.esp().uuid());
    Path esp = mountPointOf(espDev).orElse(null);
    if (esp == null) esp = mountEsp(espDev, layout.esp());
    return new NodeEnvironment(disk, esp, Path.of("/var/lib/basalt"), cmdline,
        Path.of("/proc/sys/kernel/random/boot_id"), Path.of("/run/basalt/health.status"), Rebooter.systemctl());
  }

  private static Path byPartUuid(UUID uuid) throws IOException {
    Path link = Path.of("/dev/disk/by-partuuid", uuid.toString());
    try {
      return link.toRealPath();
    } catch (NoSuchFileException e) {
      throw new NodeException("no partition with PARTUUID " + uuid + " (" + link + " is missing)", e);
    }
  }

  /** Mount point of a block device from /proc/self/mountinfo (field 10 is the source). */
  static Optional<Path> mountPointOf(Path device) throws IOException {
    for (String line : Files.readAllLines(Path.of("/proc/self/mountinfo"), StandardCharsets.UTF_8)) {
      String[] halves = line.split(" - ", 2);
      if (halves.length < 2) continue;
      String[] left = halves[0].split(" ");
      String[] right = halves[1].split(" ");
      if (right.length >= 2 && right[1].equals(device.toString()) && left.length >= 5) {
        return Optional.of(Path.of(left[4].replace("\\040", " ")));
      }
    }
    return Optional.empty();
  }

  private static Path mountEsp(Path dev, GptPartition esp) throws IOException {
    Path mnt = Files.createDirectories(Path.of("/run/basalt/esp"));
    Process p = new ProcessBuilder(List.of("mount", "-t", "vfat", "-o", "rw,nosuid,nodev,noexec,umask=0077",
        dev.toString(), mnt.toString())).redirectErrorStream(true).start();
    try {
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      if (p.waitFor() != 0) throw new NodeException("cannot mount the ESP " + dev + " (" + esp.uuid() + ") on " + mnt + ": " + out.strip());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new NodeException("interrupted mounting the ESP", e);
    }
    return mnt;
  }

  /** The current boot id, "" when the file is missing (then every run counts as one boot). */
  String readBootId() throws IOException {
    try {
      return Files.readString(bootId, StandardCharsets.UTF_8).strip();
    } catch (NoSuchFileException e) {
      return "";
    }
  }

  KernelCmdline readCmdline() throws IOException {
    try {
      return KernelCmdline.parse(Files.readString(cmdline, StandardCharsets.UTF_8));
    } catch (NoSuchFileException e) {
      throw new NodeException("kernel command line " + cmdline + " is missing", e);
    }
  }

  /** The health runner's verdict for this boot, if it ran. */
  Optional<String> readHealthStatus() throws IOException {
    try {
      return Optional.of(Files.readString(healthStatus, StandardCharsets.UTF_8).strip());
    } catch (NoSuchFileException e) {
      return Optional.empty();
    }
  }
}

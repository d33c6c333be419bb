package dev.basalt.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.basalt.fs.gpt.GptPartition;
import dev.basalt.fs.gpt.GptTable;
import dev.basalt.testkit.Tools;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code basalt install to-disk} onto real loop devices and a file: the disk checked with sgdisk,
 * fsck.fat, fsck.erofs and veritysetup and compared byte for byte with {@code basalt disk}; and the
 * refusals (data without --wipe, a mounted filesystem, the running system's disk, a partition, too
 * small) that leave the device as it was.
 */
class InstallToDiskCommandTest {
  private static final List<String> SMALL = List.of("--no-agent", "--esp-size", "64M", "--root-size", "16M");
  @TempDir Path tmp;
  private final List<String> loops = new ArrayList<>();
  private final List<Path> mounts = new ArrayList<>();
  private String ref;

  @BeforeEach
  void image() throws Exception {
    for (String t : List.of("losetup", "blkid", "sgdisk", "fsck.fat", "fsck.erofs", "veritysetup", "mkfs.ext4", "cmp")) {
      Tools.require(t);
    }
    ref = "oci:" + tmp.resolve("layout") + ":v1";
    Cli.run("image", "import", NodeCommandsTest.rootfs(tmp, "1").toString(), ref).ok();
  }

  @AfterEach
  void detach() {
    InstallToDiskCommand.host = TargetDevice.Host.LIVE;
    for (Path m : mounts) Tools.run(List.of("umount", m.toString()));
    for (String l : loops) Tools.run(List.of("losetup", "-d", l));
  }

  private String loop(String file, long mib) {
    Path f = tmp.resolve(file);
    Tools.check("truncate", "-s", mib + "M", f.toString());
    String dev = Tools.check("losetup", "-P", "-f", "--show", f.toString()).strip();
    loops.add(dev);
    return dev;
  }

  private static Cli.Run install(String... args) {
    List<String> a = new ArrayList<>(List.of("install", "to-disk"));
    a.addAll(List.of(args));
    a.addAll(SMALL);
    return Cli.run(a.toArray(String[]::new));
  }

  private static String sha(String dev) {
    return Tools.check("sha256sum", dev).split(" ")[0];
  }

  @Test
  void installsOntoALoopDeviceTheBytesOfBasaltDisk() throws Exception {
    String dev = loop("dev.img", 400);
    Cli.Run r = install(dev, ref);
    r.ok();
    assertThat(r.err()).contains("installed onto " + dev);
    String rootHash = r.out().lines().filter(l -> l.strip().startsWith("root hash ")).findFirst().orElseThrow().strip().substring(10);

    Path file = tmp.resolve("file.raw");
    List<String> d = new ArrayList<>(List.of("disk", ref, "-o", file.toString(), "--size", "400M"));
    d.addAll(SMALL);
    Cli.run(d.toArray(String[]::new)).ok();
    Tools.check("cmp", file.toString(), dev); // a zeroed device: identical bytes

    assertThat(Tools.check("sgdisk", "-v", dev)).contains("No problems found");
    GptTable t;
    try (FileChannel ch = FileChannel.open(Path.of(dev), StandardOpenOption.READ)) {
      t = GptTable.read(ch);
    }
    assertThat(t.sizeBytes()).isEqualTo(400L << 20);
    Path esp = region(dev, t.find("esp").orElseThrow(), "esp.img");
    Tools.check("fsck.fat", "-n", esp.toString());
    Path root = region(dev, t.find("root-a").orElseThrow(), "root.img");
    Tools.check("fsck.erofs", root.toString());
    Path hash = region(dev, t.find("verity-a").orElseThrow(), "verity.img");
    Tools.check("veritysetup", "verify", root.toString(), hash.toString(), rootHash);
    // a second install needs --wipe
    String before = sha(dev);
    Cli.Run again = install(dev, ref);
    assertThat(again.exitCode()).isEqualTo(1);
    assertThat(again.err()).contains(dev + " holds a partition table (gpt); pass --wipe to overwrite it");
    assertThat(sha(dev)).isEqualTo(before);
    Cli.Run wiped = install(dev, ref, "--wipe");
    wiped.ok();
    assertThat(wiped.err()).contains("wiping a partition table (gpt) on " + dev);
    assertThat(sha(dev)).isEqualTo(before);
  }

  @Test
  void installsOntoAFileAndRefusesOneTooSmall() throws Exception {
    Path f = tmp.resolve("disk.img");
    Tools.check("truncate", "-s", "400M", f.toString());
    install(f.toString(), ref).ok();
    assertThat(Tools.check("sgdisk", "-v", f.toString())).contains("No problems found");

    Path small = tmp.resolve("small.img");
    Tools.check("truncate", "-s", "200M", small.toString());
    Cli.Run r = install(small.toString(), ref);
    assertThat(r.exitCode()).isEqualTo(1);
    assertThat(r.err()).contains("disk size " + (200L << 20) + " bytes (200 MiB) is too small", "at least");
    assertThat(Files.size(small)).isEqualTo(200L << 20);
    assertThat(Tools.run(List.of("blkid", "-p", small.toString())).exitCode()).as("nothing written").isEqualTo(2);
    assertThat(Tools.check("sha256sum", small.toString())).startsWith(
        Tools.check("bash", "-c", "head -c 200M /dev/zero | sha256sum").split(" ")[0]);

    Cli.Run odd = install(tmp.resolve("nope").toString(), ref);
    assertThat(odd.exitCode()).isEqualTo(1);
    assertThat(odd.err()).contains("nope does not exist");
    Cli.Run dir = install(tmp.toString(), ref);
    assertThat(dir.err()).contains("is neither a block device nor a disk image file");
  }

  @Test
  void refusesAMountedFilesystemAndDataWithoutWipe() throws Exception {
    String dev = loop("ext4.img", 300);
    Tools.check("mkfs.ext4", "-q", "-L", "data", dev);
    Path mnt = Files.createDirectories(tmp.resolve("mnt"));
    Tools.check("mount", dev, mnt.toString());
    mounts.add(mnt);
    Cli.Run r = install(dev, ref, "--wipe");
    assertThat(r.exitCode()).isEqualTo(1);
    assertThat(r.err()).contains(dev + " is in use: " + dev + " is mounted at " + mnt + "; unmount it first");
    Tools.check("umount", mnt.toString());
    mounts.clear();
    Cli.Run data = install(dev, ref);
    assertThat(data.exitCode()).isEqualTo(1);
    assertThat(data.err()).contains(dev + " holds a filesystem (ext4, label 'data'); pass --wipe");
    assertThat(Tools.check("blkid", "-p", "-o", "value", "-s", "TYPE", dev).strip()).isEqualTo("ext4");
  }

  @Test
  void refusesTheDiskTheRunningSystemRunsFrom() throws Exception {
    String dev = loop("root.img", 400);
    String majMin = Files.readString(Path.of("/sys/class/block", Path.of(dev).getFileName().toString(), "dev")).strip();
    Path mountinfo = tmp.resolve("mountinfo");
    Files.writeString(mountinfo, "22 1 " + majMin + " / / rw,relatime - ext4 " + dev + " rw\n");
    InstallToDiskCommand.host = new TargetDevice.Host(Path.of("/sys/class/block"), mountinfo, Path.of("/proc/swaps"));
    Cli.Run r = install(dev, ref, "--wipe");
    assertThat(r.exitCode()).isEqualTo(1);
    assertThat(r.err()).contains(dev + " is the disk the running system runs from (/ is on " + dev + ")");
    assertThat(Tools.run(List.of("blkid", "-p", dev)).exitCode()).isEqualTo(2);
  }

  @Test
  void refusesAPartition() throws Exception {
    // loop partitions do not show up in this environment's sysfs: the kernel's view is laid out as for /dev/sda1
    String dev = loop("part.img", 400);
    String name = Path.of(dev).getFileName().toString();
    Path sys = tmp.resolve("sys");
    Path part = Files.createDirectories(sys.resolve("devices/sdz/" + name));
    Files.writeString(part.resolve("partition"), "1\n");
    Files.createDirectories(sys.resolve("class/block"));
    Files.createSymbolicLink(sys.resolve("class/block/" + name), part);
    InstallToDiskCommand.host = new TargetDevice.Host(sys.resolve("class/block"), Path.of("/proc/self/mountinfo"),
        Path.of("/proc/swaps"));
    Cli.Run r = install(dev, ref, "--wipe");
    assertThat(r.exitCode()).isEqualTo(1);
    assertThat(r.err()).contains(dev + " is a partition; give the whole disk (/dev/sdz)");
  }

  private Path region(String dev, GptPartition p, String name) {
    Path out = tmp.resolve(name);
    Tools.check("dd", "if=" + dev, "of=" + out, "bs=1M", "skip=" + p.offsetBytes() / (1 << 20),
        "count=" + p.sizeBytes() / (1 << 20), "status=none");
    return out;
  }
}

package dev.basalt.cli;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * The device {@code basalt install to-disk} writes onto (a whole block device, or a disk image
 * file), and the reasons not to: it is (or holds) the running system's root, something on it is
 * mounted, used as swap or held by device-mapper/RAID, it is a partition, or it holds a partition
 * table or filesystem (unless wiping was asked for).
 *
 * @param path the device as given, resolved (no symlinks)
 * @param name its kernel name ({@code loop3}, {@code sda}); null for a file
 * @param sizeBytes its size, rounded down to 1 MiB
 */
record TargetDevice(Path path, String name, long sizeBytes) {
  static final long MIB = 1L << 20;

  /** Where the host tells its state; tests point these elsewhere. */
  record Host(Path sysClassBlock, Path mountinfo, Path swaps) {
    static final Host LIVE = new Host(Path.of("/sys/class/block"), Path.of("/proc/self/mountinfo"), Path.of("/proc/swaps"));
  }

  boolean blockDevice() { return name != null; }

  /** The target at {@code given}: a whole block device or a regular file, sized. */
  static TargetDevice of(Path given, Host host) throws IOException {
    Path real;
    try {
      real = given.toRealPath();
    } catch (NoSuchFileException e) {
      throw new IOException(given + " does not exist");
    }
    if (Files.isRegularFile(real)) {
      long size = Files.size(real);
      if (size % MIB != 0) {
        throw new IOException(given + " is a file of " + size + " bytes; a disk image file must be a multiple of 1 MiB");
      }
      return new TargetDevice(real, null, size);
    }
    String name = real.getFileName().toString();
    Path sys = host.sysClassBlock().resolve(name);
    if (!Files.isDirectory(sys) || Files.isDirectory(real) || !real.startsWith("/dev")) {
      throw new IOException(given + " is neither a block device nor a disk image file");
    }
    if (Files.exists(sys.resolve("partition"))) {
      String disk = sys.toRealPath().getParent().getFileName().toString();
      throw new IOException(given + " is a partition; give the whole disk (/dev/" + disk + ")");
    }
    long sectors = Long.parseLong(Files.readString(sys.resolve("size"), StandardCharsets.US_ASCII).strip());
    return new TargetDevice(real, name, sectors * 512 / MIB * MIB);
  }

  /**
   * Refuses a device the running system uses: the disk of {@code /}, anything mounted from it or
   * its partitions, swap on it, device-mapper or RAID holding it.
   */
  void refuseInUse(Host host) throws IOException {
    if (!blockDevice()) return;
    Map<String, String> devs = devNumbers(host); // maj:min -> kernel name, of the disk and its partitions
    List<String[]> mounts = new ArrayList<>();
    for (String line : Files.readAllLines(host.mountinfo(), StandardCharsets.UTF_8)) {
      String[] f = line.split(" ");
      if (f.length > 4) mounts.add(new String[] {f[2], unescape(f[4])});
    }
    for (String[] m : mounts) {
      if (m[1].equals("/") && devs.containsKey(m[0])) {
        throw new IOException(path + " is the disk the running system runs from (/ is on /dev/" + devs.get(m[0])
            + "); boot from a live medium or another disk to install onto it");
      }
    }
    for (String[] m : mounts) {
      if (devs.containsKey(m[0])) {
        throw new IOException(path + " is in use: /dev/" + devs.get(m[0]) + " is mounted at " + m[1] + "; unmount it first");
      }
    }
    for (String n : devs.values()) {
      try (Stream<Path> s = Files.list(host.sysClassBlock().resolve(n).resolve("holders"))) {
        List<String> holders = s.map(p -> p.getFileName().toString()).sorted().toList();
        if (!holders.isEmpty()) {
          throw new IOException(path + " is in use: /dev/" + n + " is held by " + String.join(", ", holders)
              + " (device-mapper, LVM or RAID); stop them first");
        }
      } catch (NoSuchFileException e) {
        // no holders directory: nothing holds it
      }
    }
    if (Files.exists(host.swaps())) {
      for (String line : Files.readAllLines(host.swaps(), StandardCharsets.UTF_8)) {
        String dev = line.split("\\s+")[0];
        for (String n : devs.values()) {
          if (dev.equals("/dev/" + n)) throw new IOException(path + " is in use: /dev/" + n + " is active swap; swapoff it first");
        }
      }
    }
  }

  private Map<String, String> devNumbers(Host host) throws IOException {
    Map<String, String> out = new LinkedHashMap<>();
    Path sys = host.sysClassBlock().resolve(name);
    out.put(Files.readString(sys.resolve("dev"), StandardCharsets.US_ASCII).strip(), name);
    try (Stream<Path> s = Files.list(sys.toRealPath())) {
      for (Path p : s.toList()) {
        if (Files.exists(p.resolve("partition")) && Files.exists(p.resolve("dev"))) {
          out.put(Files.readString(p.resolve("dev"), StandardCharsets.US_ASCII).strip(), p.getFileName().toString());
        }
      }
    }
    return out;
  }

  private static String unescape(String mountPoint) {
    return mountPoint.replace("\\040", " ").replace("\\011", "\t").replace("\\012", "\n").replace("\\134", "\\");
  }

  /**
   * What {@code blkid -p} finds on the device (a partition table or a filesystem), e.g.
   * {@code "a gpt partition table"}; empty when nothing.
   */
  Optional<String> signature() throws IOException {
    List<String> cmd = List.of("blkid", "-p", "-o", "export", path.toString());
    Process p;
    try {
      p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    } catch (IOException e) {
      throw new IOException("blkid (util-linux) is needed to check " + path + " for data: " + e.getMessage(), e);
    }
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    int rc;
    try {
      if (!p.waitFor(60, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        throw new IOException("blkid -p " + path + " did not finish");
      }
      rc = p.exitValue();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted probing " + path, e);
    }
    if (rc == 2) return Optional.empty(); // nothing found
    if (rc == 8) return Optional.of("several signatures (blkid: ambivalent probing result)");
    Map<String, String> kv = new LinkedHashMap<>();
    for (String line : out.split("\n")) {
      int eq = line.indexOf('=');
      if (eq > 0) kv.put(line.substring(0, eq), line.substring(eq + 1));
    }
    if (rc != 0 && kv.isEmpty()) throw new IOException("blkid -p " + path + " failed (exit " + rc + "): " + out.strip());
    if (kv.containsKey("PTTYPE")) return Optional.of("a partition table (" + kv.get("PTTYPE") + ")");
    if (kv.containsKey("TYPE")) return Optional.of("a filesystem (" + kv.get("TYPE") + (kv.containsKey("LABEL")
        ? ", label '" + kv.get("LABEL") + "'" : "") + ")");
    return Optional.of("data blkid recognises (" + String.join(", ", kv.keySet()) + ")");
  }
}

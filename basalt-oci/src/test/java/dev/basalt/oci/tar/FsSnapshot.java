package dev.basalt.oci.tar;

import dev.basalt.testkit.Tools;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

/**
 * Test helper: a comparable snapshot of a real directory tree, read with stat (unix:* attributes)
 * and the real {@code getfattr}, so trees made by tar, umoci or our code can be compared field by field.
 */
public final class FsSnapshot {
  private FsSnapshot() {}

  /**
   * One node. {@code link} is the sorted list of all paths sharing the inode (hardlink identity),
   * {@code xattrs} are name → hex.
   */
  public record Node(String type, int mode, long uid, long gid, long size, String sha256, String target,
                     long rdev, long mtimeSeconds, int mtimeNanos, Map<String, String> xattrs, List<String> links) {
    public Node withoutMtime() {
      return new Node(type, mode, uid, gid, size, sha256, target, rdev, 0, 0, xattrs, links);
    }

    public Node withoutDirMtime() {
      return type.equals("dir") ? withoutMtime() : this;
    }
  }

  /** Snapshot of every path under {@code root} ("" is the root itself). */
  public static Map<String, Node> of(Path root) throws IOException {
    Map<String, Map<String, String>> xattrs = xattrs(root);
    Map<Long, List<String>> byInode = new TreeMap<>();
    Map<String, Map<String, Object>> attrs = new TreeMap<>();
    try (Stream<Path> s = Files.walk(root)) {
      for (Path p : (Iterable<Path>) s::iterator) {
        String rel = root.relativize(p).toString();
        Map<String, Object> a = Files.readAttributes(p, "unix:*", LinkOption.NOFOLLOW_LINKS);
        attrs.put(rel, a);
        if (!Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)) {
          byInode.computeIfAbsent((Long) a.get("ino"), k -> new ArrayList<>()).add(rel);
        }
      }
    }
    Map<String, Node> out = new TreeMap<>();
    for (Map.Entry<String, Map<String, Object>> e : attrs.entrySet()) {
      String rel = e.getKey();
      Map<String, Object> a = e.getValue();
      Path p = root.resolve(rel);
      int rawMode = (Integer) a.get("mode");
      String type = switch (rawMode & 0170000) {
        case 0040000 -> "dir";
        case 0100000 -> "file";
        case 0120000 -> "symlink";
        case 0020000 -> "chr";
        case 0060000 -> "blk";
        case 0010000 -> "fifo";
        case 0140000 -> "socket";
        default -> "?" + Integer.toOctalString(rawMode);
      };
      long size = type.equals("file") ? (Long) a.get("size") : 0;
      String sha = type.equals("file") ? sha256(p) : null;
      String target = type.equals("symlink") ? Files.readSymbolicLink(p).toString() : null;
      long rdev = type.equals("chr") || type.equals("blk") ? (Long) a.get("rdev") : 0;
      FileTime mt = (FileTime) a.get("lastModifiedTime");
      long nanosTotal = mt.to(java.util.concurrent.TimeUnit.NANOSECONDS);
      long secs = Math.floorDiv(nanosTotal, 1_000_000_000L);
      int nanos = (int) Math.floorMod(nanosTotal, 1_000_000_000L);
      List<String> links = type.equals("dir") ? List.of() : byInode.get((Long) a.get("ino")).stream().sorted().toList();
      out.put(rel.isEmpty() ? "" : rel, new Node(type, rawMode & 07777, ((Number) a.get("uid")).longValue(),
          ((Number) a.get("gid")).longValue(), size, sha, target, rdev, secs, nanos,
          xattrs.getOrDefault(rel, Map.of()), links));
    }
    return out;
  }

  /** Linux rdev encoding → major. */
  public static int major(long rdev) {
    return (int) (((rdev >>> 32) & 0xfffff000L) | ((rdev >>> 8) & 0xfff));
  }

  public static int minor(long rdev) {
    return (int) (((rdev >>> 12) & 0xffffff00L) | (rdev & 0xff));
  }

  /** All xattrs under root by relative path, read with the real getfattr (symlinks not followed). */
  public static Map<String, Map<String, String>> xattrs(Path root) {
    Tools.require("getfattr");
    String outText = Tools.run(List.of("getfattr", "-R", "-h", "-d", "-m", "-", "-e", "hex", "--absolute-names",
        root.toString())).stdout();
    Map<String, Map<String, String>> out = new TreeMap<>();
    String current = null;
    String prefix = root.toString();
    for (String line : outText.split("\n")) {
      if (line.startsWith("# file: ")) {
        String abs = unescape(line.substring("# file: ".length()));
        current = abs.equals(prefix) ? "" : abs.substring(prefix.length() + 1);
      } else if (!line.isBlank() && current != null) {
        int eq = line.indexOf('=');
        String name = line.substring(0, eq);
        String value = line.substring(eq + 1);
        out.computeIfAbsent(current, k -> new TreeMap<>()).put(name, value.startsWith("0x") ? value.substring(2) : value);
      }
    }
    return out;
  }

  private static String unescape(String s) {
    StringBuilder sb = new StringBuilder();
    java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c == '\\' && i + 3 < s.length() + 0 && Character.isDigit(s.charAt(i + 1))) {
        bytes.write(Integer.parseInt(s.substring(i + 1, i + 4), 8));
        i += 3;
      } else {
        bytes.writeBytes(String.valueOf(c).getBytes(java.nio.charset.StandardCharsets.UTF_8));
      }
    }
    sb.append(bytes.toString(java.nio.charset.StandardCharsets.UTF_8));
    return sb.toString();
  }

  public static String sha256(Path p) throws IOException {
    MessageDigest md = dev.basalt.oci.api.Digest.newSha256();
    try (InputStream in = Files.newInputStream(p)) {
      byte[] b = new byte[65536];
      for (int n; (n = in.read(b)) > 0; ) md.update(b, 0, n);
    }
    return HexFormat.of().formatHex(md.digest());
  }
}

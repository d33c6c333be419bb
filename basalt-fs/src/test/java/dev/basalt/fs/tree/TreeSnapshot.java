package dev.basalt.fs.tree;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.stream.Stream;

/**
 * Test helper: everything observable about a directory tree (types, modes, owners, mtimes,
 * content digests, symlink targets, device numbers, xattrs via getfattr, hardlink groups), to
 * compare a source tree with an extracted or mounted copy.
 */
public final class TreeSnapshot {
  /** Aspects a comparison may skip, each for a documented limitation of the tool under test. */
  public enum Ignore { XATTRS, HARDLINKS, SETID_ON_NON_DIRS, ROOT_METADATA }

  public record Node(String type, int perms, long uid, long gid, long mtimeSeconds, int mtimeNanos, long size,
      String sha256, String target, long rdev, Map<String, String> xattrs, String linkGroup) {}

  private final SortedMap<String, Node> nodes;

  private TreeSnapshot(SortedMap<String, Node> nodes) {
    this.nodes = nodes;
  }

  public SortedMap<String, Node> nodes() { return nodes; }

  public static TreeSnapshot of(Path root) throws IOException {
    Map<String, SortedMap<String, byte[]>> xattrs = DirectoryTreeReader.readXattrs(root.toAbsolutePath().normalize());
    Map<List<Object>, String> groups = new HashMap<>();
    SortedMap<String, Node> nodes = new TreeMap<>();
    List<Path> all;
    try (Stream<Path> s = Files.walk(root)) {
      all = s.sorted().toList();
    }
    for (Path p : all) {
      String rel = root.relativize(p).toString();
      Map<String, Object> a = Files.readAttributes(p, "unix:mode,uid,gid,ino,dev,rdev,nlink,size,lastModifiedTime",
          LinkOption.NOFOLLOW_LINKS);
      int mode = (Integer) a.get("mode");
      String type = switch (mode & 0170000) {
        case 0040000 -> "dir";
        case 0100000 -> "file";
        case 0120000 -> "symlink";
        case 0020000 -> "chr";
        case 0060000 -> "blk";
        case 0010000 -> "fifo";
        case 0140000 -> "sock";
        default -> "unknown";
      };
      var t = ((FileTime) a.get("lastModifiedTime")).toInstant();
      String group = null;
      if (!type.equals("dir") && (Integer) a.get("nlink") > 1) {
        group = groups.computeIfAbsent(List.of(a.get("dev"), a.get("ino")), k -> rel);
      }
      Map<String, String> xa = new TreeMap<>();
      xattrs.getOrDefault(rel, new TreeMap<>()).forEach((k, v) -> xa.put(k, HexFormat.of().formatHex(v)));
      nodes.put(rel, new Node(type, mode & 07777, (Integer) a.get("uid") & 0xFFFFFFFFL,
          (Integer) a.get("gid") & 0xFFFFFFFFL, t.getEpochSecond(), t.getNano(),
          type.equals("file") ? (Long) a.get("size") : 0,
          type.equals("file") ? sha256(p) : null,
          type.equals("symlink") ? Files.readSymbolicLink(p).toString() : null,
          type.equals("chr") || type.equals("blk") ? (Long) a.get("rdev") : 0,
          xa, group));
    }
    return new TreeSnapshot(nodes);
  }

  /** Human-readable differences (empty when equal), at most {@code limit}. */
  public List<String> diff(TreeSnapshot other, Set<Ignore> ignore, int limit) {
    List<String> out = new ArrayList<>();
    for (var e : nodes.entrySet()) {
      if (out.size() >= limit) break;
      Node a = normalize(e.getKey(), e.getValue(), ignore);
      Node raw = other.nodes.get(e.getKey());
      if (raw == null) {
        out.add("missing: /" + e.getKey());
        continue;
      }
      Node b = normalize(e.getKey(), raw, ignore);
      if (!a.equals(b)) out.add("differs: /" + e.getKey() + "\n  expected " + a + "\n  actual   " + b);
    }
    for (String k : other.nodes.keySet()) {
      if (out.size() >= limit) break;
      if (!nodes.containsKey(k)) out.add("unexpected: /" + k);
    }
    return out;
  }

  public List<String> diff(TreeSnapshot other, Ignore... ignore) {
    EnumSet<Ignore> set = EnumSet.noneOf(Ignore.class);
    set.addAll(List.of(ignore));
    return diff(other, set, 20);
  }

  private static Node normalize(String path, Node n, Set<Ignore> ignore) {
    if (path.isEmpty() && ignore.contains(Ignore.ROOT_METADATA)) {
      return new Node(n.type, 0, 0, 0, 0, 0, 0, null, null, 0, Map.of(), null);
    }
    int perms = n.perms;
    if (ignore.contains(Ignore.SETID_ON_NON_DIRS) && !n.type.equals("dir")) perms &= ~06000;
    return new Node(n.type, perms, n.uid, n.gid, n.mtimeSeconds, n.mtimeNanos, n.size, n.sha256, n.target, n.rdev,
        ignore.contains(Ignore.XATTRS) ? Map.of() : n.xattrs,
        ignore.contains(Ignore.HARDLINKS) ? null : n.linkGroup);
  }

  private static String sha256(Path p) throws IOException {
    try (InputStream in = Files.newInputStream(p)) {
      MessageDigest md = MessageDigest.getInstance("SHA-256");
      byte[] buf = new byte[1 << 16];
      int n;
      while ((n = in.read(buf)) > 0) md.update(buf, 0, n);
      return HexFormat.of().formatHex(md.digest());
    } catch (NoSuchAlgorithmException e) {
      throw new AssertionError(e);
    }
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof TreeSnapshot s && s.nodes.equals(nodes);
  }

  @Override
  public int hashCode() { return Objects.hash(nodes); }
}

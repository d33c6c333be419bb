package dev.basalt.fs.tree;

import java.util.Arrays;
import java.util.Collections;
import java.util.Map;
import java.util.Objects;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * Ownership, permissions, time and extended attributes of one entry.
 *
 * @param permissions the low 12 mode bits: rwx for user/group/other plus setuid (04000), setgid
 *     (02000) and sticky (01000); the file type lives in the {@link TreeEntry} kind, never here
 * @param uid owner, 0..2^32-1
 * @param gid group, 0..2^32-1
 * @param mtimeSeconds modification time, seconds since the epoch (may be negative)
 * @param mtimeNanos 0..999,999,999
 * @param xattrs extended attributes by full name ({@code security.capability},
 *     {@code system.posix_acl_access}, {@code user.foo}, ...), values as raw bytes, sorted by name;
 *     never null, unmodifiable
 */
public record Metadata(
    int permissions, long uid, long gid, long mtimeSeconds, int mtimeNanos,
    SortedMap<String, byte[]> xattrs) {

  /** Metadata given to a directory that is only implied by its children. */
  public static final Metadata IMPLIED_DIRECTORY = of(0755, 0, 0, 0);

  public Metadata {
    if ((permissions & ~07777) != 0) {
      throw new IllegalArgumentException("permissions must fit in 07777, got 0" + Integer.toOctalString(permissions));
    }
    if (uid < 0 || uid > 0xFFFF_FFFFL) throw new IllegalArgumentException("uid out of range: " + uid);
    if (gid < 0 || gid > 0xFFFF_FFFFL) throw new IllegalArgumentException("gid out of range: " + gid);
    if (mtimeNanos < 0 || mtimeNanos > 999_999_999) {
      throw new IllegalArgumentException("mtimeNanos out of range: " + mtimeNanos);
    }
    Objects.requireNonNull(xattrs, "xattrs");
    TreeMap<String, byte[]> copy = new TreeMap<>();
    xattrs.forEach((k, v) -> copy.put(Objects.requireNonNull(k), Objects.requireNonNull(v).clone()));
    xattrs = Collections.unmodifiableSortedMap(copy);
  }

  public static Metadata of(int permissions, long uid, long gid, long mtimeSeconds) {
    return new Metadata(permissions, uid, gid, mtimeSeconds, 0, new TreeMap<>());
  }

  public Metadata withXattrs(Map<String, byte[]> newXattrs) {
    return new Metadata(permissions, uid, gid, mtimeSeconds, mtimeNanos, new TreeMap<>(newXattrs));
  }

  public Metadata withMtime(long seconds, int nanos) {
    return new Metadata(permissions, uid, gid, seconds, nanos, xattrs);
  }

  @Override
  public boolean equals(Object o) {
    if (!(o instanceof Metadata m)) return false;
    if (permissions != m.permissions || uid != m.uid || gid != m.gid
        || mtimeSeconds != m.mtimeSeconds || mtimeNanos != m.mtimeNanos
        || xattrs.size() != m.xattrs.size()) {
      return false;
    }
    for (var e : xattrs.entrySet()) {
      byte[] other = m.xattrs.get(e.getKey());
      if (other == null || !Arrays.equals(e.getValue(), other)) return false;
    }
    return true;
  }

  @Override
  public int hashCode() {
    int h = Objects.hash(permissions, uid, gid, mtimeSeconds, mtimeNanos);
    for (var e : xattrs.entrySet()) h = 31 * h + e.getKey().hashCode() ^ Arrays.hashCode(e.getValue());
    return h;
  }

  @Override
  public String toString() {
    return "Metadata[0" + Integer.toOctalString(permissions) + " " + uid + ":" + gid
        + " mtime=" + mtimeSeconds + "." + mtimeNanos + " xattrs=" + xattrs.keySet() + "]";
  }
}

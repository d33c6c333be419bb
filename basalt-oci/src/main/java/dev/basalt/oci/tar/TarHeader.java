package dev.basalt.oci.tar;

import java.util.Arrays;
import java.util.Collections;
import java.util.Map;
import java.util.Objects;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * One tar entry's header, after GNU long-name and PAX records have been applied.
 *
 * @param name the path exactly as archived (not normalized: may start with "./" or "/", a
 *     directory may end with "/"); never empty
 * @param type the entry kind
 * @param mode permission bits, 0..07777 (setuid/setgid/sticky included; file-type bits dropped)
 * @param uid numeric owner, &ge; 0
 * @param gid numeric group, &ge; 0
 * @param size bytes of content that follow the header; only regular files carry content when
 *     written, but a reader reports what the archive says
 * @param mtimeSeconds modification time, seconds since the epoch (may be negative)
 * @param mtimeNanos 0..999,999,999 (from a PAX {@code mtime} with a fraction)
 * @param linkName target of a symlink or hardlink, {@code ""} for other types
 * @param uname owner name, {@code ""} when absent
 * @param gname group name, {@code ""} when absent
 * @param devMajor device major number (devices only, else 0)
 * @param devMinor device minor number (devices only, else 0)
 * @param xattrs extended attributes by full name, raw byte values; sorted, unmodifiable
 */
public record TarHeader(
    String name, TarType type, int mode, long uid, long gid, long size,
    long mtimeSeconds, int mtimeNanos, String linkName, String uname, String gname,
    int devMajor, int devMinor, SortedMap<String, byte[]> xattrs) {

  public TarHeader {
    if (name == null || name.isEmpty()) throw new IllegalArgumentException("tar entry name must not be empty");
    if (name.indexOf('\0') >= 0) throw new IllegalArgumentException("tar entry name contains NUL: " + name);
    Objects.requireNonNull(type, "type");
    if ((mode & ~07777) != 0) {
      throw new IllegalArgumentException(name + ": mode must fit in 07777, got 0" + Integer.toOctalString(mode));
    }
    if (uid < 0) throw new IllegalArgumentException(name + ": negative uid " + uid);
    if (gid < 0) throw new IllegalArgumentException(name + ": negative gid " + gid);
    if (size < 0) throw new IllegalArgumentException(name + ": negative size " + size);
    if (mtimeNanos < 0 || mtimeNanos > 999_999_999) {
      throw new IllegalArgumentException(name + ": mtimeNanos out of range: " + mtimeNanos);
    }
    linkName = linkName == null ? "" : linkName;
    uname = uname == null ? "" : uname;
    gname = gname == null ? "" : gname;
    if (linkName.indexOf('\0') >= 0) throw new IllegalArgumentException(name + ": link name contains NUL");
    if ((type == TarType.SYMLINK || type == TarType.HARDLINK) && linkName.isEmpty()) {
      throw new IllegalArgumentException(name + ": " + type + " needs a link name");
    }
    if (devMajor < 0 || devMinor < 0) throw new IllegalArgumentException(name + ": negative device number");
    TreeMap<String, byte[]> copy = new TreeMap<>();
    if (xattrs != null) {
      xattrs.forEach((k, v) -> {
        if (k == null || k.isEmpty() || k.indexOf('\0') >= 0 || k.indexOf('=') >= 0) {
          throw new IllegalArgumentException(name + ": invalid xattr name '" + k + "'");
        }
        copy.put(k, Objects.requireNonNull(v, "xattr value").clone());
      });
    }
    xattrs = Collections.unmodifiableSortedMap(copy);
  }

  /** A builder for {@code name} of {@code type}; everything else defaults to zero/empty, mode 0644 (0755 for dirs). */
  public static Builder builder(String name, TarType type) {
    return new Builder(name, type);
  }

  /** A builder preset from this header. */
  public Builder toBuilder() {
    Builder b = new Builder(name, type);
    b.mode = mode; b.uid = uid; b.gid = gid; b.size = size;
    b.mtimeSeconds = mtimeSeconds; b.mtimeNanos = mtimeNanos; b.linkName = linkName;
    b.uname = uname; b.gname = gname; b.devMajor = devMajor; b.devMinor = devMinor;
    b.xattrs.putAll(xattrs);
    return b;
  }

  @Override
  public boolean equals(Object o) {
    if (!(o instanceof TarHeader h)) return false;
    if (!(name.equals(h.name) && type == h.type && mode == h.mode && uid == h.uid && gid == h.gid
        && size == h.size && mtimeSeconds == h.mtimeSeconds && mtimeNanos == h.mtimeNanos
        && linkName.equals(h.linkName) && uname.equals(h.uname) && gname.equals(h.gname)
        && devMajor == h.devMajor && devMinor == h.devMinor && xattrs.size() == h.xattrs.size())) {
      return false;
    }
    for (Map.Entry<String, byte[]> e : xattrs.entrySet()) {
      if (!Arrays.equals(e.getValue(), h.xattrs.get(e.getKey()))) return false;
    }
    return true;
  }

  @Override
  public int hashCode() {
    int h = Objects.hash(name, type, mode, uid, gid, size, mtimeSeconds, mtimeNanos, linkName, uname, gname,
        devMajor, devMinor);
    for (Map.Entry<String, byte[]> e : xattrs.entrySet()) h = 31 * h + (e.getKey().hashCode() ^ Arrays.hashCode(e.getValue()));
    return h;
  }

  @Override
  public String toString() {
    return "TarHeader[" + type + " " + name + (linkName.isEmpty() ? "" : " -> " + linkName)
        + " 0" + Integer.toOctalString(mode) + " " + uid + ":" + gid + " size=" + size
        + " mtime=" + mtimeSeconds + "." + mtimeNanos
        + (type == TarType.CHAR_DEVICE || type == TarType.BLOCK_DEVICE ? " dev=" + devMajor + ":" + devMinor : "")
        + (xattrs.isEmpty() ? "" : " xattrs=" + xattrs.keySet()) + "]";
  }

  /** Builds a {@link TarHeader}; each setter validates its value, {@link #build()} the whole. */
  public static final class Builder {
    private final String name;
    private final TarType type;
    private int mode;
    private long uid;
    private long gid;
    private long size;
    private long mtimeSeconds;
    private int mtimeNanos;
    private String linkName = "";
    private String uname = "";
    private String gname = "";
    private int devMajor;
    private int devMinor;
    private final TreeMap<String, byte[]> xattrs = new TreeMap<>();

    private Builder(String name, TarType type) {
      this.name = name;
      this.type = Objects.requireNonNull(type, "type");
      this.mode = type == TarType.DIRECTORY ? 0755 : 0644;
    }

    public Builder mode(int mode) {
      if ((mode & ~07777) != 0) throw new IllegalArgumentException(name + ": mode must fit in 07777, got 0" + Integer.toOctalString(mode));
      this.mode = mode;
      return this;
    }

    public Builder owner(long uid, long gid) {
      if (uid < 0 || gid < 0) throw new IllegalArgumentException(name + ": negative uid/gid " + uid + ":" + gid);
      this.uid = uid;
      this.gid = gid;
      return this;
    }

    public Builder ownerNames(String uname, String gname) {
      this.uname = Objects.requireNonNull(uname, "uname");
      this.gname = Objects.requireNonNull(gname, "gname");
      return this;
    }

    public Builder size(long size) {
      if (size < 0) throw new IllegalArgumentException(name + ": negative size " + size);
      this.size = size;
      return this;
    }

    public Builder mtime(long seconds, int nanos) {
      if (nanos < 0 || nanos > 999_999_999) throw new IllegalArgumentException(name + ": mtime nanos out of range: " + nanos);
      this.mtimeSeconds = seconds;
      this.mtimeNanos = nanos;
      return this;
    }

    public Builder linkName(String linkName) {
      this.linkName = Objects.requireNonNull(linkName, "linkName");
      return this;
    }

    public Builder device(int major, int minor) {
      if (major < 0 || minor < 0) throw new IllegalArgumentException(name + ": negative device number " + major + ":" + minor);
      this.devMajor = major;
      this.devMinor = minor;
      return this;
    }

    public Builder xattr(String key, byte[] value) {
      xattrs.put(Objects.requireNonNull(key, "xattr name"), Objects.requireNonNull(value, "xattr value").clone());
      return this;
    }

    public Builder xattrs(Map<String, byte[]> all) {
      xattrs.clear();
      all.forEach(this::xattr);
      return this;
    }

    public TarHeader build() {
      return new TarHeader(name, type, mode, uid, gid, size, mtimeSeconds, mtimeNanos, linkName, uname, gname,
          devMajor, devMinor, xattrs);
    }
  }
}

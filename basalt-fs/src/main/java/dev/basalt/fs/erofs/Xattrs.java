package dev.basalt.fs.erofs;

import dev.basalt.fs.tree.TreeException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.SortedMap;

/** Encodes an inode's extended attributes as an inline EROFS xattr area (no shared xattrs). */
final class Xattrs {
  private Xattrs() {}

  static final byte[] NONE = new byte[0];
  private static final int HEADER = 12;
  private static final int MAX_AREA = HEADER + (0xFFFF - 1) * 4;

  private record Prefix(String text, int index, boolean whole) {}

  // Name indexes of erofs_fs.h; ACLs are whole names with an empty suffix.
  private static final Prefix[] PREFIXES = {
      new Prefix("user.", 1, false),
      new Prefix("system.posix_acl_access", 2, true),
      new Prefix("system.posix_acl_default", 3, true),
      new Prefix("trusted.", 4, false),
      new Prefix("security.", 6, false),
  };

  /** The area bytes (a multiple of 4) or {@link #NONE}. */
  static byte[] encode(String path, SortedMap<String, byte[]> xattrs) throws TreeException {
    if (xattrs.isEmpty()) return NONE;
    int size = HEADER;
    int[] index = new int[xattrs.size()];
    byte[][] suffix = new byte[xattrs.size()][];
    int i = 0;
    for (Map.Entry<String, byte[]> e : xattrs.entrySet()) {
      String name = e.getKey();
      Prefix p = prefixOf(name);
      if (p == null) {
        throw new TreeException(path, "xattr '" + name + "' is in a namespace EROFS cannot store"
            + " (user., trusted., security., system.posix_acl_access/default)");
      }
      byte[] s = name.substring(p.text.length()).getBytes(StandardCharsets.UTF_8);
      if (!p.whole && s.length == 0) throw new TreeException(path, "xattr '" + name + "' has an empty name");
      if (s.length > 255) {
        throw new TreeException(path, "xattr '" + name + "' name is " + s.length + " bytes after its prefix, max 255");
      }
      if (e.getValue().length > 0xFFFF) {
        throw new TreeException(path, "xattr '" + name + "' value is " + e.getValue().length + " bytes, max 65535");
      }
      index[i] = p.index;
      suffix[i] = s;
      size += align4(4 + s.length + e.getValue().length);
      i++;
    }
    if (size > MAX_AREA) {
      throw new TreeException(path, "xattrs take " + size + " bytes, EROFS inline xattrs hold at most " + MAX_AREA);
    }
    ByteBuffer bb = ByteBuffer.allocate(size).order(ByteOrder.LITTLE_ENDIAN);
    bb.position(HEADER); // name filter 0, no shared xattrs
    i = 0;
    for (byte[] value : xattrs.values()) {
      int start = bb.position();
      bb.put((byte) suffix[i].length).put((byte) index[i]).putShort((short) value.length).put(suffix[i]).put(value);
      bb.position(start + align4(4 + suffix[i].length + value.length));
      i++;
    }
    return bb.array();
  }

  /** i_xattr_icount for an area of {@code size} bytes. */
  static int icount(int size) {
    return size == 0 ? 0 : (size - HEADER) / 4 + 1;
  }

  private static Prefix prefixOf(String name) {
    for (Prefix p : PREFIXES) {
      if (p.whole ? name.equals(p.text) : name.startsWith(p.text)) return p;
    }
    return null;
  }

  private static int align4(int n) {
    return (n + 3) & ~3;
  }
}

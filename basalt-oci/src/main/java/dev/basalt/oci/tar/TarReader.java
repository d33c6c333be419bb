package dev.basalt.oci.tar;

import static dev.basalt.oci.tar.TarFormat.BLOCK;

import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;

/**
 * Streams the entries of a tar archive: POSIX ustar, PAX ('x' and global 'g' headers), GNU
 * ('L'/'K' long names, base-256 numbers) and old V7 headers.
 *
 * <pre>{@code
 * try (TarReader r = new TarReader(in, "layer sha256:…")) {
 *   for (TarHeader h; (h = r.next()) != null; ) {
 *     InputStream content = r.content(); // bounded to h.size(); unread bytes are skipped by next()
 *   }
 * }
 * }</pre>
 *
 * <p>Every header checksum is verified. The archive must end with the end-of-archive marker (a
 * zero block; GNU tar writes two); data that ends before it, or inside a header or content, is a
 * {@link TarException} "truncated tar at byte N while reading entry X". Bytes after the marker are
 * not read. Rejected with a clear error: GNU sparse files (type 'S' and PAX GNU.sparse.*), GNU
 * multi-volume and dump-dir entries, other unknown type flags, and names or link targets that are
 * not valid UTF-8. Tar headers never go through commons-compress: PAX values are kept as raw bytes
 * so binary xattrs such as {@code security.capability} survive.
 */
public final class TarReader implements Closeable {
  /** Upper bound for one PAX or GNU long-name header's data (a guard against garbage sizes). */
  static final int MAX_META_SIZE = 16 << 20;
  private static final int BUFFER = 128 * 1024;

  private final InputStream in;
  private final String prefix;
  private final byte[] buf = new byte[BUFFER];
  private int pos;
  private int lim;
  private long consumed; // archive bytes handed out of buf (or read past it)
  private final byte[] header = new byte[BLOCK];
  private final Map<String, byte[]> globals = new LinkedHashMap<>();

  private TarHeader current;
  private long currentOffset = -1;
  private long remaining; // unread content bytes of current
  private long padding;   // bytes after content up to the block boundary
  private Content content;
  private boolean ended;

  /** A reader of {@code in} with errors prefixed by nothing but the position. */
  public TarReader(InputStream in) {
    this(in, null);
  }

  /**
   * @param archiveName how error messages name this archive, e.g. {@code "layer sha256:abc…"};
   *     {@code null} for none
   */
  public TarReader(InputStream in, String archiveName) {
    this.in = java.util.Objects.requireNonNull(in, "in");
    this.prefix = archiveName == null || archiveName.isEmpty() ? "" : archiveName + ": ";
  }

  /**
   * Advances to the next entry, skipping any unread content of the current one.
   *
   * @return the next header, or {@code null} at the end-of-archive marker
   * @throws TarException on a corrupt, truncated or unsupported archive
   */
  public TarHeader next() throws IOException {
    if (ended) return null;
    if (current != null) {
      skipContent(remaining + padding, current.name());
      remaining = 0;
      padding = 0;
      content = null;
    }
    String previous = current == null ? null : current.name();
    current = null;
    long start = consumed;
    Map<String, byte[]> pax = null;
    byte[] gnuLongName = null;
    byte[] gnuLongLink = null;
    while (true) {
      long headerOffset = consumed;
      int n = readUpTo(header, 0, BLOCK);
      if (n < BLOCK) {
        String what = headerOffset == start && pax == null && gnuLongName == null && gnuLongLink == null
            ? (previous == null ? "the first header" : "the header after entry " + previous)
                + (n == 0 ? " (no end-of-archive marker)" : "")
            : "the extension headers at byte " + start;
        throw error("truncated tar at byte " + consumed + " while reading " + what, consumed);
      }
      if (TarFormat.isZeroBlock(header)) {
        if (pax != null || gnuLongName != null || gnuLongLink != null) {
          throw error("extension header at byte " + start + " is followed by the end-of-archive marker", headerOffset);
        }
        // GNU tar writes two zero blocks; accept a lone one at the very end like it does.
        readUpTo(header, 0, BLOCK);
        ended = true;
        return null;
      }
      verifyChecksum(headerOffset);
      char flag = (char) (header[TarFormat.TYPEFLAG] & 0xff);
      long size = numeric(TarFormat.SIZE, TarFormat.SIZE_LEN, "size", headerOffset);
      switch (flag) {
        case 'x', 'g' -> {
          byte[] data = readMeta(size, flag, headerOffset);
          Map<String, byte[]> records;
          try {
            records = PaxRecords.parse(data, data.length);
          } catch (IllegalArgumentException e) {
            throw error("bad PAX header at byte " + headerOffset + ": " + e.getMessage(), headerOffset);
          }
          if (flag == 'g') {
            globals.putAll(records);
          } else {
            if (pax == null) pax = new LinkedHashMap<>();
            pax.putAll(records);
          }
        }
        case 'L' -> gnuLongName = trimNul(readMeta(size, flag, headerOffset));
        case 'K' -> gnuLongLink = trimNul(readMeta(size, flag, headerOffset));
        case 'V' -> skipContent(size + pad(size), "volume label"); // GNU --label: not a file
        default -> {
          current = decode(flag, size, pax, gnuLongName, gnuLongLink, headerOffset);
          currentOffset = start;
          remaining = current.size();
          padding = pad(remaining);
          return current;
        }
      }
    }
  }

  /** The current entry's content, bounded to its size; valid until the next call to {@link #next()}. */
  public InputStream content() {
    if (current == null) throw new IllegalStateException("no current entry");
    if (content == null) content = new Content(current);
    return content;
  }

  /** Byte offset of the current entry's first header (its PAX/GNU extension headers included). */
  public long entryOffset() {
    return currentOffset;
  }

  /** Archive bytes consumed so far. */
  public long position() {
    return consumed;
  }

  @Override
  public void close() throws IOException {
    in.close();
  }

  private TarHeader decode(char flag, long size, Map<String, byte[]> pax, byte[] longName, byte[] longLink, long off)
      throws TarException {
    Map<String, byte[]> rec = new LinkedHashMap<>(globals);
    if (pax != null) {
      for (Map.Entry<String, byte[]> e : pax.entrySet()) {
        // An empty value deletes a global or header value (POSIX), except for xattrs where it is a value.
        if (e.getValue().length == 0 && !isXattrKey(e.getKey())) rec.remove(e.getKey());
        else rec.put(e.getKey(), e.getValue());
      }
    }
    boolean ustar = TarFormat.isPosixUstar(header);
    boolean gnu = TarFormat.isGnu(header);

    byte[] rawName = TarFormat.fieldBytes(header, TarFormat.NAME, TarFormat.NAME_LEN);
    if (ustar && header[TarFormat.PREFIX] != 0) {
      byte[] p = TarFormat.fieldBytes(header, TarFormat.PREFIX, TarFormat.PREFIX_LEN);
      byte[] joined = new byte[p.length + 1 + rawName.length];
      System.arraycopy(p, 0, joined, 0, p.length);
      joined[p.length] = '/';
      System.arraycopy(rawName, 0, joined, p.length + 1, rawName.length);
      rawName = joined;
    }
    if (longName != null) rawName = longName;
    if (rec.containsKey("path")) rawName = rec.get("path");
    String name = TarFormat.utf8(rawName);
    String shown = name != null ? name : new String(rawName, StandardCharsets.ISO_8859_1);
    if (name == null) throw error("entry name at byte " + off + " is not valid UTF-8: '" + shown + "'", off);
    if (name.isEmpty()) throw error("entry at byte " + off + " has an empty name", off);
    if (name.indexOf('\0') >= 0) throw error("entry name at byte " + off + " contains NUL", off);

    byte[] rawLink = TarFormat.fieldBytes(header, TarFormat.LINKNAME, TarFormat.LINKNAME_LEN);
    if (longLink != null) rawLink = longLink;
    if (rec.containsKey("linkpath")) rawLink = rec.get("linkpath");
    String link = TarFormat.utf8(rawLink);
    if (link == null) throw error("link target of entry " + name + " at byte " + off + " is not valid UTF-8", off);

    TarType type = switch (flag) {
      case '0', '7' -> TarType.REGULAR;
      case '\0' -> name.endsWith("/") ? TarType.DIRECTORY : TarType.REGULAR; // old tars mark dirs by the slash
      case '1' -> TarType.HARDLINK;
      case '2' -> TarType.SYMLINK;
      case '3' -> TarType.CHAR_DEVICE;
      case '4' -> TarType.BLOCK_DEVICE;
      case '5' -> TarType.DIRECTORY;
      case '6' -> TarType.FIFO;
      case 'S' -> throw error("GNU sparse file " + name + " at byte " + off + " is not supported", off);
      case 'M' -> throw error("GNU multi-volume continuation " + name + " at byte " + off + " is not supported", off);
      case 'D' -> throw error("GNU dump-dir entry " + name + " at byte " + off + " is not supported", off);
      default -> throw error("unsupported tar entry type '" + printable(flag) + "' for " + name + " at byte " + off, off);
    };
    for (String k : rec.keySet()) {
      if (k.startsWith("GNU.sparse.")) {
        throw error("GNU sparse file " + name + " at byte " + off + " (PAX " + k + ") is not supported", off);
      }
    }
    if ((type == TarType.SYMLINK || type == TarType.HARDLINK) && link.isEmpty()) {
      throw error((type == TarType.SYMLINK ? "symlink " : "hardlink ") + name + " at byte " + off + " has no target", off);
    }
    if (type != TarType.SYMLINK && type != TarType.HARDLINK) link = "";

    int mode = (int) (numeric(TarFormat.MODE, TarFormat.MODE_LEN, "mode", off) & 07777);
    long uid = rec.containsKey("uid") ? paxLong(rec, "uid", name, off) : numeric(TarFormat.UID, TarFormat.UID_LEN, "uid", off);
    long gid = rec.containsKey("gid") ? paxLong(rec, "gid", name, off) : numeric(TarFormat.GID, TarFormat.GID_LEN, "gid", off);
    if (rec.containsKey("size")) size = paxLong(rec, "size", name, off);
    long mtime;
    int nanos = 0;
    if (rec.containsKey("mtime")) {
      long[] t = parsePaxTime(rec.get("mtime"), name, off);
      mtime = t[0];
      nanos = (int) t[1];
    } else {
      mtime = numeric(TarFormat.MTIME, TarFormat.MTIME_LEN, "mtime", off);
    }
    if (uid < 0 || gid < 0) throw error("negative uid/gid for " + name + " at byte " + off, off);
    if (size < 0) throw error("negative size for " + name + " at byte " + off, off);

    String uname = "", gname = "";
    int major = 0, minor = 0;
    if (ustar || gnu) {
      uname = stringOrEmpty(TarFormat.fieldBytes(header, TarFormat.UNAME, TarFormat.UNAME_LEN));
      gname = stringOrEmpty(TarFormat.fieldBytes(header, TarFormat.GNAME, TarFormat.GNAME_LEN));
      if (type == TarType.CHAR_DEVICE || type == TarType.BLOCK_DEVICE) {
        major = device(numeric(TarFormat.DEVMAJOR, TarFormat.DEVMAJOR_LEN, "devmajor", off), name, off);
        minor = device(numeric(TarFormat.DEVMINOR, TarFormat.DEVMINOR_LEN, "devminor", off), name, off);
      }
    }
    if (rec.containsKey("uname")) uname = stringOrEmpty(rec.get("uname"));
    if (rec.containsKey("gname")) gname = stringOrEmpty(rec.get("gname"));
    if (type == TarType.CHAR_DEVICE || type == TarType.BLOCK_DEVICE) {
      if (rec.containsKey("SCHILY.devmajor")) major = device(paxLong(rec, "SCHILY.devmajor", name, off), name, off);
      if (rec.containsKey("SCHILY.devminor")) minor = device(paxLong(rec, "SCHILY.devminor", name, off), name, off);
    }

    TreeMap<String, byte[]> xattrs = new TreeMap<>();
    for (Map.Entry<String, byte[]> e : rec.entrySet()) {
      String k = e.getKey();
      if (k.startsWith("LIBARCHIVE.xattr.")) {
        String xname = URLDecoder.decode(k.substring("LIBARCHIVE.xattr.".length()), StandardCharsets.UTF_8);
        try {
          xattrs.putIfAbsent(xname, Base64.getDecoder().decode(stripBase64Padding(e.getValue())));
        } catch (IllegalArgumentException ex) {
          throw error("bad base64 in PAX " + k + " of " + name + " at byte " + off, off);
        }
      }
    }
    // SCHILY values are the raw bytes and win over libarchive's base64 copy of the same attribute.
    for (Map.Entry<String, byte[]> e : rec.entrySet()) {
      if (e.getKey().startsWith("SCHILY.xattr.")) xattrs.put(e.getKey().substring("SCHILY.xattr.".length()), e.getValue());
    }
    for (String k : xattrs.keySet()) {
      if (k.isEmpty()) throw error("empty xattr name in PAX header of " + name + " at byte " + off, off);
    }
    try {
      return new TarHeader(name, type, mode, uid, gid, size, mtime, nanos, link, uname, gname, major, minor, xattrs);
    } catch (IllegalArgumentException e) {
      throw error("invalid entry at byte " + off + ": " + e.getMessage(), off);
    }
  }

  private static boolean isXattrKey(String k) {
    return k.startsWith("SCHILY.xattr.") || k.startsWith("LIBARCHIVE.xattr.");
  }

  private static byte[] stripBase64Padding(byte[] v) {
    int n = v.length;
    while (n > 0 && (v[n - 1] == '=' || v[n - 1] == '\n')) n--;
    byte[] out = java.util.Arrays.copyOf(v, n);
    // java.util.Base64 requires padding to be absent or complete; re-pad to a multiple of 4.
    int pad = (4 - n % 4) % 4;
    if (pad == 0) return out;
    byte[] padded = java.util.Arrays.copyOf(out, n + pad);
    for (int i = n; i < padded.length; i++) padded[i] = '=';
    return padded;
  }

  private static String printable(char c) {
    return c >= 0x20 && c < 0x7f ? String.valueOf(c) : String.format("\\x%02x", (int) c);
  }

  private static String stringOrEmpty(byte[] b) {
    String s = TarFormat.utf8(b);
    return s == null ? new String(b, StandardCharsets.ISO_8859_1) : s;
  }

  private int device(long v, String name, long off) throws TarException {
    if (v < 0 || v > Integer.MAX_VALUE) throw error("device number " + v + " out of range for " + name + " at byte " + off, off);
    return (int) v;
  }

  private long paxLong(Map<String, byte[]> rec, String key, String name, long off) throws TarException {
    String s = PaxRecords.decimalString(rec.get(key));
    try {
      if (s.isEmpty() || s.charAt(0) == '+' || s.charAt(0) == '-') throw new NumberFormatException();
      return Long.parseLong(s);
    } catch (NumberFormatException e) {
      throw error("bad PAX " + key + " '" + s + "' for " + name + " at byte " + off, off);
    }
  }

  /** PAX time: optional '-', decimal seconds, optional fraction; returns {seconds, nanos} with nanos &ge; 0. */
  private long[] parsePaxTime(byte[] raw, String name, long off) throws TarException {
    String s = PaxRecords.decimalString(raw);
    boolean neg = s.startsWith("-");
    String body = neg ? s.substring(1) : s;
    int dot = body.indexOf('.');
    String whole = dot < 0 ? body : body.substring(0, dot);
    String frac = dot < 0 ? "" : body.substring(dot + 1);
    if (whole.isEmpty() || !whole.chars().allMatch(Character::isDigit) || !frac.chars().allMatch(Character::isDigit)
        || whole.length() > 18) {
      throw error("bad PAX mtime '" + s + "' for " + name + " at byte " + off, off);
    }
    long secs = Long.parseLong(whole);
    String nine = (frac + "000000000").substring(0, 9);
    long nanos = Long.parseLong(nine);
    if (neg) {
      secs = -secs;
      if (nanos > 0) {
        secs -= 1;
        nanos = 1_000_000_000L - nanos;
      }
    }
    return new long[] {secs, nanos};
  }

  private long numeric(int field, int len, String what, long off) throws TarException {
    Long v = TarFormat.parseNumeric(header, field, len);
    if (v == null) {
      throw error("bad " + what + " field in header at byte " + off + " ('" + headerNameForError() + "')", off);
    }
    return v;
  }

  private void verifyChecksum(long off) throws TarException {
    Long stored = TarFormat.parseNumeric(header, TarFormat.CHKSUM, TarFormat.CHKSUM_LEN);
    long unsigned = TarFormat.checksum(header, false);
    if (stored == null || (stored != unsigned && stored != TarFormat.checksum(header, true))) {
      throw error("bad header checksum at byte " + off + " (entry '" + headerNameForError() + "'): stored "
          + (stored == null ? "unreadable" : Long.toOctalString(stored)) + ", computed " + Long.toOctalString(unsigned), off);
    }
  }

  private String headerNameForError() {
    byte[] n = TarFormat.fieldBytes(header, TarFormat.NAME, TarFormat.NAME_LEN);
    StringBuilder sb = new StringBuilder();
    for (byte b : n) sb.append(b >= 0x20 && b < 0x7f ? (char) b : '?');
    return sb.toString();
  }

  private byte[] readMeta(long size, char flag, long off) throws IOException {
    if (size > MAX_META_SIZE) {
      throw error("'" + flag + "' extension header at byte " + off + " is too large (" + size + " bytes)", off);
    }
    byte[] data = new byte[(int) size];
    int n = readUpTo(data, 0, data.length);
    if (n < data.length) {
      throw error("truncated tar at byte " + consumed + " while reading the '" + flag + "' extension header at byte " + off, consumed);
    }
    long p = pad(size);
    if (readSkip(p) < p) {
      throw error("truncated tar at byte " + consumed + " while reading the '" + flag + "' extension header at byte " + off, consumed);
    }
    return data;
  }

  private static byte[] trimNul(byte[] b) {
    int n = b.length;
    while (n > 0 && b[n - 1] == 0) n--;
    return n == b.length ? b : java.util.Arrays.copyOf(b, n);
  }

  private static long pad(long size) {
    return (BLOCK - (size % BLOCK)) % BLOCK;
  }

  private void skipContent(long n, String entry) throws IOException {
    if (readSkip(n) < n) throw error("truncated tar at byte " + consumed + " while reading entry " + entry, consumed);
  }

  private TarException error(String message, long offset) {
    return new TarException(prefix + message, offset);
  }

  // ---- buffered access to the underlying stream ----

  private int readUpTo(byte[] dst, int off, int len) throws IOException {
    int done = 0;
    while (done < len) {
      if (pos == lim && !fill()) break;
      int n = Math.min(len - done, lim - pos);
      System.arraycopy(buf, pos, dst, off + done, n);
      pos += n;
      done += n;
      consumed += n;
    }
    return done;
  }

  private long readSkip(long n) throws IOException {
    long done = 0;
    while (done < n) {
      if (pos == lim && !fill()) break;
      int k = (int) Math.min(n - done, lim - pos);
      pos += k;
      done += k;
      consumed += k;
    }
    return done;
  }

  private boolean fill() throws IOException {
    int n = in.read(buf, 0, buf.length);
    if (n <= 0) {
      // A stream may return 0 spuriously; retry once with a single byte read to tell EOF apart.
      if (n == 0) {
        int b = in.read();
        if (b < 0) return false;
        buf[0] = (byte) b;
        pos = 0;
        lim = 1;
        return true;
      }
      return false;
    }
    pos = 0;
    lim = n;
    return true;
  }

  /** Content of the current entry; reads large chunks straight from the source when the buffer is empty. */
  private final class Content extends InputStream {
    private final TarHeader entry;

    Content(TarHeader entry) { this.entry = entry; }

    private void check() {
      if (current != entry) throw new IllegalStateException("content of " + entry.name() + " read after next()");
    }

    @Override
    public int read() throws IOException {
      byte[] one = new byte[1];
      return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
      check();
      java.util.Objects.checkFromIndexSize(off, len, b.length);
      if (len == 0) return 0;
      if (remaining == 0) return -1;
      int want = (int) Math.min(len, remaining);
      int n;
      if (pos < lim) {
        n = Math.min(want, lim - pos);
        System.arraycopy(buf, pos, b, off, n);
        pos += n;
      } else if (want >= buf.length) {
        n = in.read(b, off, want);
        if (n < 0) n = 0;
      } else {
        n = fill() ? Math.min(want, lim - pos) : 0;
        if (n > 0) {
          System.arraycopy(buf, pos, b, off, n);
          pos += n;
        }
      }
      if (n == 0) {
        // Stream said 0 or EOF: probe once more before calling it truncation.
        if (!fill()) throw truncated();
        return read(b, off, len);
      }
      consumed += n;
      remaining -= n;
      return n;
    }

    private TarException truncated() {
      return error("truncated tar at byte " + consumed + " while reading entry " + entry.name()
          + " (" + remaining + " of " + entry.size() + " content bytes missing)", consumed);
    }

    @Override
    public long skip(long n) throws IOException {
      check();
      long k = Math.min(Math.max(n, 0), remaining);
      long done = readSkip(k);
      remaining -= done;
      if (done < k) throw truncated();
      return done;
    }

    @Override
    public int available() {
      return (int) Math.min(remaining, lim - pos);
    }
  }
}

package dev.basalt.oci.tar;

import static dev.basalt.oci.tar.TarFormat.BLOCK;

import java.io.BufferedOutputStream;
import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Map;
import java.util.TreeMap;

/**
 * Writes a deterministic tar archive: POSIX ustar headers, plus a PAX 'x' header only when an
 * entry needs one (a name or link target that is not ASCII or does not fit ustar, uid/gid above
 * 07777777, size of 8 GiB or more, an mtime that is negative, too large or has nanoseconds, long or
 * non-ASCII user/group names, xattrs as {@code SCHILY.xattr.*} with raw byte values). Device
 * numbers too large for octal use GNU base-256. The same headers and contents always give the
 * same bytes: PAX headers are named {@code PaxHeaders/<name>} with mtime 0, records sorted by key.
 * Names are written exactly as given (callers append "/" to directory names if they want it).
 * The archive ends with two zero blocks and is not padded to a record size.
 */
public final class TarWriter implements Closeable {
  private static final int COPY_BUFFER = 128 * 1024;

  private final OutputStream out;
  private final byte[] header = new byte[BLOCK];
  private final byte[] copy = new byte[COPY_BUFFER];
  private long written;
  private boolean finished;

  public TarWriter(OutputStream out) {
    this.out = new BufferedOutputStream(java.util.Objects.requireNonNull(out, "out"), COPY_BUFFER);
  }

  /**
   * Appends one entry.
   *
   * @param content exactly {@code h.size()} bytes for a regular file (not closed here);
   *     {@code null} when the size is 0
   * @throws IllegalArgumentException when a non-regular entry has a size
   * @throws IOException when {@code content} ends early, or on I/O failure
   */
  public void add(TarHeader h, InputStream content) throws IOException {
    if (finished) throw new IllegalStateException("tar already finished");
    if (h.type() != TarType.REGULAR && h.size() != 0) {
      throw new IllegalArgumentException(h.name() + ": a " + h.type() + " entry cannot have content (size " + h.size() + ")");
    }
    if (h.size() > 0 && content == null) throw new IllegalArgumentException(h.name() + ": content missing for " + h.size() + " bytes");

    TreeMap<String, byte[]> pax = new TreeMap<>();
    byte[] name = h.name().getBytes(StandardCharsets.UTF_8);
    byte[] link = h.linkName().getBytes(StandardCharsets.UTF_8);
    int split = TarFormat.isAscii(name) ? ustarSplit(name) : -2;
    if (split == -2) pax.put("path", name);
    if (!TarFormat.isAscii(link) || link.length > TarFormat.LINKNAME_LEN) pax.put("linkpath", link);
    if (h.uid() > TarFormat.MAX_OCTAL_8) pax.put("uid", ascii(Long.toString(h.uid())));
    if (h.gid() > TarFormat.MAX_OCTAL_8) pax.put("gid", ascii(Long.toString(h.gid())));
    if (h.size() > TarFormat.MAX_OCTAL_12) pax.put("size", ascii(Long.toString(h.size())));
    if (h.mtimeNanos() != 0 || h.mtimeSeconds() < 0 || h.mtimeSeconds() > TarFormat.MAX_OCTAL_12) {
      pax.put("mtime", ascii(paxTime(h.mtimeSeconds(), h.mtimeNanos())));
    }
    byte[] uname = h.uname().getBytes(StandardCharsets.UTF_8);
    byte[] gname = h.gname().getBytes(StandardCharsets.UTF_8);
    if (!TarFormat.isAscii(uname) || uname.length > TarFormat.UNAME_LEN) pax.put("uname", uname);
    if (!TarFormat.isAscii(gname) || gname.length > TarFormat.GNAME_LEN) pax.put("gname", gname);
    for (Map.Entry<String, byte[]> x : h.xattrs().entrySet()) pax.put("SCHILY.xattr." + x.getKey(), x.getValue());

    if (!pax.isEmpty()) writePax(h, name, PaxRecords.format(pax));

    Arrays.fill(header, (byte) 0);
    if (split >= 0) {
      put(header, TarFormat.PREFIX, Arrays.copyOfRange(name, 0, split), TarFormat.PREFIX_LEN);
      put(header, TarFormat.NAME, Arrays.copyOfRange(name, split + 1, name.length), TarFormat.NAME_LEN);
    } else if (split == -1) {
      put(header, TarFormat.NAME, name, TarFormat.NAME_LEN);
    } else {
      put(header, TarFormat.NAME, fallbackName(name), TarFormat.NAME_LEN);
    }
    TarFormat.formatOctal(header, TarFormat.MODE, TarFormat.MODE_LEN, h.mode());
    TarFormat.formatOctal(header, TarFormat.UID, TarFormat.UID_LEN, h.uid() > TarFormat.MAX_OCTAL_8 ? 0 : h.uid());
    TarFormat.formatOctal(header, TarFormat.GID, TarFormat.GID_LEN, h.gid() > TarFormat.MAX_OCTAL_8 ? 0 : h.gid());
    TarFormat.formatOctal(header, TarFormat.SIZE, TarFormat.SIZE_LEN, h.size() > TarFormat.MAX_OCTAL_12 ? 0 : h.size());
    long mt = h.mtimeSeconds() < 0 ? 0 : Math.min(h.mtimeSeconds(), TarFormat.MAX_OCTAL_12);
    TarFormat.formatOctal(header, TarFormat.MTIME, TarFormat.MTIME_LEN, mt);
    header[TarFormat.TYPEFLAG] = (byte) h.type().flag();
    if (!pax.containsKey("linkpath")) put(header, TarFormat.LINKNAME, link, TarFormat.LINKNAME_LEN);
    if (!pax.containsKey("uname")) put(header, TarFormat.UNAME, uname, TarFormat.UNAME_LEN);
    if (!pax.containsKey("gname")) put(header, TarFormat.GNAME, gname, TarFormat.GNAME_LEN);
    device(TarFormat.DEVMAJOR, h.devMajor());
    device(TarFormat.DEVMINOR, h.devMinor());
    writeHeader();

    if (h.size() > 0) {
      long left = h.size();
      while (left > 0) {
        int n = content.read(copy, 0, (int) Math.min(copy.length, left));
        if (n < 0) {
          throw new IOException("content of " + h.name() + " ended after " + (h.size() - left) + " of " + h.size() + " bytes");
        }
        out.write(copy, 0, n);
        left -= n;
      }
      written += h.size();
      padTo(h.size());
    }
  }

  /** Writes the end-of-archive marker (two zero blocks) and flushes; no entries may follow. */
  public void finish() throws IOException {
    if (finished) return;
    finished = true;
    out.write(new byte[2 * BLOCK]);
    written += 2 * BLOCK;
    out.flush();
  }

  /** Bytes of archive written so far. */
  public long bytesWritten() {
    return written;
  }

  /** Finishes the archive if needed and closes the underlying stream. */
  @Override
  public void close() throws IOException {
    try {
      finish();
    } finally {
      out.close();
    }
  }

  private void writePax(TarHeader h, byte[] name, byte[] data) throws IOException {
    Arrays.fill(header, (byte) 0);
    byte[] base = fallbackName(name);
    byte[] paxName = new byte[Math.min(TarFormat.NAME_LEN, 11 + base.length)];
    System.arraycopy("PaxHeaders/".getBytes(StandardCharsets.US_ASCII), 0, paxName, 0, 11);
    System.arraycopy(base, 0, paxName, 11, paxName.length - 11);
    put(header, TarFormat.NAME, paxName, TarFormat.NAME_LEN);
    TarFormat.formatOctal(header, TarFormat.MODE, TarFormat.MODE_LEN, 0644);
    TarFormat.formatOctal(header, TarFormat.UID, TarFormat.UID_LEN, 0);
    TarFormat.formatOctal(header, TarFormat.GID, TarFormat.GID_LEN, 0);
    TarFormat.formatOctal(header, TarFormat.SIZE, TarFormat.SIZE_LEN, data.length);
    TarFormat.formatOctal(header, TarFormat.MTIME, TarFormat.MTIME_LEN, 0);
    header[TarFormat.TYPEFLAG] = 'x';
    writeHeader();
    out.write(data);
    written += data.length;
    padTo(data.length);
  }

  private void writeHeader() throws IOException {
    System.arraycopy("ustar\u000000".getBytes(StandardCharsets.US_ASCII), 0, header, TarFormat.MAGIC, 8);
    long sum = TarFormat.checksum(header, false);
    // Checksum field: six octal digits, NUL, space (what GNU tar and Go write).
    TarFormat.formatOctal(header, TarFormat.CHKSUM, 7, sum);
    header[TarFormat.CHKSUM + 7] = ' ';
    out.write(header);
    written += BLOCK;
  }

  private void device(int field, int value) {
    if (value > TarFormat.MAX_OCTAL_8) TarFormat.formatBase256(header, field, 8, value);
    else TarFormat.formatOctal(header, field, 8, value);
  }

  private void padTo(long size) throws IOException {
    int p = (int) ((BLOCK - size % BLOCK) % BLOCK);
    if (p > 0) {
      out.write(new byte[p]);
      written += p;
    }
  }

  /**
   * Where to split an ASCII name into ustar prefix/name: -1 when it fits the name field, the
   * index of the separating '/' when it needs the prefix, -2 when it does not fit ustar at all.
   */
  private static int ustarSplit(byte[] name) {
    if (name.length <= TarFormat.NAME_LEN) return -1;
    int from = Math.max(0, name.length - TarFormat.NAME_LEN - 1);
    for (int i = from; i < name.length - 1 && i <= TarFormat.PREFIX_LEN; i++) {
      if (name[i] == '/' && i > 0) return i;
    }
    return -2;
  }

  /** An ASCII stand-in for a PAX-named entry: its last component, non-ASCII bytes as '_', at most 100 bytes. */
  private static byte[] fallbackName(byte[] name) {
    int end = name.length;
    while (end > 1 && name[end - 1] == '/') end--;
    int start = end;
    while (start > 0 && name[start - 1] != '/') start--;
    byte[] b = Arrays.copyOfRange(name, start, Math.min(end, start + TarFormat.NAME_LEN - 11));
    for (int i = 0; i < b.length; i++) if (b[i] < 0x20 || b[i] >= 0x7f) b[i] = '_';
    return b.length == 0 ? new byte[] {'_'} : b;
  }

  private static void put(byte[] h, int off, byte[] value, int len) {
    System.arraycopy(value, 0, h, off, Math.min(value.length, len));
  }

  private static byte[] ascii(String s) {
    return s.getBytes(StandardCharsets.US_ASCII);
  }

  static String paxTime(long seconds, int nanos) {
    if (nanos == 0) return Long.toString(seconds);
    if (seconds < 0) {
      // -1.25 s is stored as seconds=-2, nanos=750000000
      long s = -(seconds + 1);
      String frac = String.format("%09d", 1_000_000_000 - nanos).replaceFirst("0+$", "");
      return "-" + s + "." + frac;
    }
    return seconds + "." + String.format("%09d", nanos).replaceFirst("0+$", "");
  }
}

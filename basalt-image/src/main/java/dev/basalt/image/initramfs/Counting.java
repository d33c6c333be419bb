package dev.basalt.image.initramfs;

import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;

/**
 * A stream with its position, whose read errors become {@link InitramfsException}s saying which
 * stream failed where (a truncated gzip member surfaces as an EOFException deep in the inflater).
 */
final class Counting {
  private final InputStream in;
  private final String description;
  private long pos;

  /** @param description e.g. "the zstd stream at byte 512 of initrd.img" */
  Counting(InputStream in, String description) {
    this.in = in;
    this.description = description;
  }

  long pos() { return pos; }

  String description() { return description; }

  /** Reads up to {@code len} bytes, fewer only at the end of the stream. */
  int readUpTo(byte[] buf, int off, int len) throws InitramfsException {
    int total = 0;
    while (total < len) {
      int n;
      try {
        n = in.read(buf, off + total, len - total);
      } catch (IOException e) {
        throw failure(e, pos + total);
      }
      if (n < 0) break;
      total += n;
    }
    pos += total;
    return total;
  }

  /** Next byte or -1, without consuming it; needs a stream that supports mark. */
  int peek() throws InitramfsException {
    try {
      in.mark(1);
      int b = in.read();
      in.reset();
      return b;
    } catch (IOException e) {
      throw failure(e, pos);
    }
  }

  /** Up to {@code buf.length} next bytes without consuming them; needs a stream that supports mark. */
  int peek(byte[] buf) throws InitramfsException {
    try {
      in.mark(buf.length);
      int total = 0;
      while (total < buf.length) {
        int n = in.read(buf, total, buf.length - total);
        if (n < 0) break;
        total += n;
      }
      in.reset();
      return total;
    } catch (IOException e) {
      throw failure(e, pos);
    }
  }

  /** Says whether the stream ended early or holds bad data, and after how many bytes. */
  private InitramfsException failure(IOException e, long at) {
    if (e instanceof InitramfsException ie) return ie;
    String msg = String.valueOf(e.getMessage());
    boolean truncated = e instanceof EOFException
        || msg.toLowerCase(java.util.Locale.ROOT).matches("(?s).*(truncated|unexpected end).*");
    return new InitramfsException(description + (truncated ? " is truncated" : " is corrupt") + " (after " + at
        + " bytes): " + msg, e);
  }

  /** Skips zero bytes (padding between archives); returns false at the end of the stream. */
  boolean skipZeros() throws InitramfsException {
    byte[] one = new byte[1];
    while (true) {
      int b = peek();
      if (b < 0) return false;
      if (b != 0) return true;
      readUpTo(one, 0, 1);
    }
  }
}

package dev.basalt.oci.tar;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;

/** Header layout and field codecs shared by the reader and the writer (POSIX ustar + GNU extensions). */
final class TarFormat {
  private TarFormat() {}

  static final int BLOCK = 512;

  static final int NAME = 0, NAME_LEN = 100;
  static final int MODE = 100, MODE_LEN = 8;
  static final int UID = 108, UID_LEN = 8;
  static final int GID = 116, GID_LEN = 8;
  static final int SIZE = 124, SIZE_LEN = 12;
  static final int MTIME = 136, MTIME_LEN = 12;
  static final int CHKSUM = 148, CHKSUM_LEN = 8;
  static final int TYPEFLAG = 156;
  static final int LINKNAME = 157, LINKNAME_LEN = 100;
  static final int MAGIC = 257;
  static final int UNAME = 265, UNAME_LEN = 32;
  static final int GNAME = 297, GNAME_LEN = 32;
  static final int DEVMAJOR = 329, DEVMAJOR_LEN = 8;
  static final int DEVMINOR = 337, DEVMINOR_LEN = 8;
  static final int PREFIX = 345, PREFIX_LEN = 155;

  /** Largest value of an 8-byte octal field (7 digits + NUL). */
  static final long MAX_OCTAL_8 = 07777777L;
  /** Largest value of a 12-byte octal field (11 digits + NUL). */
  static final long MAX_OCTAL_12 = 077777777777L;

  static boolean isPosixUstar(byte[] h) {
    return h[MAGIC] == 'u' && h[MAGIC + 1] == 's' && h[MAGIC + 2] == 't' && h[MAGIC + 3] == 'a'
        && h[MAGIC + 4] == 'r' && h[MAGIC + 5] == 0;
  }

  static boolean isGnu(byte[] h) {
    return h[MAGIC] == 'u' && h[MAGIC + 1] == 's' && h[MAGIC + 2] == 't' && h[MAGIC + 3] == 'a'
        && h[MAGIC + 4] == 'r' && h[MAGIC + 5] == ' ' && h[MAGIC + 6] == ' ' && h[MAGIC + 7] == 0;
  }

  static boolean isZeroBlock(byte[] h) {
    for (int i = 0; i < BLOCK; i++) if (h[i] != 0) return false;
    return true;
  }

  /** Sum of all header bytes, the checksum field counted as spaces; unsigned (POSIX) or signed (old Sun tar). */
  static long checksum(byte[] h, boolean signed) {
    long sum = 0;
    for (int i = 0; i < BLOCK; i++) {
      int b = i >= CHKSUM && i < CHKSUM + CHKSUM_LEN ? ' ' : (signed ? h[i] : h[i] & 0xff);
      sum += b;
    }
    return sum;
  }

  /**
   * Parses a numeric field: octal digits (leading spaces/NULs skipped, ended by space or NUL) or
   * GNU base-256 (first byte 0x80 for positive, 0xff for negative). Returns {@code null} when malformed.
   */
  static Long parseNumeric(byte[] h, int off, int len) {
    int first = h[off] & 0xff;
    if (first == 0x80 || first == 0xff) {
      // Base-256, two's complement big-endian; the first byte's marker bit belongs to the sign.
      long v = first == 0xff ? -1 : 0;
      int start = off + 1;
      if (first == 0x80) {
        // Positive: values above 2^63-1 cannot be represented.
        for (int i = start; i < off + len - 8; i++) if (h[i] != 0) return null;
      }
      for (int i = Math.max(start, off + len - 8); i < off + len; i++) v = (v << 8) | (h[i] & 0xff);
      if (first == 0x80 && v < 0) return null;
      return v;
    }
    int i = off, end = off + len;
    while (i < end && (h[i] == ' ' || h[i] == 0)) i++;
    long v = 0;
    int digits = 0;
    while (i < end && h[i] >= '0' && h[i] <= '7') {
      if (digits++ > 21) return null;
      v = (v << 3) | (h[i] - '0');
      i++;
    }
    while (i < end && (h[i] == ' ' || h[i] == 0)) i++;
    return i == end ? v : null;
  }

  /** Writes {@code value} as zero-padded octal digits followed by NUL; the caller checks it fits. */
  static void formatOctal(byte[] h, int off, int len, long value) {
    int digits = len - 1;
    for (int i = off + digits - 1; i >= off; i--) {
      h[i] = (byte) ('0' + (value & 7));
      value >>>= 3;
    }
    h[off + digits] = 0;
  }

  /** GNU base-256 for non-negative values too large for octal. */
  static void formatBase256(byte[] h, int off, int len, long value) {
    for (int i = off + len - 1; i > off; i--) {
      h[i] = (byte) value;
      value >>>= 8;
    }
    h[off] = (byte) 0x80;
  }

  /** Bytes of a NUL-terminated (or full-width) string field. */
  static byte[] fieldBytes(byte[] h, int off, int len) {
    int end = off;
    while (end < off + len && h[end] != 0) end++;
    byte[] out = new byte[end - off];
    System.arraycopy(h, off, out, 0, out.length);
    return out;
  }

  /** Strict UTF-8, or {@code null} when the bytes are not valid UTF-8. */
  static String utf8(byte[] b) {
    try {
      return StandardCharsets.UTF_8.newDecoder()
          .onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT)
          .decode(ByteBuffer.wrap(b)).toString();
    } catch (CharacterCodingException e) {
      return null;
    }
  }

  static boolean isAscii(byte[] b) {
    for (byte x : b) if (x < 0x20 || x >= 0x7f) return false;
    return true;
  }
}

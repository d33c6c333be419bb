package dev.basalt.oci.tar;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;

/** PAX extended header records: {@code "<len> <key>=<value>\n"}, values kept as raw bytes. */
final class PaxRecords {
  private PaxRecords() {}

  /**
   * Parses the records of one 'x' or 'g' header. Keys are UTF-8; values are never decoded here
   * (SCHILY.xattr values are binary). Returns {@code null}-free map in archive order; throws
   * {@link IllegalArgumentException} with a description of the first malformed record.
   */
  static Map<String, byte[]> parse(byte[] data, int length) {
    Map<String, byte[]> out = new LinkedHashMap<>();
    int pos = 0;
    while (pos < length) {
      // Some writers pad the data with NULs.
      if (data[pos] == 0) break;
      int i = pos;
      long len = 0;
      while (i < length && data[i] >= '0' && data[i] <= '9') {
        len = len * 10 + (data[i] - '0');
        if (len > length) throw new IllegalArgumentException("PAX record length at offset " + pos + " exceeds the header");
        i++;
      }
      if (i == pos || i >= length || data[i] != ' ') {
        throw new IllegalArgumentException("malformed PAX record length at offset " + pos);
      }
      int end = pos + (int) len; // exclusive, includes the trailing newline
      if (len < 5 || end > length || data[end - 1] != '\n') {
        throw new IllegalArgumentException("malformed PAX record at offset " + pos + " (length " + len + ")");
      }
      int keyStart = i + 1;
      int eq = keyStart;
      while (eq < end - 1 && data[eq] != '=') eq++;
      if (eq == keyStart || eq >= end - 1) throw new IllegalArgumentException("PAX record without key=value at offset " + pos);
      String key = TarFormat.utf8(java.util.Arrays.copyOfRange(data, keyStart, eq));
      if (key == null) throw new IllegalArgumentException("PAX record key is not UTF-8 at offset " + pos);
      byte[] value = java.util.Arrays.copyOfRange(data, eq + 1, end - 1);
      out.put(key, value);
      pos = end;
    }
    return out;
  }

  /** Encodes records in the given (caller-sorted) order. */
  static byte[] format(Map<String, byte[]> records) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (Map.Entry<String, byte[]> e : records.entrySet()) {
      byte[] key = e.getKey().getBytes(StandardCharsets.UTF_8);
      int body = 1 + key.length + 1 + e.getValue().length + 1; // ' ' key '=' value '\n'
      int len = body + Integer.toString(body).length();
      if (Integer.toString(len).length() != Integer.toString(body).length()) len = body + Integer.toString(len).length();
      out.writeBytes(Integer.toString(len).getBytes(StandardCharsets.US_ASCII));
      out.write(' ');
      out.writeBytes(key);
      out.write('=');
      out.writeBytes(e.getValue());
      out.write('\n');
    }
    return out.toByteArray();
  }

  static String decimalString(byte[] v) {
    return new String(v, StandardCharsets.US_ASCII);
  }
}

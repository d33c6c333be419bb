package dev.basalt.fs.fat;

import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.Set;

/** Long-name validation, 8.3 short-name generation and VFAT long-name entries. */
final class FatNames {
  private FatNames() {}

  static final int MAX_LONG_NAME = 255;
  private static final String ILLEGAL_LONG = "\"*/:<>?\\|";
  private static final String SHORT_SPECIAL = "!#$%&'()-@^_`{}~";

  /** Checks one path component; the message names the whole path. */
  static void validateLongName(String name, String path) {
    if (name.isEmpty()) throw new IllegalArgumentException("FAT path '" + path + "' has an empty component");
    if (name.equals(".") || name.equals("..")) throw new IllegalArgumentException("FAT path '" + path + "' uses '" + name + "'");
    if (name.length() > MAX_LONG_NAME) {
      throw new IllegalArgumentException("FAT name '" + name + "' in '" + path + "' is " + name.length()
          + " UTF-16 units long, at most " + MAX_LONG_NAME + " allowed");
    }
    for (int i = 0; i < name.length(); i++) {
      char c = name.charAt(i);
      if (c < 0x20 || ILLEGAL_LONG.indexOf(c) >= 0) {
        throw new IllegalArgumentException("FAT name '" + printable(name) + "' in '" + printable(path)
            + "' contains the illegal character " + (c < 0x20 ? String.format("U+%04X", (int) c) : "'" + c + "'"));
      }
    }
    char last = name.charAt(name.length() - 1);
    if (last == '.' || last == ' ') {
      throw new IllegalArgumentException("FAT name '" + name + "' in '" + path + "' ends with '" + last
          + "', which Windows and Linux strip");
    }
  }

  static String printable(String s) {
    StringBuilder b = new StringBuilder();
    for (char c : s.toCharArray()) b.append(c < 0x20 ? String.format("\\u%04x", (int) c) : String.valueOf(c));
    return b.toString();
  }

  static boolean isShortChar(char c) {
    return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || SHORT_SPECIAL.indexOf(c) >= 0;
  }

  /** The 11-byte 8.3 form when {@code name} is already a valid upper-case short name, else null. */
  static String exactShortName(String name) {
    int dot = name.indexOf('.');
    String base = dot < 0 ? name : name.substring(0, dot);
    String ext = dot < 0 ? "" : name.substring(dot + 1);
    if (base.isEmpty() || base.length() > 8 || ext.length() > 3 || (dot >= 0 && ext.isEmpty())) return null;
    for (char c : (base + ext).toCharArray()) if (!isShortChar(c)) return null;
    return pad(base, 8) + pad(ext, 3);
  }

  /**
   * Generates a unique short name the way Linux vfat does: upper-case the name; when it fits 8.3
   * without loss use it as is, else truncate the base and append {@code ~1}, {@code ~2}, ...
   */
  static String generateShortName(String name, Set<String> used) {
    String upper = name.toUpperCase(Locale.ROOT);
    String stripped = upper.replace(" ", "");
    int lead = 0;
    while (lead < stripped.length() && stripped.charAt(lead) == '.') lead++;
    boolean lossy = stripped.length() != upper.length() || lead > 0;
    stripped = stripped.substring(lead);
    int lastDot = stripped.lastIndexOf('.');
    String rawBase = lastDot < 0 ? stripped : stripped.substring(0, lastDot);
    String rawExt = lastDot < 0 ? "" : stripped.substring(lastDot + 1);
    StringBuilder base = new StringBuilder();
    for (char c : rawBase.toCharArray()) {
      if (c == '.') { lossy = true; continue; }
      if (isShortChar(c)) base.append(c); else { base.append('_'); lossy = true; }
    }
    StringBuilder ext = new StringBuilder();
    for (char c : rawExt.toCharArray()) {
      if (isShortChar(c)) ext.append(c); else { ext.append('_'); lossy = true; }
    }
    if (base.length() > 8) lossy = true;
    if (ext.length() > 3) { lossy = true; ext.setLength(3); }
    if (base.isEmpty()) { base.append('_'); lossy = true; }
    String e = pad(ext.toString(), 3);
    if (!lossy) {
      String candidate = pad(base.toString(), 8) + e;
      if (!used.contains(candidate)) return candidate;
    }
    for (int n = 1; n < 1_000_000; n++) {
      String tail = "~" + n;
      String b = base.length() > 8 - tail.length() ? base.substring(0, 8 - tail.length()) : base.toString();
      String candidate = pad(b + tail, 8) + e;
      if (!used.contains(candidate)) return candidate;
    }
    throw new IllegalStateException("no free short name for " + name);
  }

  static String pad(String s, int n) { return s + " ".repeat(n - s.length()); }

  /** Short-name checksum stored in each long-name entry. */
  static int checksum(byte[] shortName11) {
    int sum = 0;
    for (int i = 0; i < 11; i++) sum = (((sum & 1) << 7) + ((sum & 0xff) >> 1) + (shortName11[i] & 0xff)) & 0xff;
    return sum;
  }

  static byte[] shortBytes(String shortName11) { return shortName11.getBytes(StandardCharsets.US_ASCII); }

  /** Long-name entries for {@code name}, in on-disk order (last part first), 32 bytes each. */
  static byte[] longNameEntries(String name, byte[] shortName11) {
    int parts = (name.length() + 12) / 13;
    int sum = checksum(shortName11);
    byte[] out = new byte[parts * 32];
    for (int p = 0; p < parts; p++) {
      int seq = p + 1;
      int off = (parts - 1 - p) * 32;
      out[off] = (byte) (seq | (seq == parts ? 0x40 : 0));
      out[off + 11] = 0x0F;
      out[off + 13] = (byte) sum;
      int[] slots = {1, 3, 5, 7, 9, 14, 16, 18, 20, 22, 24, 28, 30};
      for (int k = 0; k < 13; k++) {
        int i = p * 13 + k;
        int ch = i < name.length() ? name.charAt(i) : i == name.length() ? 0 : 0xFFFF;
        out[off + slots[k]] = (byte) ch;
        out[off + slots[k] + 1] = (byte) (ch >> 8);
      }
    }
    return out;
  }
}

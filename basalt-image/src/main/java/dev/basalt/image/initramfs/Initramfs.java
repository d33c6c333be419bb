package dev.basalt.image.initramfs;

import com.github.luben.zstd.ZstdInputStream;
import dev.basalt.fs.tree.TreePaths;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.SortedSet;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.zip.GZIPInputStream;

/**
 * The contents of an initramfs image as the kernel unpacks it: uncompressed cpio archives
 * (typically the early microcode archive), then a compressed stream holding the main archive(s).
 * Both cpio formats the kernel accepts are read: newc (070701) and crc (070702, checksums
 * verified). gzip and zstd are decompressed in-process; xz with the {@code xz} tool; lzma, lz4,
 * bzip2 and lzo are recognized and refused as unsupported.
 *
 * <p>Like Debian's {@code unmkinitramfs}, a compressed stream is taken to run to the end of the
 * image. Only names, modes and sizes are kept, plus the content of {@code modules.builtin} files.
 */
public final class Initramfs {
  /** Longest name the kernel's initramfs unpacker accepts (PATH_MAX). */
  private static final int PATH_MAX = 4096;
  private static final int HEADER = 110;
  private static final String TRAILER = "TRAILER!!!";
  private static final Pattern MODULES_DIR = Pattern.compile("^(?:usr/)?lib/modules/([^/]+)(?:/.*)?$");
  private static final Pattern MODULE_FILE =
      Pattern.compile("^(?:usr/)?lib/modules/([^/]+)/.*?([^/]+)\\.ko(?:\\.(?:xz|zst|gz))?$");
  private static final Pattern BUILTIN_LIST = Pattern.compile("^(?:usr/)?lib/modules/([^/]+)/modules\\.builtin$");
  private static final int MAX_KEPT = 16 << 20;

  private final String name;
  private final List<Archive> archives;
  private final List<InitramfsEntry> entries;
  private final Map<String, InitramfsEntry> byPath;
  private final Map<String, byte[]> builtinLists;

  private Initramfs(String name, List<Archive> archives, List<InitramfsEntry> entries,
      Map<String, byte[]> builtinLists) {
    this.name = name;
    this.archives = List.copyOf(archives);
    this.entries = List.copyOf(entries);
    Map<String, InitramfsEntry> map = new LinkedHashMap<>();
    for (InitramfsEntry e : entries) map.put(e.path(), e); // a later archive overrides, as when unpacked
    this.byPath = Collections.unmodifiableMap(map);
    this.builtinLists = Map.copyOf(builtinLists);
  }

  /** Reads an initramfs file. */
  public static Initramfs read(Path file) throws IOException {
    try (InputStream in = Files.newInputStream(file)) {
      return read(in, file.toString());
    }
  }

  /**
   * Reads an initramfs from a stream (consumed, not closed).
   *
   * @param name what error messages call the image, e.g. its path
   * @throws InitramfsException when the image is truncated, corrupt or unsupported; the message
   *     names the image, the archive and the offset
   */
  public static Initramfs read(InputStream in, String name) throws IOException {
    return new Reader(name).read(in);
  }

  /** What error messages call this image. */
  public String name() { return name; }

  /** The cpio archives in image order. */
  public List<Archive> archives() { return archives; }

  /** Every member of every archive in image order (a path may repeat across archives). */
  public List<InitramfsEntry> entries() { return entries; }

  /** The member at {@code path} as unpacked (the last archive naming it wins). */
  public Optional<InitramfsEntry> entry(String path) {
    return Optional.ofNullable(byPath.get(path));
  }

  /** How the main (last) archive is stored. */
  public Compression compression() {
    return archives.get(archives.size() - 1).compression();
  }

  /** The {@code <kver>} directories under {@code lib/modules} or {@code usr/lib/modules}. */
  public SortedSet<String> kernelVersions() {
    SortedSet<String> out = new TreeSet<>();
    for (String p : byPath.keySet()) {
      Matcher m = MODULES_DIR.matcher(p);
      if (m.matches()) out.add(m.group(1));
    }
    return Collections.unmodifiableSortedSet(out);
  }

  /** The module named {@code module} for any kernel version; see {@link #module(String, String)}. */
  public Optional<KernelModule> module(String module) {
    return module(module, null);
  }

  /**
   * Finds a kernel module: a loadable {@code <name>.ko[.xz|.zst|.gz]} under
   * {@code [usr/]lib/modules/<kver>/}, else a line of that kernel's {@code modules.builtin}.
   *
   * @param module a module name ({@code erofs}, {@code overlay}); a {@code .ko} suffix is ignored
   *     and {@code -}/{@code _} are equivalent, as for modprobe
   * @param kernelVersion the kernel version to look in, or {@code null} for any
   */
  public Optional<KernelModule> module(String module, String kernelVersion) {
    String wanted = moduleName(module);
    for (InitramfsEntry e : byPath.values()) {
      if (e.kind() != InitramfsEntry.Kind.REGULAR_FILE) continue;
      Matcher m = MODULE_FILE.matcher(e.path());
      if (m.matches() && (kernelVersion == null || kernelVersion.equals(m.group(1)))
          && moduleName(m.group(2)).equals(wanted)) {
        return Optional.of(new KernelModule(wanted, m.group(1), e.path(), false));
      }
    }
    for (var list : new java.util.TreeMap<>(builtinLists).entrySet()) {
      Matcher m = BUILTIN_LIST.matcher(list.getKey());
      if (!m.matches() || (kernelVersion != null && !kernelVersion.equals(m.group(1)))) continue;
      for (String line : new String(list.getValue(), StandardCharsets.UTF_8).split("\n")) {
        String base = line.strip();
        if (base.isEmpty()) continue;
        base = base.substring(base.lastIndexOf('/') + 1);
        if (base.endsWith(".ko")) base = base.substring(0, base.length() - 3);
        if (moduleName(base).equals(wanted)) {
          return Optional.of(new KernelModule(wanted, m.group(1), list.getKey(), true));
        }
      }
    }
    return Optional.empty();
  }

  private static String moduleName(String name) {
    String n = name;
    for (String ext : List.of(".ko.xz", ".ko.zst", ".ko.gz", ".ko")) {
      if (n.endsWith(ext)) {
        n = n.substring(0, n.length() - ext.length());
        break;
      }
    }
    return n.replace('-', '_');
  }

  /** One pass over an image. */
  private static final class Reader {
    private final String name;
    private final List<Archive> archives = new ArrayList<>();
    private final List<InitramfsEntry> entries = new ArrayList<>();
    private final Map<String, byte[]> builtinLists = new LinkedHashMap<>();
    private final byte[] buf = new byte[64 * 1024];

    Reader(String name) { this.name = name; }

    Initramfs read(InputStream raw) throws IOException {
      Counting in = new Counting(new BufferedInputStream(raw, 64 * 1024), name);
      byte[] head = new byte[8];
      while (in.skipZeros()) {
        long start = in.pos();
        int n = in.peek(head);
        Compression c = Compression.detect(head, n).orElseThrow(() -> new InitramfsException(name
            + ": unknown data at offset " + start + " (bytes " + HexFormat.ofDelimiter(" ").formatHex(head, 0, n)
            + "): neither a cpio archive nor a known compression"));
        if (c == Compression.NONE) {
          readArchive(in, c, start, in.description());
          continue;
        }
        if (!c.supported()) {
          throw new InitramfsException(name + ": unsupported compression " + c.id() + " for the archive at offset "
              + start + " (Basalt reads gzip, zstd, xz and uncompressed cpio; with initramfs-tools set COMPRESS=zstd"
              + " in /etc/initramfs-tools/initramfs.conf and run update-initramfs -u)");
        }
        String what = "the " + c.id() + " stream at offset " + start + " of " + name;
        try (InputStream decompressed = decompressor(c, in)) {
          Counting d = new Counting(new BufferedInputStream(decompressed, 64 * 1024), what);
          int before = archives.size();
          while (d.skipZeros()) readArchive(d, c, start, what);
          if (archives.size() == before) {
            throw new InitramfsException(what + " holds no cpio archive");
          }
        }
        break; // the compressed stream ran to the end of the image
      }
      if (archives.isEmpty()) throw new InitramfsException(name + ": no cpio archive found (empty image?)");
      return new Initramfs(name, archives, entries, builtinLists);
    }

    private InputStream decompressor(Compression c, Counting in) throws IOException {
      InputStream compressed = new InputStream() { // counts what the decompressor consumes
        @Override public int read() throws IOException {
          byte[] one = new byte[1];
          return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
        }
        @Override public int read(byte[] b, int off, int len) throws IOException {
          if (len == 0) return 0;
          int n = in.readUpTo(b, off, len);
          return n == 0 ? -1 : n;
        }
      };
      try {
        return switch (c) {
          case GZIP -> new GZIPInputStream(compressed, 64 * 1024);
          case ZSTD -> new ZstdInputStream(compressed);
          case XZ -> ProcessInputStream.start(List.of("xz", "-dc"), compressed, "apt-get install xz-utils");
          default -> throw new IllegalStateException(c.id());
        };
      } catch (InitramfsException e) {
        throw new InitramfsException(name + ": " + e.getMessage(), e);
      } catch (IOException e) {
        throw new InitramfsException(name + ": the " + c.id() + " stream at offset " + (in.pos())
            + " is corrupt: " + e.getMessage(), e);
      }
    }

    /** Reads one archive up to and including its trailer. */
    private void readArchive(Counting in, Compression c, long imageOffset, String where) throws InitramfsException {
      int index = archives.size();
      long archiveStart = in.pos();
      String format = null;
      int count = 0;
      byte[] header = new byte[HEADER];
      while (true) {
        long at = in.pos();
        int n = in.readUpTo(header, 0, HEADER);
        if (n == 0) {
          throw new InitramfsException(where + ": the cpio archive at offset " + archiveStart
              + " is truncated: it ends at offset " + at + " without a " + TRAILER + " entry");
        }
        if (n < HEADER) {
          throw new InitramfsException(where + ": truncated cpio header at offset " + at + " (" + n + " of "
              + HEADER + " bytes)");
        }
        String magic = new String(header, 0, 6, StandardCharsets.ISO_8859_1);
        if (!magic.equals("070701") && !magic.equals("070702")) {
          throw new InitramfsException(where + ": bad cpio magic '" + printable(magic) + "' at offset " + at
              + " (expected 070701 or 070702; old binary or odc cpio is not an initramfs format)");
        }
        boolean crc = magic.equals("070702");
        if (format == null) format = crc ? "crc" : "newc";
        int mode = (int) hex(header, 1, "mode", at, where);
        long fileSize = hex(header, 6, "filesize", at, where);
        long nameSize = hex(header, 11, "namesize", at, where);
        long check = hex(header, 12, "check", at, where);
        if (nameSize < 1 || nameSize > PATH_MAX) {
          throw new InitramfsException(where + ": bad cpio header at offset " + at + ": name size " + nameSize
              + " (must be 1.." + PATH_MAX + ")");
        }
        byte[] nameBytes = new byte[(int) nameSize];
        if (in.readUpTo(nameBytes, 0, nameBytes.length) < nameBytes.length) {
          throw new InitramfsException(where + ": truncated cpio entry name at offset " + (at + HEADER));
        }
        if (nameBytes[nameBytes.length - 1] != 0) {
          throw new InitramfsException(where + ": cpio entry name at offset " + (at + HEADER)
              + " is not NUL-terminated (corrupt header)");
        }
        String rawName = new String(nameBytes, 0, nameBytes.length - 1, StandardCharsets.UTF_8);
        pad(in, where);
        if (rawName.equals(TRAILER)) {
          skipData(in, fileSize, rawName, where, false, 0);
          archives.add(new Archive(c == Compression.NONE ? archiveStart : imageOffset, c, format, count));
          return;
        }
        String path = TreePaths.normalize(rawName);
        if (path == null) path = rawName; // keeps a ".." name visible instead of hiding it
        InitramfsEntry.Kind kind = InitramfsEntry.Kind.of(mode);
        String target = null;
        boolean keep = kind == InitramfsEntry.Kind.REGULAR_FILE && BUILTIN_LIST.matcher(path).matches()
            && fileSize <= MAX_KEPT;
        if (kind == InitramfsEntry.Kind.SYMLINK || keep) {
          if (kind == InitramfsEntry.Kind.SYMLINK && fileSize > PATH_MAX) {
            throw new InitramfsException(where + ": symlink '" + path + "' at offset " + at
                + " has an impossible target length " + fileSize);
          }
          byte[] data = new byte[(int) fileSize];
          if (in.readUpTo(data, 0, data.length) < data.length) {
            throw new InitramfsException(where + ": data of '" + path + "' (entry at offset " + at
                + ") is truncated");
          }
          if (crc) verify(sum(data, data.length, 0), check, path, at, where);
          pad(in, where);
          if (kind == InitramfsEntry.Kind.SYMLINK) target = new String(data, StandardCharsets.UTF_8);
          else builtinLists.put(path, data);
        } else {
          skipData(in, fileSize, path, where, crc, check);
        }
        entries.add(new InitramfsEntry(path, mode, fileSize, target, index));
        count++;
      }
    }

    private void skipData(Counting in, long size, String path, String where, boolean crc, long check)
        throws InitramfsException {
      long left = size;
      long sum = 0;
      long start = in.pos();
      while (left > 0) {
        int n = in.readUpTo(buf, 0, (int) Math.min(buf.length, left));
        if (n == 0) {
          throw new InitramfsException(where + ": data of '" + path + "' is truncated: " + (size - left)
              + " of " + size + " bytes present (from offset " + start + ")");
        }
        if (crc) sum = sum(buf, n, sum);
        left -= n;
      }
      if (crc) verify(sum, check, path, start, where);
      pad(in, where);
    }

    private static long sum(byte[] data, int len, long sum) {
      for (int i = 0; i < len; i++) sum += data[i] & 0xff;
      return sum & 0xFFFF_FFFFL;
    }

    private static void verify(long sum, long check, String path, long at, String where) throws InitramfsException {
      if (sum != check) {
        throw new InitramfsException(where + ": checksum mismatch for '" + path + "' (data at offset " + at
            + "): header says 0x" + Long.toHexString(check) + ", data sums to 0x" + Long.toHexString(sum));
      }
    }

    /** Consumes padding up to the next 4-byte boundary of the stream. */
    private static void pad(Counting in, String where) throws InitramfsException {
      int pad = (int) ((4 - (in.pos() & 3)) & 3);
      if (pad == 0) return;
      byte[] p = new byte[pad];
      if (in.readUpTo(p, 0, pad) < pad) {
        throw new InitramfsException(where + ": truncated cpio padding at offset " + in.pos());
      }
    }

    private static long hex(byte[] header, int field, String fieldName, long at, String where)
        throws InitramfsException {
      int off = 6 + field * 8; // field 0 is c_ino
      long v = 0;
      for (int i = off; i < off + 8; i++) {
        int d = Character.digit(header[i], 16);
        if (d < 0) {
          throw new InitramfsException(where + ": bad cpio header at offset " + at + ": field " + fieldName
              + " is not hexadecimal: '" + printable(new String(header, off, 8, StandardCharsets.ISO_8859_1)) + "'");
        }
        v = v << 4 | d;
      }
      return v;
    }

    private static String printable(String s) {
      StringBuilder b = new StringBuilder();
      for (char ch : s.toCharArray()) {
        if (ch >= 0x20 && ch < 0x7f) b.append(ch);
        else b.append(String.format("\\x%02x", (int) ch));
      }
      return b.toString();
    }
  }
}

package dev.basalt.fs.fat;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.LocalDateTime;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;

/**
 * Builds a FAT32 volume from directories and files and writes all of it (boot sectors, FSInfo and
 * backups, two FATs, directories, file data) into a file or a region of a disk image.
 *
 * <p>Every file gets one contiguous cluster run; directories and files are placed in pre-order,
 * entries sorted by upper-cased name. Names keep their case in VFAT long-name entries (omitted when
 * the name already is an upper-case 8.3 name); short names are unique {@code ~N} aliases as Linux
 * makes them. All timestamps are one fixed value and the serial number comes from a seed, so the
 * same content gives the same bytes. Writes never touch free clusters.
 */
public final class Fat32Builder {
  private static final int EOC = 0x0FFF_FFFF;
  private static final int ATTR_DIRECTORY = 0x10;
  private static final int ATTR_ARCHIVE = 0x20;
  private static final int ATTR_VOLUME_ID = 0x08;
  private static final int MAX_DIR_ENTRIES = 65536;
  private static final String NO_LABEL = "NO NAME";

  private final DirNode root = new DirNode("", "");
  private String label;
  private Integer volumeId;
  private String seed = "basalt";
  private LocalDateTime timestamp = LocalDateTime.of(1980, 1, 1, 0, 0);
  private long hiddenSectors;

  private Fat32Builder() {}

  public static Fat32Builder create() { return new Fat32Builder(); }

  /** Volume label: up to 11 characters from A-Z, 0-9, space and {@code !#$%&'()-@^_`{}~}; lower case is upper-cased. */
  public Fat32Builder label(String label) {
    Objects.requireNonNull(label, "label");
    String up = label.toUpperCase(Locale.ROOT);
    if (up.isEmpty() || up.length() > 11 || up.startsWith(" ")) {
      throw new IllegalArgumentException("FAT volume label '" + label + "' must be 1..11 characters and not start with a space");
    }
    for (char c : up.toCharArray()) {
      if (c != ' ' && !FatNames.isShortChar(c)) {
        throw new IllegalArgumentException("FAT volume label '" + FatNames.printable(label) + "' contains the illegal character '"
            + FatNames.printable(String.valueOf(c)) + "'");
      }
    }
    this.label = up.stripTrailing();
    return this;
  }

  /** Explicit volume serial number (default: derived from the seed). */
  public Fat32Builder volumeId(int id) {
    this.volumeId = id;
    return this;
  }

  /** Seed the serial number is derived from (default {@code "basalt"}). */
  public Fat32Builder seed(String seed) {
    this.seed = Objects.requireNonNull(seed, "seed");
    return this;
  }

  /** The one timestamp every entry gets (1980..2107, stored with 2-second precision; default 1980-01-01 00:00). */
  public Fat32Builder timestamp(LocalDateTime t) {
    Objects.requireNonNull(t, "timestamp");
    if (t.getYear() < 1980 || t.getYear() > 2107) throw new IllegalArgumentException("FAT timestamps cover 1980..2107, got " + t);
    this.timestamp = t;
    return this;
  }

  /** Sectors before the volume on its disk (the partition's first LBA), recorded in the boot sector. */
  public Fat32Builder hiddenSectors(long sectors) {
    if (sectors < 0 || sectors > 0xFFFF_FFFFL) throw new IllegalArgumentException("hidden sectors out of range: " + sectors);
    this.hiddenSectors = sectors;
    return this;
  }

  /** Adds a directory (parents are created as needed). Paths are relative, '/'-separated. */
  public Fat32Builder directory(String path) {
    dirFor(split(path), path, true);
    return this;
  }

  /** Adds a file with the given content (copied). */
  public Fat32Builder file(String path, byte[] content) {
    Objects.requireNonNull(content, "content of " + path);
    addFile(path, new FileNode(null, null, content.length, content.clone(), null));
    return this;
  }

  /** Adds a file whose content is read from {@code source} when the volume is written. */
  public Fat32Builder file(String path, Path source) throws IOException {
    addFile(path, new FileNode(null, null, Files.size(source), null, source));
    return this;
  }

  private void addFile(String path, FileNode proto) {
    List<String> parts = split(path);
    if (proto.size > 0xFFFF_FFFFL) {
      throw new IllegalArgumentException("FAT file '" + path + "' is " + proto.size + " bytes; FAT32 files are at most 4 GiB - 1");
    }
    DirNode dir = dirFor(parts.subList(0, parts.size() - 1), path, true);
    String name = parts.get(parts.size() - 1);
    String key = key(name);
    Node existing = dir.children.get(key);
    if (existing != null) {
      throw new IllegalArgumentException("FAT path '" + path + "' already exists"
          + (existing.name().equals(name) ? "" : " as '" + existing.name() + "' (FAT names ignore case)"));
    }
    dir.children.put(key, new FileNode(name, path, proto.size, proto.bytes, proto.source));
  }

  private DirNode dirFor(List<String> parts, String path, boolean create) {
    DirNode d = root;
    StringBuilder sofar = new StringBuilder();
    for (String p : parts) {
      if (sofar.length() > 0) sofar.append('/');
      sofar.append(p);
      Node n = d.children.get(key(p));
      if (n == null) {
        DirNode nd = new DirNode(p, sofar.toString());
        d.children.put(key(p), nd);
        d = nd;
      } else if (n instanceof DirNode nd) {
        d = nd;
      } else {
        throw new IllegalArgumentException("FAT path '" + path + "': '" + sofar + "' is a file, not a directory");
      }
    }
    return d;
  }

  private static List<String> split(String path) {
    Objects.requireNonNull(path, "path");
    if (path.isEmpty() || path.startsWith("/") || path.endsWith("/")) {
      throw new IllegalArgumentException("FAT path '" + FatNames.printable(path) + "' must be relative, non-empty, without a trailing '/'");
    }
    List<String> parts = List.of(path.split("/", -1));
    for (String p : parts) FatNames.validateLongName(p, path);
    return parts;
  }

  private static String key(String name) { return name.toUpperCase(Locale.ROOT); }

  // ------------------------------------------------------------------ writing

  /** Writes the volume into a new file of {@code size} bytes (replaced if present, removed on failure). */
  public Fat32Result writeTo(Path file, long size) throws IOException {
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
        StandardOpenOption.TRUNCATE_EXISTING, StandardOpenOption.READ)) {
      Fat32Result r = writeTo(ch, 0, size);
      if (ch.size() < size) ch.write(ByteBuffer.allocate(1), size - 1);
      return r;
    } catch (IOException | RuntimeException e) {
      Files.deleteIfExists(file);
      throw e;
    }
  }

  /**
   * Writes the whole volume into {@code ch} at {@code offset} ({@code length} bytes, the volume size).
   * Layout and capacity are checked before the first byte is written.
   */
  public Fat32Result writeTo(FileChannel ch, long offset, long length) throws IOException {
    if (offset < 0 || offset % Fat32Layout.SECTOR_SIZE != 0) {
      throw new IllegalArgumentException("FAT32 volume offset must be a non-negative multiple of 512, got " + offset);
    }
    Fat32Layout layout = Fat32Layout.forSize(length);
    int cb = layout.clusterBytes();
    assignShortNames(root, true);
    List<long[]> runs = new ArrayList<>();
    long[] next = {2};
    allocate(root, cb, next, runs);
    long used = next[0] - 2;
    if (used > layout.clusterCount()) {
      FileNode big = largest(root, null);
      throw new IllegalArgumentException("FAT32 content needs " + used + " clusters of " + cb + " bytes (" + used * cb
          + " bytes) but the volume of " + length + " bytes has only " + layout.clusterCount()
          + (big == null ? "" : "; largest file: '" + big.path + "' (" + big.size + " bytes)"));
    }
    int serial = volumeId != null ? volumeId : derivedSerial(seed);
    String lbl = label == null ? NO_LABEL : label;

    Writer w = new Writer(ch, offset, layout);
    ByteBuffer reserved = ByteBuffer.allocate(layout.reservedSectors() * Fat32Layout.SECTOR_SIZE).order(ByteOrder.LITTLE_ENDIAN);
    bootSector(reserved, 0, layout, serial, lbl);
    bootSector(reserved, 6 * 512, layout, serial, lbl);
    long free = layout.clusterCount() - used;
    long nextFree = used + 2 <= layout.clusterCount() + 1 ? used + 2 : 0xFFFF_FFFFL;
    fsInfo(reserved, 512, free, nextFree);
    fsInfo(reserved, 7 * 512, free, nextFree);
    w.write(reserved.position(0), 0);
    writeFats(w, layout, runs);
    writeTree(w, root, null, layout);
    return new Fat32Result(layout, used, serial, lbl);
  }

  private static int derivedSerial(String seed) {
    try {
      byte[] h = MessageDigest.getInstance("SHA-256").digest(("basalt-fat-serial\0" + seed).getBytes(StandardCharsets.UTF_8));
      return ByteBuffer.wrap(h).getInt();
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  private FileNode largest(DirNode d, FileNode best) {
    for (Node n : d.children.values()) {
      if (n instanceof FileNode f && (best == null || f.size > best.size)) best = f;
      if (n instanceof DirNode sub) best = largest(sub, best);
    }
    return best;
  }

  private void assignShortNames(DirNode d, boolean isRoot) {
    Set<String> used = new HashSet<>();
    List<Node> needGenerated = new ArrayList<>();
    for (Node n : d.children.values()) {
      String exact = FatNames.exactShortName(n.name());
      if (exact != null) {
        n.setShort(exact, false);
        used.add(exact);
      } else {
        needGenerated.add(n);
      }
    }
    for (Node n : needGenerated) {
      String s = FatNames.generateShortName(n.name(), used);
      used.add(s);
      n.setShort(s, true);
    }
    long slots = isRoot ? (label == null ? 0 : 1) : 2;
    for (Node n : d.children.values()) slots += 1 + (n.hasLongName() ? (n.name().length() + 12) / 13 : 0);
    if (slots > MAX_DIR_ENTRIES) {
      throw new IllegalArgumentException("FAT directory '/" + d.path + "' needs " + slots + " entries, at most "
          + MAX_DIR_ENTRIES + " allowed");
    }
    d.slots = (int) slots;
    for (Node n : d.children.values()) if (n instanceof DirNode sub) assignShortNames(sub, false);
  }

  /** Pre-order allocation from cluster {@code next[0]} on. */
  private void allocate(DirNode d, int cb, long[] next, List<long[]> runs) {
    d.clusters = Math.max(1, Math.ceilDiv((long) d.slots * 32, cb));
    d.firstCluster = next[0];
    runs.add(new long[] {next[0], d.clusters});
    next[0] += d.clusters;
    for (Node n : d.children.values()) {
      if (n instanceof FileNode f) {
        long c = Math.ceilDiv(f.size, cb);
        f.firstCluster = c == 0 ? 0 : next[0];
        if (c > 0) runs.add(new long[] {next[0], c});
        next[0] += c;
      } else {
        allocate((DirNode) n, cb, next, runs);
      }
    }
  }

  private void bootSector(ByteBuffer b, int at, Fat32Layout l, int serial, String lbl) {
    b.put(at, new byte[] {(byte) 0xEB, 0x58, (byte) 0x90});
    b.put(at + 3, "MSWIN4.1".getBytes(StandardCharsets.US_ASCII));
    b.putShort(at + 11, (short) Fat32Layout.SECTOR_SIZE);
    b.put(at + 13, (byte) l.sectorsPerCluster());
    b.putShort(at + 14, (short) l.reservedSectors());
    b.put(at + 16, (byte) 2); // FATs
    b.put(at + 21, (byte) 0xF8); // media: fixed disk
    b.putShort(at + 24, (short) 63).putShort(at + 26, (short) 255); // CHS geometry, unused by UEFI
    b.putInt(at + 28, (int) hiddenSectors);
    b.putInt(at + 32, (int) l.totalSectors());
    b.putInt(at + 36, (int) l.fatSectors());
    b.putInt(at + 44, (int) root.firstCluster);
    b.putShort(at + 48, (short) 1); // FSInfo sector
    b.putShort(at + 50, (short) 6); // backup boot sector
    b.put(at + 64, (byte) 0x80);
    b.put(at + 66, (byte) 0x29);
    b.putInt(at + 67, serial);
    b.put(at + 71, FatNames.pad(lbl, 11).getBytes(StandardCharsets.US_ASCII));
    b.put(at + 82, "FAT32   ".getBytes(StandardCharsets.US_ASCII));
    b.put(at + 90, new byte[] {(byte) 0xFA, (byte) 0xF4, (byte) 0xEB, (byte) 0xFD}); // cli; hlt; jmp back: not BIOS-bootable
    b.putShort(at + 510, (short) 0xAA55);
  }

  private static void fsInfo(ByteBuffer b, int at, long free, long nextFree) {
    b.putInt(at, 0x41615252);
    b.putInt(at + 484, 0x61417272);
    b.putInt(at + 488, (int) free);
    b.putInt(at + 492, (int) nextFree);
    b.putInt(at + 508, 0xAA550000);
  }

  private static void writeFats(Writer w, Fat32Layout l, List<long[]> runs) throws IOException {
    long entries = l.fatSectors() * Fat32Layout.SECTOR_SIZE / 4;
    int chunk = 1 << 18;
    ByteBuffer buf = ByteBuffer.allocateDirect(chunk * 4).order(ByteOrder.LITTLE_ENDIAN);
    byte[] zeros = new byte[chunk * 4];
    int ri = 0;
    for (long base = 0; base < entries; base += chunk) {
      int n = (int) Math.min(chunk, entries - base);
      buf.clear();
      buf.put(zeros, 0, n * 4).flip();
      while (ri < runs.size() && runs.get(ri)[0] + runs.get(ri)[1] <= base) ri++;
      for (int j = ri; j < runs.size() && runs.get(j)[0] < base + n; j++) {
        long s = runs.get(j)[0];
        long e = s + runs.get(j)[1];
        for (long c = Math.max(s, base); c < Math.min(e, base + n); c++) {
          buf.putInt((int) (c - base) * 4, c == e - 1 ? EOC : (int) (c + 1));
        }
      }
      if (base == 0) buf.putInt(0, 0x0FFF_FFF8).putInt(4, 0x0FFF_FFFF);
      for (int f = 0; f < 2; f++) w.write(buf.duplicate(), l.fatOffset() + f * l.fatSectors() * 512 + base * 4);
    }
  }

  private void writeTree(Writer w, DirNode d, DirNode parent, Fat32Layout l) throws IOException {
    ByteBuffer dir = ByteBuffer.allocate((int) (d.clusters * l.clusterBytes())).order(ByteOrder.LITTLE_ENDIAN);
    if (parent == null) {
      if (label != null) dir.put(entry(FatNames.pad(label, 11), ATTR_VOLUME_ID, 0, 0));
    } else {
      dir.put(entry(FatNames.pad(".", 11), ATTR_DIRECTORY, d.firstCluster, 0));
      dir.put(entry(FatNames.pad("..", 11), ATTR_DIRECTORY, parent == root ? 0 : parent.firstCluster, 0));
    }
    for (Node n : d.children.values()) {
      byte[] sn = FatNames.shortBytes(n.shortName());
      if (n.hasLongName()) dir.put(FatNames.longNameEntries(n.name(), sn));
      if (n instanceof FileNode f) {
        dir.put(entry(n.shortName(), ATTR_ARCHIVE, f.firstCluster, f.size));
      } else {
        dir.put(entry(n.shortName(), ATTR_DIRECTORY, ((DirNode) n).firstCluster, 0));
      }
    }
    w.write(dir.position(0), l.clusterOffset(d.firstCluster));
    for (Node n : d.children.values()) {
      if (n instanceof FileNode f) writeFile(w, f, l);
    }
    for (Node n : d.children.values()) {
      if (n instanceof DirNode sub) writeTree(w, sub, d, l);
    }
  }

  private static void writeFile(Writer w, FileNode f, Fat32Layout l) throws IOException {
    if (f.size == 0) return;
    long pos = l.clusterOffset(f.firstCluster);
    long padded = Math.ceilDiv(f.size, l.clusterBytes()) * l.clusterBytes();
    if (f.bytes != null) {
      w.write(ByteBuffer.wrap(f.bytes), pos);
    } else {
      try (FileChannel src = FileChannel.open(f.source, StandardOpenOption.READ)) {
        ByteBuffer buf = ByteBuffer.allocateDirect(1 << 20);
        long done = 0;
        while (true) {
          buf.clear();
          int r = src.read(buf);
          if (r < 0) break;
          if (done + r > f.size) break;
          w.write(buf.flip(), pos + done);
          done += r;
        }
        if (done != f.size || src.size() != f.size) {
          throw new IOException("FAT file '" + f.path + "' changed while being written: expected " + f.size
              + " bytes from " + f.source + ", found " + src.size());
        }
      }
    }
    if (padded > f.size) w.write(ByteBuffer.allocate((int) (padded - f.size)), pos + f.size);
  }

  private ByteBuffer entry(String shortName11, int attr, long cluster, long size) {
    ByteBuffer e = ByteBuffer.allocate(32).order(ByteOrder.LITTLE_ENDIAN);
    e.put(shortName11.getBytes(StandardCharsets.US_ASCII));
    e.put(11, (byte) attr);
    short time = (short) ((timestamp.getHour() << 11) | (timestamp.getMinute() << 5) | (timestamp.getSecond() / 2));
    short date = (short) (((timestamp.getYear() - 1980) << 9) | (timestamp.getMonthValue() << 5) | timestamp.getDayOfMonth());
    if (attr != ATTR_VOLUME_ID) {
      e.putShort(14, time).putShort(16, date).putShort(18, date);
    }
    e.putShort(20, (short) (cluster >>> 16));
    e.putShort(22, time).putShort(24, date);
    e.putShort(26, (short) cluster);
    e.putInt(28, (int) size);
    return e.position(0);
  }

  /** Positioned writes relative to the volume start. */
  private record Writer(FileChannel ch, long base, Fat32Layout layout) {
    void write(ByteBuffer b, long pos) throws IOException {
      long p = base + pos;
      while (b.hasRemaining()) p += ch.write(b, p);
    }
  }

  // ------------------------------------------------------------------ tree

  private abstract static sealed class Node permits DirNode, FileNode {
    private String shortName;
    private boolean longName;

    abstract String name();

    void setShort(String s, boolean needsLong) {
      this.shortName = s;
      this.longName = needsLong;
    }

    String shortName() { return shortName; }

    boolean hasLongName() { return longName; }
  }

  private static final class DirNode extends Node {
    final String name;
    final String path;
    final Map<String, Node> children = new TreeMap<>();
    int slots;
    long clusters;
    long firstCluster;

    DirNode(String name, String path) {
      this.name = name;
      this.path = path;
    }

    @Override String name() { return name; }
  }

  private static final class FileNode extends Node {
    final String name;
    final String path;
    final long size;
    final byte[] bytes;
    final Path source;
    long firstCluster;

    FileNode(String name, String path, long size, byte[] bytes, Path source) {
      this.name = name;
      this.path = path;
      this.size = size;
      this.bytes = bytes;
      this.source = source;
    }

    @Override String name() { return name; }
  }
}

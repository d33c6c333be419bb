package dev.basalt.fs.fat;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * Reads a FAT32 volume (ours or any other: mkfs.fat, Windows, firmware): the label, directory
 * listings with long names, file contents. Together with {@link #copyTo} this supports the
 * node's way of changing an ESP: read it, change the tree, rewrite the whole volume.
 */
public final class Fat32Reader {
  private static final int EOC_MIN = 0x0FFF_FFF8;

  private final FileChannel ch;
  private final long base;
  private final Fat32Layout layout;
  private final long rootCluster;
  private final int volumeId;
  private final String bootLabel;

  /** One directory entry. */
  public record Entry(String name, boolean directory, long size, long firstCluster) {}

  private Fat32Reader(FileChannel ch, long base, Fat32Layout layout, long rootCluster, int volumeId, String bootLabel) {
    this.ch = ch;
    this.base = base;
    this.layout = layout;
    this.rootCluster = rootCluster;
    this.volumeId = volumeId;
    this.bootLabel = bootLabel;
  }

  /** Opens the FAT32 volume at {@code offset} in {@code ch}; {@code length} bounds it. */
  public static Fat32Reader open(FileChannel ch, long offset, long length) throws IOException {
    ByteBuffer b = read(ch, offset, 512);
    if ((b.getShort(510) & 0xffff) != 0xAA55) throw new IOException("no boot sector signature at byte " + offset);
    int bps = b.getShort(11) & 0xffff;
    int spc = b.get(13) & 0xff;
    int reserved = b.getShort(14) & 0xffff;
    int fats = b.get(16) & 0xff;
    long fat16 = b.getShort(22) & 0xffff;
    long total = b.getInt(32) & 0xFFFF_FFFFL;
    long fatSectors = b.getInt(36) & 0xFFFF_FFFFL;
    if (bps != 512) throw new IOException("unsupported FAT sector size " + bps + " (only 512)");
    if (fat16 != 0 || fatSectors == 0 || fats != 2 || spc == 0 || Integer.bitCount(spc) != 1) {
      throw new IOException("not a FAT32 volume at byte " + offset + " (sectors/cluster " + spc + ", FATs " + fats
          + ", FAT16 size " + fat16 + ")");
    }
    if (total * 512 > length) throw new IOException("FAT32 volume claims " + total * 512 + " bytes, region holds " + length);
    long clusters = (total - reserved - fats * fatSectors) / spc;
    Fat32Layout l = new Fat32Layout(total, spc, reserved, fatSectors, clusters);
    String label = new String(bytes(b, 71, 11), StandardCharsets.US_ASCII).stripTrailing();
    return new Fat32Reader(ch, offset, l, b.getInt(44) & 0xFFFF_FFFFL, b.getInt(67), label);
  }

  public Fat32Layout layout() { return layout; }

  public int volumeId() { return volumeId; }

  /** The label from the root directory's volume-label entry, else from the boot sector ({@code "NO NAME"} means none). */
  public String label() throws IOException {
    for (Raw r : readDir(rootCluster, "")) if (r.label) return r.name;
    return bootLabel;
  }

  /** Entries of the directory at {@code path} ({@code ""} = root), without {@code .} and {@code ..}. */
  public List<Entry> list(String path) throws IOException {
    long cluster = path.isEmpty() ? rootCluster : resolveDir(path);
    return readDir(cluster, path).stream().filter(r -> !r.label).map(r -> r.entry).toList();
  }

  /** Finds an entry by path, ignoring case as FAT does. */
  public Optional<Entry> find(String path) throws IOException {
    int slash = path.lastIndexOf('/');
    String parent = slash < 0 ? "" : path.substring(0, slash);
    String name = path.substring(slash + 1);
    if (!parent.isEmpty() && find(parent).filter(Entry::directory).isEmpty()) return Optional.empty();
    return list(parent).stream().filter(e -> e.name.equalsIgnoreCase(name)).findFirst();
  }

  /** The content of the file at {@code path}. */
  public byte[] readFile(String path) throws IOException {
    Entry e = find(path).orElseThrow(() -> new IOException("no such file on the FAT volume: " + path));
    if (e.directory) throw new IOException("'" + path + "' is a directory");
    if (e.size > Integer.MAX_VALUE - 16) throw new IOException("'" + path + "' is too large to read into memory");
    byte[] out = new byte[(int) e.size];
    int done = 0;
    for (long c : chain(e.firstCluster, path)) {
      if (done >= out.length) break;
      int n = Math.min(layout.clusterBytes(), out.length - done);
      read(ch, base + layout.clusterOffset(c), n).get(out, done, n);
      done += n;
    }
    if (done < out.length) throw new IOException("cluster chain of '" + path + "' ends before its size " + e.size);
    return out;
  }

  /** Adds every directory and file of this volume (and its label) to {@code builder}. */
  public void copyTo(Fat32Builder builder) throws IOException {
    String l = label();
    if (!l.equals("NO NAME")) builder.label(l);
    copyDir("", builder);
  }

  private void copyDir(String path, Fat32Builder b) throws IOException {
    for (Entry e : list(path)) {
      String p = path.isEmpty() ? e.name : path + "/" + e.name;
      if (e.directory) {
        b.directory(p);
        copyDir(p, b);
      } else {
        b.file(p, readFile(p));
      }
    }
  }

  private long resolveDir(String path) throws IOException {
    Entry e = find(path).orElseThrow(() -> new IOException("no such directory on the FAT volume: " + path));
    if (!e.directory) throw new IOException("'" + path + "' is a file, not a directory");
    return e.firstCluster == 0 ? rootCluster : e.firstCluster;
  }

  private record Raw(String name, boolean label, Entry entry) {}

  private List<Raw> readDir(long first, String path) throws IOException {
    List<Raw> out = new ArrayList<>();
    char[] lfn = new char[260];
    int lfnParts = 0;
    int lfnSum = -1;
    int expect = 0;
    for (long c : chain(first, path.isEmpty() ? "/" : path)) {
      ByteBuffer d = read(ch, base + layout.clusterOffset(c), layout.clusterBytes());
      for (int off = 0; off < d.limit(); off += 32) {
        int b0 = d.get(off) & 0xff;
        if (b0 == 0) return out;
        int attr = d.get(off + 11) & 0xff;
        if (b0 == 0xE5) { lfnParts = 0; continue; }
        if (attr == 0x0F) {
          int seq = b0 & 0x1F;
          if ((b0 & 0x40) != 0) { lfnParts = seq; lfnSum = d.get(off + 13) & 0xff; expect = seq; java.util.Arrays.fill(lfn, '\uffff'); }
          if (seq != expect || seq == 0 || (d.get(off + 13) & 0xff) != lfnSum) { lfnParts = 0; continue; }
          int[] slots = {1, 3, 5, 7, 9, 14, 16, 18, 20, 22, 24, 28, 30};
          for (int k = 0; k < 13; k++) lfn[(seq - 1) * 13 + k] = (char) d.getShort(off + slots[k]);
          expect--;
          continue;
        }
        byte[] sn = bytes(d, off, 11);
        if (b0 == 0x05) sn[0] = (byte) 0xE5;
        String name;
        if (lfnParts > 0 && expect == 0 && FatNames.checksum(bytes(d, off, 11)) == lfnSum) {
          String s = new String(lfn, 0, lfnParts * 13);
          int end = s.indexOf('\0');
          name = end >= 0 ? s.substring(0, end) : s.replace("\uffff", "");
        } else {
          name = shortName(sn, d.get(off + 12) & 0xff, (attr & 0x08) != 0);
        }
        lfnParts = 0;
        if ((attr & 0x08) != 0) {
          if (off == 0 || path.isEmpty()) out.add(new Raw(name, true, null));
          continue;
        }
        if (name.equals(".") || name.equals("..")) continue;
        long cl = ((long) (d.getShort(off + 20) & 0xffff) << 16) | (d.getShort(off + 26) & 0xffff);
        out.add(new Raw(name, false, new Entry(name, (attr & 0x10) != 0, d.getInt(off + 28) & 0xFFFF_FFFFL, cl)));
      }
    }
    return out;
  }

  private static String shortName(byte[] sn, int ntRes, boolean label) {
    String all = new String(sn, StandardCharsets.ISO_8859_1);
    if (label) return all.stripTrailing();
    String b = all.substring(0, 8).stripTrailing();
    String e = all.substring(8).stripTrailing();
    if ((ntRes & 0x08) != 0) b = b.toLowerCase(Locale.ROOT);
    if ((ntRes & 0x10) != 0) e = e.toLowerCase(Locale.ROOT);
    return e.isEmpty() ? b : b + "." + e;
  }

  private List<Long> chain(long first, String what) throws IOException {
    List<Long> out = new ArrayList<>();
    long c = first;
    while (c >= 2 && c < EOC_MIN) {
      if (c > layout.clusterCount() + 1) throw new IOException("cluster chain of '" + what + "' points outside the volume: " + c);
      if (out.size() > layout.clusterCount()) throw new IOException("cluster chain of '" + what + "' loops");
      out.add(c);
      c = read(ch, base + layout.fatOffset() + c * 4, 4).getInt(0) & 0x0FFF_FFFFL;
    }
    return out;
  }

  private static byte[] bytes(ByteBuffer b, int off, int n) {
    byte[] out = new byte[n];
    b.get(off, out);
    return out;
  }

  private static ByteBuffer read(FileChannel ch, long pos, int n) throws IOException {
    ByteBuffer b = ByteBuffer.allocate(n).order(ByteOrder.LITTLE_ENDIAN);
    while (b.hasRemaining()) {
      if (ch.read(b, pos + b.position()) < 0) throw new IOException("FAT volume ends early at byte " + (pos + b.position()));
    }
    return b.flip();
  }
}

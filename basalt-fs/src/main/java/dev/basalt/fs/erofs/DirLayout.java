package dev.basalt.fs.erofs;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * A directory's entries (with {@code .} and {@code ..}) sorted by raw name bytes, as the kernel's
 * binary search requires, split into blocks of dirents followed by their names.
 */
final class DirLayout {
  private static final byte[] DOT = ".".getBytes(StandardCharsets.US_ASCII);
  private static final byte[] DOTDOT = "..".getBytes(StandardCharsets.US_ASCII);

  private final Inode.Entry[] sorted;
  /** Index of the first entry of each block, plus a final sentinel. */
  private final int[] blockStart;
  final long size;

  private DirLayout(Inode.Entry[] sorted, int[] blockStart, long size) {
    this.sorted = sorted;
    this.blockStart = blockStart;
    this.size = size;
  }

  /** Entries sorted by unsigned bytes, shorter prefix first (as the kernel compares names). */
  static void sort(List<Inode.Entry> entries) {
    entries.sort((a, b) -> Arrays.compareUnsigned(a.name(), b.name()));
  }

  static DirLayout plan(Inode dir) {
    List<Inode.Entry> all = new ArrayList<>(dir.entries.size() + 2);
    all.addAll(dir.entries);
    all.add(new Inode.Entry(DOT, dir));
    all.add(new Inode.Entry(DOTDOT, dir.parent == null ? dir : dir.parent));
    sort(all);
    Inode.Entry[] sorted = all.toArray(Inode.Entry[]::new);
    int[] starts = new int[sorted.length + 1];
    int blocks = 0;
    int used = Format.BLOCK;
    for (int i = 0; i < sorted.length; i++) {
      int need = Format.DIRENT + sorted[i].name().length;
      if (used + need > Format.BLOCK) {
        starts[blocks++] = i;
        used = 0;
      }
      used += need;
    }
    starts[blocks] = sorted.length;
    return new DirLayout(sorted, Arrays.copyOf(starts, blocks + 1), (long) (blocks - 1) * Format.BLOCK + used);
  }

  int blockCount() { return blockStart.length - 1; }

  /** Writes block {@code b} into {@code out} (4096 bytes, zero-filled past the names). */
  void writeBlock(int b, byte[] out) {
    Arrays.fill(out, 0, Format.BLOCK, (byte) 0);
    ByteBuffer bb = ByteBuffer.wrap(out).order(ByteOrder.LITTLE_ENDIAN);
    int from = blockStart[b];
    int to = blockStart[b + 1];
    int nameOff = (to - from) * Format.DIRENT;
    for (int i = from; i < to; i++) {
      Inode.Entry e = sorted[i];
      bb.putLong(e.inode().nid()).putShort((short) nameOff).put((byte) e.inode().fileType).put((byte) 0);
      System.arraycopy(e.name(), 0, out, nameOff, e.name().length);
      nameOff += e.name().length;
    }
  }
}

package dev.basalt.fs.erofs;

import java.util.ArrayDeque;

/**
 * Places metadata items (inode + xattrs + inline tail) in the metadata area. Items of at most one
 * block never cross a block boundary (the kernel rejects inline data that does) and go to the
 * open block with the least free space that fits them (best fit), so tails pack densely; larger
 * items start on a fresh block. Deterministic for a given sequence of sizes.
 */
final class MetaAllocator {
  private static final int SLOTS = Format.BLOCK / 32;

  /** Open blocks by free space in 32-byte units (1..SLOTS-1); each holds block numbers. */
  @SuppressWarnings("unchecked")
  private final ArrayDeque<Long>[] open = new ArrayDeque[SLOTS];
  private long blocks;

  MetaAllocator() {
    for (int i = 0; i < SLOTS; i++) open[i] = new ArrayDeque<>();
  }

  /** Byte offset (32-aligned) within the metadata area for an item of {@code size} bytes (multiple of 32). */
  long place(long size) {
    if (size > Format.BLOCK) {
      long start = blocks * Format.BLOCK;
      blocks += Format.blocksFor(size);
      release(blocks - 1, (int) (blocks * Format.BLOCK - start - size));
      return start;
    }
    int need = (int) (size / 32);
    for (int slot = need; slot < SLOTS; slot++) {
      Long block = open[slot].pollFirst();
      if (block != null) {
        long at = block * Format.BLOCK + Format.BLOCK - slot * 32L;
        release(block, (slot - need) * 32);
        return at;
      }
    }
    long block = blocks++;
    release(block, Format.BLOCK - (int) size);
    return block * Format.BLOCK;
  }

  private void release(long block, int free) {
    if (free >= 32) open[free / 32].addLast(block);
  }

  long blocks() { return blocks; }
}

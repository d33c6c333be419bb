package dev.basalt.fs.erofs;

/** On-disk constants of EROFS (Linux {@code fs/erofs/erofs_fs.h}); all integers little-endian. */
final class Format {
  private Format() {}

  static final int BLOCK_BITS = 12;
  static final int BLOCK = 1 << BLOCK_BITS;
  static final int SUPER_OFFSET = 1024;
  static final int MAGIC = 0xE0F5E1E2;

  static final int COMPAT_SB_CHKSUM = 0x1;
  /** Extended inodes carry the modification time (not ctime); informational, set by mkfs.erofs too. */
  static final int COMPAT_MTIME = 0x2;
  static final int INCOMPAT_CHUNKED_FILE = 0x4;

  static final int LAYOUT_FLAT_PLAIN = 0;
  static final int LAYOUT_FLAT_INLINE = 2;
  static final int LAYOUT_CHUNK_BASED = 4;

  static final int COMPACT_INODE = 32;
  static final int EXTENDED_INODE = 64;
  static final int NULL_ADDR = -1;
  static final int DIRENT = 12;
  static final int NAME_MAX = 255;
  /** Largest symlink target the kernel accepts (PATH_MAX - 1). */
  static final int SYMLINK_MAX = 4095;
  /**
   * Largest chunk of a file with zero blocks: 4 KiB << 4 = 64 KiB. Its all-zero chunks point at one
   * shared run of that many zero blocks rather than at EROFS_NULL_ADDR, because fsck.erofs 1.5
   * extracts null chunks wrongly (it skips them, shifting the rest of the file). The kernel reads
   * both forms.
   */
  static final int MAX_CHUNK_BITS = 4;

  static final int FT_REG = 1, FT_DIR = 2, FT_CHR = 3, FT_BLK = 4, FT_FIFO = 5, FT_SOCK = 6, FT_SYMLINK = 7;

  /** S_IFMT bits of each file type, indexed by FT_*. */
  static final int[] MODE_BITS = {0, 0100000, 0040000, 0020000, 0060000, 0010000, 0140000, 0120000};

  static long blocksFor(long bytes) {
    return (bytes + BLOCK - 1) >>> BLOCK_BITS;
  }
}

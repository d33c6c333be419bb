package dev.basalt.fs.erofs;

import dev.basalt.fs.tree.Metadata;
import java.util.ArrayList;
import java.util.List;

/** One inode being built; several names (hardlinks) may share it. Mutable, writer-internal. */
final class Inode {
  /** A name in a directory. */
  record Entry(byte[] name, Inode inode) {}

  final int fileType;
  Metadata metadata;
  byte[] xattrs = Xattrs.NONE;
  /** Names pointing here (non-directories). */
  int links;

  // Directory
  Inode parent;
  boolean implied;
  List<Entry> entries;
  DirLayout dir;

  // Data
  long size;
  int layout = Format.LAYOUT_FLAT_PLAIN;
  long startBlock = Format.NULL_ADDR;
  long tailHandle = -1;
  int inlineLength;
  int chunkBits;
  int[] chunkMap;
  byte[] target;
  int rdev;

  // Placement, decided in finish()
  boolean extended;
  int nlink;
  long offset;
  int ino;

  Inode(int fileType, Metadata metadata) {
    this.fileType = fileType;
    this.metadata = metadata;
    if (fileType == Format.FT_DIR) entries = new ArrayList<>();
  }

  boolean isDirectory() { return fileType == Format.FT_DIR; }

  int inodeSize() { return extended ? Format.EXTENDED_INODE : Format.COMPACT_INODE; }

  /** Bytes of this inode's metadata item: inode, xattrs, then inline data or the chunk map. */
  long itemSize() {
    long tail = layout == Format.LAYOUT_CHUNK_BASED ? 4L * chunkMap.length : inlineLength;
    return (inodeSize() + xattrs.length + tail + 31) & ~31L;
  }

  long nid() { return offset >>> 5; }
}

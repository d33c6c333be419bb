package dev.basalt.fs.fat;

/**
 * Geometry of a FAT32 volume (512-byte sectors).
 *
 * @param totalSectors sectors in the volume
 * @param sectorsPerCluster 1, 8, 16, 32 or 64 by volume size (Microsoft's table)
 * @param reservedSectors boot area (boot sector, FSInfo, backups), padded so clusters start 4 KiB-aligned
 * @param fatSectors sectors of one FAT (there are two)
 * @param clusterCount data clusters (numbered from 2)
 */
public record Fat32Layout(long totalSectors, int sectorsPerCluster, int reservedSectors, long fatSectors, long clusterCount) {
  public static final int SECTOR_SIZE = 512;
  /** FAT32 needs at least this many clusters, or tools take it for FAT16. */
  public static final long MIN_CLUSTERS = 65525;
  /** Largest cluster count a FAT32 volume can have. */
  public static final long MAX_CLUSTERS = 0x0FFF_FFF5L - 2;
  static final int BASE_RESERVED = 32;

  /** Cluster size in bytes. */
  public int clusterBytes() { return sectorsPerCluster * SECTOR_SIZE; }

  /** Byte offset (from the volume start) of the first FAT. */
  public long fatOffset() { return (long) reservedSectors * SECTOR_SIZE; }

  /** Byte offset of cluster 2, the first data cluster. */
  public long dataOffset() { return (reservedSectors + 2 * fatSectors) * SECTOR_SIZE; }

  /** Byte offset of {@code cluster}. */
  public long clusterOffset(long cluster) { return dataOffset() + (cluster - 2) * clusterBytes(); }

  /** Volume size in bytes. */
  public long sizeBytes() { return totalSectors * SECTOR_SIZE; }

  /**
   * The geometry for a volume of {@code bytes}: from about 33 MiB (65525 clusters of 512 bytes)
   * up to 2 TiB (the 32-bit sector count).
   */
  public static Fat32Layout forSize(long bytes) {
    if (bytes <= 0 || bytes % SECTOR_SIZE != 0) {
      throw new IllegalArgumentException("FAT32 volume size must be a positive multiple of 512, got " + bytes);
    }
    long total = bytes / SECTOR_SIZE;
    if (total > 0xFFFF_FFFFL) {
      throw new IllegalArgumentException("FAT32 volume of " + bytes + " bytes is too large; at most " + 0xFFFF_FFFFL * 512);
    }
    long mib = bytes >> 20;
    int spc = mib <= 260 ? 1 : mib <= 8 * 1024 ? 8 : mib <= 16 * 1024 ? 16 : mib <= 32 * 1024 ? 32 : 64;
    int reserved = BASE_RESERVED;
    long fat = 0;
    while (true) {
      long clusters = (total - reserved - 2 * fat) / spc;
      long need = Math.ceilDiv((clusters + 2) * 4, SECTOR_SIZE);
      if (need <= fat) break;
      fat = need;
    }
    int align = Math.max(spc, 8);
    reserved += Math.floorMod(-(reserved + 2 * fat), align);
    long clusters = (total - reserved - 2 * fat) / spc;
    if (clusters < MIN_CLUSTERS) {
      throw new IllegalArgumentException("FAT32 volume of " + bytes + " bytes is too small: it gives " + clusters
          + " clusters of " + spc * SECTOR_SIZE + " bytes, FAT32 needs at least " + MIN_CLUSTERS + " (about 33 MiB)");
    }
    if (clusters > MAX_CLUSTERS) throw new IllegalArgumentException("FAT32 volume of " + bytes + " bytes has too many clusters");
    return new Fat32Layout(total, spc, reserved, fat, clusters);
  }
}

package dev.basalt.fs.fat;

/**
 * What was written.
 *
 * @param layout the volume geometry
 * @param usedClusters clusters taken by directories and files
 * @param volumeId the volume serial number
 * @param label the volume label ({@code "NO NAME"} when none)
 */
public record Fat32Result(Fat32Layout layout, long usedClusters, int volumeId, String label) {
  /** Clusters still free. */
  public long freeClusters() { return layout.clusterCount() - usedClusters; }

  /** The serial as {@code blkid}/{@code fsck.fat} print it, e.g. {@code 1A2B-3C4D}. */
  public String volumeIdText() {
    return String.format("%04X-%04X", (volumeId >>> 16) & 0xFFFF, volumeId & 0xFFFF);
  }
}

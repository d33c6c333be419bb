package dev.basalt.fs.diskimage;

/**
 * Outcome of a conversion.
 *
 * @param format output format
 * @param virtualSize guest-visible disk size in bytes
 * @param fileSize bytes of the output file (apparent size)
 * @param dataClusters 64 KiB clusters that held non-zero data and were stored
 * @param zeroClusters 64 KiB clusters found all-zero and skipped
 */
public record ConversionResult(DiskImageFormat format, long virtualSize, long fileSize, long dataClusters, long zeroClusters) {}

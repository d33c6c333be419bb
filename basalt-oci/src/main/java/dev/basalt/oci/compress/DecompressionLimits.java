package dev.basalt.oci.compress;

/**
 * Guards against decompression bombs.
 *
 * @param maxBytes most decompressed bytes one blob may yield
 * @param maxRatio most decompressed bytes per compressed byte, checked once {@code ratioGraceBytes}
 *     have been decompressed (small blobs such as an empty tar legitimately compress 30:1 or more)
 * @param ratioGraceBytes decompressed bytes allowed before the ratio is enforced
 */
public record DecompressionLimits(long maxBytes, int maxRatio, long ratioGraceBytes) {
  /** 64 GiB per layer, 100:1 after the first 8 MiB. */
  public static final DecompressionLimits DEFAULT = new DecompressionLimits(64L << 30, 100, 8L << 20);

  /** No limits (trusted local input only). */
  public static final DecompressionLimits UNLIMITED = new DecompressionLimits(Long.MAX_VALUE, Integer.MAX_VALUE, Long.MAX_VALUE);

  public DecompressionLimits {
    if (maxBytes <= 0) throw new IllegalArgumentException("maxBytes must be positive, got " + maxBytes);
    if (maxRatio < 1) throw new IllegalArgumentException("maxRatio must be at least 1, got " + maxRatio);
    if (ratioGraceBytes < 0) throw new IllegalArgumentException("ratioGraceBytes must not be negative, got " + ratioGraceBytes);
  }

  public DecompressionLimits withMaxBytes(long max) {
    return new DecompressionLimits(max, maxRatio, ratioGraceBytes);
  }

  public DecompressionLimits withMaxRatio(int ratio, long graceBytes) {
    return new DecompressionLimits(maxBytes, ratio, graceBytes);
  }
}

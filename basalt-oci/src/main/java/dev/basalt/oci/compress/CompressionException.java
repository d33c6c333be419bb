package dev.basalt.oci.compress;

import java.io.IOException;

/**
 * A blob whose bytes do not match its declared compression, that is truncated or corrupt, or
 * that decompresses beyond the configured limits. The message names the blob.
 */
public class CompressionException extends IOException {
  public CompressionException(String message) {
    super(message);
  }

  public CompressionException(String message, Throwable cause) {
    super(message, cause);
  }
}

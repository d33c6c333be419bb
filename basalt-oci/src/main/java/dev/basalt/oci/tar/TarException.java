package dev.basalt.oci.tar;

import java.io.IOException;

/**
 * A malformed, truncated or unsupported tar archive. The message names the archive (when the
 * reader was given a name), the byte offset and the entry concerned.
 */
public class TarException extends IOException {
  private final long offset;

  public TarException(String message, long offset) {
    super(message);
    this.offset = offset;
  }

  /** Byte offset in the (uncompressed) archive where the problem was found, or -1. */
  public long offset() { return offset; }
}

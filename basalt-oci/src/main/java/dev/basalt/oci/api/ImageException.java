package dev.basalt.oci.api;

import java.io.IOException;

/** An image could not be read or written: bad content, digest mismatch, missing tag, transport failure. */
public class ImageException extends IOException {
  public ImageException(String message) {
    super(message);
  }

  public ImageException(String message, Throwable cause) {
    super(message, cause);
  }
}

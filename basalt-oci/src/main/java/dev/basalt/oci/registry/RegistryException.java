package dev.basalt.oci.registry;

import dev.basalt.oci.api.ImageException;

/** A registry answered with an error status, or could not be reached; names the URL. */
public final class RegistryException extends ImageException {
  private final int status;
  private final String url;

  public RegistryException(String message, int status, String url) {
    super(message);
    this.status = status;
    this.url = url;
  }

  public RegistryException(String message, int status, String url, Throwable cause) {
    super(message, cause);
    this.status = status;
    this.url = url;
  }

  /** HTTP status, or 0 when no response came (connection failure, timeout). */
  public int status() {
    return status;
  }

  public String url() {
    return url;
  }
}

package dev.basalt.fleet.client;

import java.io.IOException;

/** The fleet server answered with an error (or could not be reached: status 0). */
public final class FleetClientException extends IOException {
  private static final long serialVersionUID = 1L;
  private final int status;

  public FleetClientException(int status, String message) {
    super(message);
    this.status = status;
  }

  public FleetClientException(String message, Throwable cause) {
    super(message, cause);
    this.status = 0;
  }

  /** HTTP status of the answer; 0 when there was none (connection, TLS or timeout). */
  public int status() {
    return status;
  }
}

package dev.basalt.oci.policy;

import dev.basalt.oci.api.ImageException;

/** A policy file is unreadable or invalid; the message names the file and the JSON location. */
public final class PolicyException extends ImageException {
  public PolicyException(String message) {
    super(message);
  }

  public PolicyException(String message, Throwable cause) {
    super(message, cause);
  }
}

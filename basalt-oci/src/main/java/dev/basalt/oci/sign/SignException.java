package dev.basalt.oci.sign;

import dev.basalt.oci.api.ImageException;

/** A key, password, signature or bundle could not be used; the message names the file or object and the cause. */
public class SignException extends ImageException {
  public SignException(String message) {
    super(message);
  }

  public SignException(String message, Throwable cause) {
    super(message, cause);
  }
}

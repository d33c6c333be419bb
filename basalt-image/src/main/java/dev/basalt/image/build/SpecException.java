package dev.basalt.image.build;

import java.io.IOException;

/** An invalid build spec or lock file; the message starts with {@code file:line:}. */
public final class SpecException extends IOException {
  public SpecException(String message) {
    super(message);
  }
}

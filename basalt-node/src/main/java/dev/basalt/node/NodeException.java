package dev.basalt.node;

import java.io.IOException;

/** A node operation refused or failed; the message says what and where, for people. */
public class NodeException extends IOException {
  private static final long serialVersionUID = 1L;

  public NodeException(String message) {
    super(message);
  }

  public NodeException(String message, Throwable cause) {
    super(message, cause);
  }
}

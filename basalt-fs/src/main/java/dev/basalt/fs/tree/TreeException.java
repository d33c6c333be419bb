package dev.basalt.fs.tree;

import java.io.IOException;

/** A tree that a sink or producer cannot represent; the message names the path. */
public class TreeException extends IOException {
  private final String path;

  public TreeException(String path, String message) {
    super((path == null ? "" : "/" + path + ": ") + message);
    this.path = path;
  }

  /** The offending path, or {@code null} when the problem is not about one entry. */
  public String path() { return path; }
}

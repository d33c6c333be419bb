package dev.basalt.image.initramfs;

import java.io.IOException;

/** An initramfs that cannot be read: truncated, corrupt, or stored in an unsupported way. */
public class InitramfsException extends IOException {
  public InitramfsException(String message) { super(message); }

  public InitramfsException(String message, Throwable cause) { super(message, cause); }
}

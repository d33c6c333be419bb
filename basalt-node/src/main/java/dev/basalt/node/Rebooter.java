package dev.basalt.node;

import java.io.IOException;
import java.util.List;

/** How {@code --apply} reboots the machine. */
@FunctionalInterface
public interface Rebooter {
  void reboot() throws IOException;

  /** {@code systemctl reboot}. */
  static Rebooter systemctl() {
    return command(List.of("systemctl", "reboot"));
  }

  /** Runs {@code argv} and waits; a non-zero exit is an error. */
  static Rebooter command(List<String> argv) {
    List<String> copy = List.copyOf(argv);
    if (copy.isEmpty()) throw new IllegalArgumentException("reboot command must not be empty");
    return () -> {
      Process p = new ProcessBuilder(copy).inheritIO().start();
      try {
        int rc = p.waitFor();
        if (rc != 0) throw new NodeException("reboot command " + copy + " exited " + rc);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new NodeException("interrupted while running " + copy, e);
      }
    };
  }

  /** Does nothing (a test system, or a reboot left to the caller). */
  Rebooter NONE = () -> {};
}

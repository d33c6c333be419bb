package dev.basalt.node;

import dev.basalt.api.UpdatePhase;

/**
 * Progress of an update, called on the updating thread. Tasks: {@code layer <digest>} (download),
 * {@code root} (bytes of file content written into the slot), {@code verity}, {@code kernel},
 * {@code initrd}.
 */
public interface UpdateListener {
  /** A new phase starts. */
  default void phase(UpdatePhase phase, String detail) {}

  /** {@code done} of {@code total} units (bytes) of {@code task}; total -1 when unknown. */
  default void progress(String task, long done, long total) {}

  /** A line for people (what was decided and why). */
  default void info(String message) {}

  UpdateListener NONE = new UpdateListener() {};

  /** Calls both. */
  default UpdateListener and(UpdateListener other) {
    UpdateListener self = this;
    return new UpdateListener() {
      @Override
      public void phase(UpdatePhase p, String d) {
        self.phase(p, d);
        other.phase(p, d);
      }

      @Override
      public void progress(String t, long done, long total) {
        self.progress(t, done, total);
        other.progress(t, done, total);
      }

      @Override
      public void info(String m) {
        self.info(m);
        other.info(m);
      }
    };
  }
}

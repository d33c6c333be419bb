package dev.basalt.fleet.server.rollout;

import java.time.Instant;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * One transition of a rollout, for the audit log. Numbered without gaps per rollout ({@code seq}), so a log can be
 * replayed in order.
 *
 * @param seq 1, 2, 3… within the rollout
 * @param time when ({@link RolloutEngine}'s clock)
 * @param type what happened
 * @param wave the wave concerned, or null
 * @param deviceId the device concerned, or null
 * @param counts figures that go with it (see {@link Type}); never null
 * @param message a human-readable sentence
 */
public record RolloutEvent(long seq, Instant time, Type type, Integer wave, String deviceId, Map<String, Integer> counts,
    String message) {
  public RolloutEvent {
    Objects.requireNonNull(time, "time");
    Objects.requireNonNull(type, "type");
    counts = counts == null ? Map.of() : Collections.unmodifiableMap(new LinkedHashMap<>(counts));
    Objects.requireNonNull(message, "message");
  }

  /** Kinds of event. Counts keys are given where an event carries them. */
  public enum Type {
    /** Waves fixed; counts: {@code wave0}, {@code wave1}… sizes. */
    PLANNED,
    STARTED,
    /** A wave's devices get the new digest (download) or become ready for reboot; counts: {@code devices}. */
    WAVE_STARTED,
    /** counts: {@code devices}, {@code succeeded}, {@code failed}. */
    WAVE_SUCCEEDED,
    WAITING_APPROVAL,
    APPROVED,
    /** Downloads handed out this step; counts: {@code devices}. */
    DOWNLOADS_ASSIGNED,
    /** The device reported the new digest staged. */
    DEVICE_STAGED,
    /**
     * A reboot into the new digest was released; counts, per budget group {@code <key>=<value>}:
     * {@code <key>=<value>.unavailable} (after this release) and {@code <key>=<value>.allowed}.
     */
    REBOOT_RELEASED,
    /** A released reboot was taken back because the maintenance window closed before the device rebooted. */
    REBOOT_WITHDRAWN,
    DEVICE_SUCCEEDED,
    /** The device failed the new digest (message says how); it gets the previous digest back. */
    DEVICE_FAILED,
    /** The device had failed the new digest before; it is never offered it and counts as failed. */
    DEVICE_SKIPPED,
    DEVICE_JOINED,
    DEVICE_LEFT,
    /** counts: {@code devices}, {@code succeeded}, {@code failed}. */
    FAILURE_THRESHOLD_EXCEEDED,
    PAUSED,
    RESUMED,
    /** counts: {@code devices} sent the previous digest. */
    REVERT_STARTED,
    /** A reboot back into the previous digest was released; counts as for {@link #REBOOT_RELEASED}. */
    REVERT_RELEASED,
    DEVICE_REVERTED,
    REVERTED,
    SUCCEEDED,
    ABORTED,
    WINDOW_OPENED,
    WINDOW_CLOSED
  }
}

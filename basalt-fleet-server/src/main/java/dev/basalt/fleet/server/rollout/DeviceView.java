package dev.basalt.fleet.server.rollout;

import dev.basalt.api.Health;
import dev.basalt.api.UpdatePhase;
import java.time.Instant;
import java.util.Map;
import java.util.Set;

/**
 * What the server knows of one device of the fleet, from its enrollment (labels) and its last status report.
 *
 * @param id the device id
 * @param labels its labels
 * @param bootedDigest the manifest digest it runs; null when unknown
 * @param stagedDigest the manifest digest staged to boot next; null when none
 * @param health the health of the booted deployment; null is read as {@link Health#UNKNOWN}
 * @param updatePhase where its update path is; null is read as {@link UpdatePhase#IDLE}
 * @param failedDigests digests that failed to boot on it (it never stages them again)
 * @param lastSeen when it last reported; null when never
 * @param bootedSince when it booted the current deployment; null when unknown
 * @param online whether the server holds a live connection or poll from it
 */
public record DeviceView(String id, Map<String, String> labels, String bootedDigest, String stagedDigest, Health health,
    UpdatePhase updatePhase, Set<String> failedDigests, Instant lastSeen, Instant bootedSince, boolean online) {
  public DeviceView {
    if (id == null || id.isBlank()) throw new IllegalArgumentException("device id must not be blank");
    labels = labels == null ? Map.of() : Map.copyOf(labels);
    failedDigests = failedDigests == null ? Set.of() : Set.copyOf(failedDigests);
    if (health == null) health = Health.UNKNOWN;
    if (updatePhase == null) updatePhase = UpdatePhase.IDLE;
  }

  /** Whether it is offline: not {@link #online}, never seen, or not seen for longer than {@code timeout}. */
  public boolean offline(Instant now, java.time.Duration timeout) {
    return !online || lastSeen == null || lastSeen.plus(timeout).isBefore(now);
  }
}

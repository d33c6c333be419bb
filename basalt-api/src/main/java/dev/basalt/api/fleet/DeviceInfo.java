package dev.basalt.api.fleet;

import dev.basalt.api.Health;
import dev.basalt.api.UpdatePhase;
import java.time.Instant;
import java.util.List;
import java.util.Map;

/**
 * A device as the admin API shows it.
 *
 * @param id server-given id (CN of its certificate)
 * @param name human name
 * @param labels its labels (fleet membership follows them)
 * @param state life-cycle state
 * @param fleet the fleet it belongs to; null when none
 * @param membershipError why it belongs to no fleet although selectors match (e.g. two fleets); null when fine
 * @param bootedDigest digest of the booted deployment; null when unknown
 * @param stagedDigest digest of the staged deployment; null when none
 * @param slot booted slot {@code a}/{@code b}; null when unknown
 * @param health health of the booted deployment; null before the first report
 * @param updatePhase last reported update phase; null before the first report
 * @param lastError last reported error; null when none
 * @param failedDigests digests that failed to boot on it
 * @param bytesDownloaded as last reported
 * @param lastSeen time of its last authenticated call; null when never
 * @param enrolledAt when it enrolled
 * @param certificateSerial hex serial of its current certificate; null when none
 * @param certificateExpires when that certificate expires; null when none
 * @param desired its current desired state
 */
public record DeviceInfo(String id, String name, Map<String, String> labels, DeviceState state, String fleet,
    String membershipError, String bootedDigest, String stagedDigest, String slot, Health health,
    UpdatePhase updatePhase, String lastError, List<String> failedDigests, long bytesDownloaded, Instant lastSeen,
    Instant enrolledAt, String certificateSerial, Instant certificateExpires, DesiredState desired) {
  public DeviceInfo {
    labels = labels == null ? Map.of() : Map.copyOf(labels);
    failedDigests = failedDigests == null ? List.of() : List.copyOf(failedDigests);
  }
}

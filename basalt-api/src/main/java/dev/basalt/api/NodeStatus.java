package dev.basalt.api;

import java.util.List;
import java.util.Objects;

/**
 * What {@code basalt status --format json} prints and the agent reports (schema:
 * {@code dev/basalt/api/node-status.schema.json} on the class path, {@link #SCHEMA_RESOURCE}).
 *
 * @param booted the deployment running now; null when the booted slot could not be told
 * @param staged the deployment that boots next (on trial); null when none
 * @param rollback the previous deployment, still intact in the other slot; null when none
 * @param failedDigests manifest digests that failed to boot on this machine and are not staged again unless forced
 * @param updatePhase where the update path is
 * @param lastError the last update's error, or null
 */
public record NodeStatus(Deployment booted, Deployment staged, Deployment rollback, List<String> failedDigests,
    UpdatePhase updatePhase, String lastError) {
  /** Class-path location of the JSON schema of this record. */
  public static final String SCHEMA_RESOURCE = "/dev/basalt/api/node-status.schema.json";

  public NodeStatus {
    failedDigests = List.copyOf(failedDigests);
    Objects.requireNonNull(updatePhase, "updatePhase");
  }
}

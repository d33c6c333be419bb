package dev.basalt.api;

import com.fasterxml.jackson.annotation.JsonProperty;

/** What is known of a deployment's health (ARCHITECTURE.md §5: boot trial, health checks, fallback). */
public enum Health {
  /** Never assessed: e.g. a deployment found on disk without a record of its boots. */
  @JsonProperty("unknown") UNKNOWN,
  /** Staged or on its trial boot: the required health checks have not passed yet. */
  @JsonProperty("pending") PENDING,
  /** All health checks passed (the boot entry is blessed). */
  @JsonProperty("healthy") HEALTHY,
  /** The required checks passed, a wanted one failed. */
  @JsonProperty("degraded") DEGRADED,
  /** A required health check failed on this boot. */
  @JsonProperty("unhealthy") UNHEALTHY,
  /** Its trial boots were spent and the machine fell back to the other slot. */
  @JsonProperty("failed") FAILED
}

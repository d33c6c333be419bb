package dev.basalt.api.fleet;

import com.fasterxml.jackson.annotation.JsonProperty;

/** Where a device is in its life on the fleet server. */
public enum DeviceState {
  /** Enrolled, waiting for an operator (or an auto-approve rule) to approve it; no certificate yet. */
  @JsonProperty("pending") PENDING,
  /** Approved: holds a certificate and talks mTLS. */
  @JsonProperty("active") ACTIVE,
  /** Its certificate was revoked; every device call is refused. */
  @JsonProperty("revoked") REVOKED,
  /** Removed from the fleet for good; kept only as a tombstone for the audit log. */
  @JsonProperty("decommissioned") DECOMMISSIONED;

  /** The lower-case name used in JSON, URLs and the database. */
  public String wireName() {
    return name().toLowerCase(java.util.Locale.ROOT);
  }

  /** Parses the lower-case name; IllegalArgumentException naming the accepted values otherwise. */
  public static DeviceState ofWireName(String s) {
    for (DeviceState d : values()) if (d.wireName().equals(s)) return d;
    throw new IllegalArgumentException("unknown device state '" + s + "' (expected pending, active, revoked or decommissioned)");
  }
}

package dev.basalt.oci.policy;

import java.util.Set;

/**
 * The verdict of a {@link SignaturePolicy} for one image.
 *
 * @param reason for a rejection: precisely why (which scope, which requirement, what each signature lacked); for an
 *     acceptance: what allowed it
 * @param signedRootHashes the verity root hashes ({@link dev.basalt.oci.sign.SimpleSigningPayload#ROOT_HASH}) claimed
 *     by the valid signatures that accepted the image; empty when none carries one (or nothing was verified)
 */
public record PolicyDecision(boolean accepted, String reason, Set<String> signedRootHashes) {
  public PolicyDecision {
    signedRootHashes = Set.copyOf(signedRootHashes);
  }

  public PolicyDecision(boolean accepted, String reason) {
    this(accepted, reason, Set.of());
  }

  public static PolicyDecision accept(String why) {
    return new PolicyDecision(true, why);
  }

  /** An acceptance by signatures that claim these root hashes. */
  public static PolicyDecision accept(String why, Set<String> signedRootHashes) {
    return new PolicyDecision(true, why, signedRootHashes);
  }

  public static PolicyDecision reject(String why) {
    return new PolicyDecision(false, why);
  }
}

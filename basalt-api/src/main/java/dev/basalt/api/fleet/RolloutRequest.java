package dev.basalt.api.fleet;

import java.util.Map;

/**
 * Starts a rollout of a fleet, {@code POST /api/v1/fleets/{name}/rollouts}.
 *
 * @param targetRef the image reference; may carry {@code @sha256:...}, then {@code targetDigest} may be null
 * @param targetDigest the manifest digest the target is pinned to
 * @param policy the rollout policy (JSON object as the rollout engine reads it); null for the fleet's policy, or the
 *     default policy when the fleet has none
 */
public record RolloutRequest(String targetRef, String targetDigest, Map<String, Object> policy) {
  public RolloutRequest {
    if (targetRef == null || targetRef.isBlank()) throw new IllegalArgumentException("targetRef is missing");
    int at = targetRef.indexOf('@');
    if (at >= 0) {
      String d = Digests.check("targetRef digest", targetRef.substring(at + 1));
      if (targetDigest != null && !targetDigest.equals(d)) {
        throw new IllegalArgumentException("targetRef pins " + d + " but targetDigest is " + targetDigest);
      }
      targetDigest = d;
      targetRef = targetRef.substring(0, at);
      if (targetRef.isBlank()) throw new IllegalArgumentException("targetRef is empty before the @");
    }
    Digests.check("targetDigest", targetDigest);
    if (targetDigest == null) {
      throw new IllegalArgumentException("the target needs a digest: give targetRef as ref@sha256:... or targetDigest");
    }
    policy = policy == null ? null : java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(policy));
  }
}

package dev.basalt.api.fleet;

import java.util.Map;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * A fleet as written by an operator ({@code POST /api/v1/fleets}, {@code PUT /api/v1/fleets/{name}}).
 *
 * @param name unique name: lower-case letters, digits, {@code -}, 1 to 63 characters
 * @param selector which devices belong to it ({@link LabelSelector} syntax; empty selects every device)
 * @param targetRef the image reference; may carry {@code @sha256:...}, then {@code targetDigest} may be null
 * @param targetDigest the manifest digest the target is pinned to (a tag is resolved by the caller)
 * @param policy the rollout policy (JSON object, interpreted by the rollout engine); null for the default. With a
 *     policy, changing the target of an existing fleet starts a rollout to it instead of assigning it at once
 * @param signatures what the fleet's targets must be signed with; null for no check
 */
public record FleetSpec(String name, String selector, String targetRef, String targetDigest,
    Map<String, Object> policy, SignatureRequirement signatures) {
  private static final Pattern NAME = Pattern.compile("[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?");

  public FleetSpec {
    Objects.requireNonNull(name, "fleet name is missing");
    if (!NAME.matcher(name).matches()) {
      throw new IllegalArgumentException("fleet name '" + name + "' must be 1-63 lower-case letters, digits or '-'");
    }
    selector = selector == null ? "" : selector.strip();
    LabelSelector.parse(selector);
    if (targetRef != null) {
      int at = targetRef.indexOf('@');
      if (at >= 0) {
        String d = Digests.check("targetRef digest", targetRef.substring(at + 1));
        if (targetDigest != null && !targetDigest.equals(d)) {
          throw new IllegalArgumentException("targetRef pins " + d + " but targetDigest is " + targetDigest);
        }
        targetDigest = d;
        targetRef = targetRef.substring(0, at);
      }
      if (targetRef.isBlank()) throw new IllegalArgumentException("targetRef is empty");
    }
    Digests.check("targetDigest", targetDigest);
    if ((targetRef == null) != (targetDigest == null)) {
      throw new IllegalArgumentException("a target needs both a reference and a digest (give ref@sha256:... or both fields)");
    }
    policy = policy == null ? null : Map.copyOf(policy);
  }

  /** A fleet without a signature requirement. */
  public FleetSpec(String name, String selector, String targetRef, String targetDigest, Map<String, Object> policy) {
    this(name, selector, targetRef, targetDigest, policy, null);
  }

  /** This spec with another target (reference and digest). */
  public FleetSpec withTarget(String ref, String digest) {
    return new FleetSpec(name, selector, ref, digest, policy, signatures);
  }
}

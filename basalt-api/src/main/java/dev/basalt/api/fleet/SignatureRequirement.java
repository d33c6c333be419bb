package dev.basalt.api.fleet;

import java.util.List;
import java.util.Map;

/**
 * What a fleet's images must be signed with (issue 8): the server checks the target's signatures in its registry
 * before it starts a rollout or sets a target, and refuses (422) when they do not satisfy this. Both parts apply
 * when both are given.
 *
 * @param publicKeys cosign public keys (PEM, ECDSA P-256): a simple-signing signature for the image's own repository
 *     by one of them is required; empty for none
 * @param policy a containers-policy.json(5) document (JSON object) the target must satisfy; null for none
 */
public record SignatureRequirement(List<String> publicKeys, Map<String, Object> policy) {
  public SignatureRequirement {
    publicKeys = publicKeys == null ? List.of() : List.copyOf(publicKeys);
    policy = policy == null ? null : java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(policy));
    if (publicKeys.isEmpty() && policy == null) {
      throw new IllegalArgumentException("signatures: give publicKeys, a policy, or both (or leave signatures out)");
    }
  }
}

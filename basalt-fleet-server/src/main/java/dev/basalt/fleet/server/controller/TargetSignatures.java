package dev.basalt.fleet.server.controller;

import dev.basalt.api.fleet.SignatureRequirement;
import dev.basalt.node.NodePolicy;
import dev.basalt.oci.policy.ContainersPolicy;
import dev.basalt.oci.policy.PolicyDecision;
import dev.basalt.oci.policy.SignaturePolicy;
import dev.basalt.oci.sign.CosignKeys;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.PublicKey;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import tools.jackson.databind.json.JsonMapper;

/**
 * Issue 8 on the server: checks a fleet target's signatures in its registry before a rollout starts or a target is
 * set, with the node's own admission check ({@link NodePolicy#check}), so that the server never hands out an image
 * its nodes would refuse.
 */
public final class TargetSignatures {
  private static final JsonMapper JSON = JsonMapper.builder().build();
  private final boolean tlsVerify;
  private final Path baseDir;

  /**
   * @param tlsVerify whether registries must present a trusted certificate (false also allows plain HTTP)
   * @param baseDir relative {@code keyPath}s of a containers-policy are resolved against it (the data dir)
   */
  public TargetSignatures(boolean tlsVerify, Path baseDir) {
    this.tlsVerify = tlsVerify;
    this.baseDir = baseDir;
  }

  /**
   * Checks the requirement's parts (keys, then policy) against {@code ref} pinned to {@code digest}.
   *
   * @return empty when accepted (or nothing is required), else why not, naming the digest
   * @throws IllegalArgumentException when the requirement itself is invalid (a key or policy that does not parse)
   */
  public Optional<String> refusal(String fleet, SignatureRequirement req, String ref, String digest) {
    if (req == null) return Optional.empty();
    List<SignaturePolicy> policies = policies(fleet, req);
    String pinned = pinned(ref, digest);
    for (SignaturePolicy p : policies) {
      PolicyDecision d;
      try {
        d = NodePolicy.check(p, pinned, tlsVerify, null);
      } catch (IOException | RuntimeException e) {
        return Optional.of(digest + ": cannot check its signatures in " + pinned + ": " + e.getMessage());
      }
      if (!d.accepted()) return Optional.of(digest + " is refused by fleet " + fleet + "'s signature requirement: " + d.reason());
    }
    return Optional.empty();
  }

  /** The requirement's policies; validates it (for a fleet being written). */
  public List<SignaturePolicy> policies(String fleet, SignatureRequirement req) {
    List<SignaturePolicy> out = new ArrayList<>();
    try {
      if (!req.publicKeys().isEmpty()) {
        List<PublicKey> keys = new ArrayList<>();
        for (int i = 0; i < req.publicKeys().size(); i++) {
          keys.add(CosignKeys.readPublicKey(req.publicKeys().get(i).getBytes(StandardCharsets.US_ASCII),
              "fleet " + fleet + " signatures.publicKeys[" + i + "]"));
        }
        out.add(SignaturePolicy.requireSignature(keys));
      }
      if (req.policy() != null) {
        out.add(ContainersPolicy.parse(JSON.writeValueAsBytes(req.policy()), baseDir, "fleet " + fleet + " signatures.policy"));
      }
    } catch (IOException e) {
      throw new IllegalArgumentException(e.getMessage(), e);
    }
    return out;
  }

  /** {@code docker://host/repo@sha256:...}: the digest is what is verified, a tag in {@code ref} is dropped. */
  static String pinned(String ref, String digest) {
    String r = ref.startsWith("docker://") ? ref.substring("docker://".length()) : ref;
    int at = r.indexOf('@');
    if (at >= 0) r = r.substring(0, at);
    int slash = r.lastIndexOf('/');
    int colon = r.lastIndexOf(':');
    if (colon > slash) r = r.substring(0, colon);
    return "docker://" + r + "@" + digest;
  }
}

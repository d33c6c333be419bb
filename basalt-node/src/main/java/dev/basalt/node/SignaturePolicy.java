package dev.basalt.node;

import dev.basalt.oci.api.ImageSource;
import dev.basalt.oci.api.RawManifest;
import dev.basalt.oci.registry.Credentials;
import java.io.IOException;
import java.util.Objects;
import java.util.Set;

/**
 * Decides whether an image may be deployed, after the reference is resolved and before anything is
 * downloaded or written (ARCHITECTURE.md §7: resolve, check signature policy, pin digest).
 * {@link #ACCEPT_ANY} when no policy is configured; {@link #enforcing} wires a containers-policy
 * ({@link dev.basalt.oci.policy.SignaturePolicy}) in; {@link NodePolicy} finds the node's own.
 */
@FunctionalInterface
public interface SignaturePolicy {
  /**
   * @param ref the reference as given
   * @param manifest the top-level manifest the reference resolved to (an index for a multi-arch
   *     image: signatures cover the top level); its bytes are hashed, not trusted
   * @param source the source, to fetch signatures or attestations from
   * @return why the image is accepted, and the verity root hashes its signatures vouch for
   * @throws IOException (a {@link NodeException} saying why) when the image is refused
   */
  Approval check(String ref, RawManifest manifest, ImageSource source) throws IOException;

  /**
   * An acceptance.
   *
   * @param signedRootHashes verity root hashes claimed by the accepting signatures: when not empty,
   *     the slot written from the image must have one of them or it is not committed
   */
  record Approval(String reason, Set<String> signedRootHashes) {
    public Approval {
      Objects.requireNonNull(reason, "reason");
      signedRootHashes = Set.copyOf(signedRootHashes);
    }

    public static final Approval UNCHECKED = new Approval("no signature policy", Set.of());
  }

  /** Accepts every image. */
  SignaturePolicy ACCEPT_ANY = (ref, manifest, source) -> Approval.UNCHECKED;

  /**
   * Enforces a containers-policy: signatures are looked up in the image's registry (with these TLS
   * settings and credentials); a rejection becomes a {@link NodeException} with the policy's reason.
   */
  static SignaturePolicy enforcing(dev.basalt.oci.policy.SignaturePolicy policy, boolean tlsVerify,
      Credentials credentials) {
    return new PolicyAdapter(policy, tlsVerify, credentials);
  }
}

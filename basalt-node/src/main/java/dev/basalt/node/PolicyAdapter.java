package dev.basalt.node;

import dev.basalt.oci.api.ImageSource;
import dev.basalt.oci.api.RawManifest;
import dev.basalt.oci.policy.PolicyDecision;
import dev.basalt.oci.ref.DockerReference;
import dev.basalt.oci.ref.ImageReference;
import dev.basalt.oci.registry.Credentials;
import dev.basalt.oci.registry.RegistryClient;
import dev.basalt.oci.registry.RegistryClientBuilder;
import dev.basalt.oci.sign.RegistrySignatures;
import dev.basalt.oci.sign.SignatureLookup;
import java.io.IOException;
import java.util.Objects;

/** The node's {@link SignaturePolicy} hook backed by a containers-policy. */
final class PolicyAdapter implements SignaturePolicy {
  private final dev.basalt.oci.policy.SignaturePolicy policy;
  private final boolean tlsVerify;
  private final Credentials credentials;

  PolicyAdapter(dev.basalt.oci.policy.SignaturePolicy policy, boolean tlsVerify, Credentials credentials) {
    this.policy = Objects.requireNonNull(policy, "policy");
    this.tlsVerify = tlsVerify;
    this.credentials = credentials;
  }

  @Override
  public Approval check(String ref, RawManifest manifest, ImageSource source) throws IOException {
    PolicyDecision d = decide(policy, ImageReference.parse(ref), manifest, tlsVerify, credentials);
    if (!d.accepted()) throw new NodeException("signature policy refuses " + ref + ": " + d.reason());
    return new Approval(d.reason(), d.signedRootHashes());
  }

  /** Looks signatures up where the image lives: its registry, or nowhere for local layouts and archives. */
  static PolicyDecision decide(dev.basalt.oci.policy.SignaturePolicy policy, ImageReference ref, RawManifest manifest,
      boolean tlsVerify, Credentials credentials) throws IOException {
    if (!(ref instanceof DockerReference dr)) return policy.check(ref, manifest, SignatureLookup.none());
    RegistryClientBuilder b = RegistryClient.builder(dr.registry()).tlsVerify(tlsVerify);
    if (credentials != null) b.credentials(credentials);
    try (RegistryClient c = b.build()) {
      return policy.check(ref, manifest, new RegistrySignatures(c, dr.repository()));
    }
  }
}

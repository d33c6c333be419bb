package dev.basalt.oci.policy;

import dev.basalt.oci.api.RawManifest;
import dev.basalt.oci.ref.ImageReference;
import dev.basalt.oci.sign.CosignVerifier;
import dev.basalt.oci.sign.SignatureCheck;
import dev.basalt.oci.sign.SignatureLookup;
import dev.basalt.oci.sign.SimpleSigningPayload;
import dev.basalt.oci.sign.Verification;
import java.io.IOException;
import java.security.PublicKey;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;

/** One requirement of a policy scope; all requirements of the scope must accept. */
public sealed interface PolicyRequirement {
  PolicyDecision evaluate(ImageReference image, RawManifest manifest, SignatureLookup signatures) throws IOException;

  /** {@code insecureAcceptAnything}. */
  record InsecureAcceptAnything() implements PolicyRequirement {
    @Override
    public PolicyDecision evaluate(ImageReference image, RawManifest manifest, SignatureLookup signatures) {
      return PolicyDecision.accept("insecureAcceptAnything");
    }
  }

  /** {@code reject}. */
  record Reject() implements PolicyRequirement {
    @Override
    public PolicyDecision evaluate(ImageReference image, RawManifest manifest, SignatureLookup signatures) {
      return PolicyDecision.reject("the policy rejects this image (requirement 'reject')");
    }
  }

  /**
   * {@code sigstoreSigned} with public keys: at least one simple-signing signature (the {@code .sig} tag; as in
   * containers/image, Sigstore bundles do not count since they carry no identity) must verify with one of the keys,
   * be bound to the manifest digest and satisfy {@code identity}; with {@code rekorKeys}, it must also carry a Rekor
   * SET from one of those logs.
   */
  record SigstoreSigned(List<PublicKey> keys, List<PublicKey> rekorKeys, SignedIdentity identity)
      implements PolicyRequirement {
    public SigstoreSigned {
      keys = List.copyOf(keys);
      rekorKeys = List.copyOf(rekorKeys);
      if (keys.isEmpty()) throw new IllegalArgumentException("sigstoreSigned needs at least one key");
      Objects.requireNonNull(identity, "identity");
    }

    public SigstoreSigned(List<PublicKey> keys, SignedIdentity identity) {
      this(keys, List.of(), identity);
    }

    @Override
    public PolicyDecision evaluate(ImageReference image, RawManifest manifest, SignatureLookup signatures)
        throws IOException {
      Verification v = new CosignVerifier(keys, rekorKeys).verify(manifest, signatures, identity.bind(image), false);
      if (!v.verified()) return PolicyDecision.reject("a sigstore signature is required: " + v.reason());
      SignatureCheck c = v.valid().getFirst();
      Set<String> rootHashes = new TreeSet<>();
      for (SignatureCheck s : v.valid()) {
        String h = s.optional().get(SimpleSigningPayload.ROOT_HASH);
        if (h != null) rootHashes.add(h);
      }
      return PolicyDecision.accept("signature " + c.origin() + " by a trusted key for " + c.identity(), rootHashes);
    }
  }

  /** A requirement basalt cannot check (GPG {@code signedBy}, Fulcio certificates, ...): it always rejects, saying so. */
  record Unsupported(String description) implements PolicyRequirement {
    @Override
    public PolicyDecision evaluate(ImageReference image, RawManifest manifest, SignatureLookup signatures) {
      return PolicyDecision.reject("requirement " + description + " is not supported by basalt, so the image cannot "
          + "be accepted");
    }
  }
}

package dev.basalt.oci.sign;

import dev.basalt.oci.api.Digest;
import dev.basalt.oci.api.RawManifest;
import java.io.IOException;
import java.security.PublicKey;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;

/**
 * Verifies cosign signatures of one manifest against trusted public keys. A simple-signing signature is valid when
 * its layer has the simple-signing media type, the ECDSA signature over the exact payload bytes verifies with a
 * trusted key, the payload's {@code docker-manifest-digest} is the SHA-256 of the manifest bytes, and its identity
 * passes the {@link IdentityCheck}. A bundle is valid when {@link SigstoreBundle#verifyImage} accepts it.
 */
public final class CosignVerifier {
  private final List<PublicKey> keys;
  private final List<PublicKey> rekorKeys;

  public CosignVerifier(List<PublicKey> keys) {
    this(keys, List.of());
  }

  /**
   * @param rekorKeys when not empty, every simple signature must also carry a Rekor SET signed by one of these
   *     transparency-log keys ({@link RekorSet})
   */
  public CosignVerifier(List<PublicKey> keys, List<PublicKey> rekorKeys) {
    if (keys.isEmpty()) throw new IllegalArgumentException("at least one trusted public key is needed");
    for (PublicKey k : keys) {
      if (!CosignKeys.isP256(k)) throw new IllegalArgumentException("only ECDSA P-256 keys are supported");
    }
    this.keys = List.copyOf(keys);
    this.rekorKeys = List.copyOf(rekorKeys);
  }

  /** Checks one simple-signing layer against the manifest bytes. */
  public SignatureCheck check(CosignSignature sig, byte[] manifestBytes, IdentityCheck identity) {
    String kind = "simple-signing";
    if (!sig.mediaType().equals(CosignSignature.MEDIA_TYPE)) {
      return new SignatureCheck(sig.origin(), kind, false, "layer media type '" + sig.mediaType() + "' is not "
          + CosignSignature.MEDIA_TYPE, null);
    }
    String b64 = sig.signature();
    if (b64 == null) {
      return new SignatureCheck(sig.origin(), kind, false, "no " + CosignSignature.SIGNATURE_ANNOTATION
          + " annotation", null);
    }
    byte[] der;
    try {
      der = Base64.getDecoder().decode(b64.strip());
    } catch (IllegalArgumentException e) {
      return new SignatureCheck(sig.origin(), kind, false, "signature annotation is not base64", null);
    }
    byte[] payload = sig.payload();
    PublicKey signer = Ecdsa.verifier(keys, payload, der);
    if (signer == null) return new SignatureCheck(sig.origin(), kind, false, "not signed by any trusted key", null);
    if (!rekorKeys.isEmpty()) {
      String rekor = RekorSet.problem(sig, signer, rekorKeys);
      if (rekor != null) return new SignatureCheck(sig.origin(), kind, false, rekor, null);
    }
    SimpleSigningPayload p;
    try {
      p = SimpleSigningPayload.parse(payload, "payload");
    } catch (SignException e) {
      return new SignatureCheck(sig.origin(), kind, false, e.getMessage(), null);
    }
    Digest actual = Digest.sha256(manifestBytes);
    if (!p.manifestDigest().equals(actual)) {
      return new SignatureCheck(sig.origin(), kind, false, "signature is for manifest " + p.manifestDigest()
          + ", not " + actual, p.dockerReference());
    }
    String mismatch = identity.mismatch(p.dockerReference());
    if (mismatch != null) return new SignatureCheck(sig.origin(), kind, false, mismatch, p.dockerReference());
    return new SignatureCheck(sig.origin(), kind, true, "", p.dockerReference(),
        SimpleSigningPayload.optionalClaims(payload));
  }

  /** Checks one bundle against the manifest bytes (bundles carry no repository identity). */
  public SignatureCheck check(SignatureLookup.AttachedBundle attached, byte[] manifestBytes) {
    try {
      SigstoreBundle b = SigstoreBundle.parse(attached.json(), "bundle");
      b.verifyImage(keys, manifestBytes);
      return new SignatureCheck(attached.origin(), "bundle", true, "", null);
    } catch (SignException e) {
      return new SignatureCheck(attached.origin(), "bundle", false, e.getMessage(), null);
    }
  }

  /**
   * Looks up and checks every signature of {@code manifest}. Its bytes are hashed here: a manifest whose bytes do
   * not match the digest it came with verifies nothing.
   *
   * @param bundles also accept Sigstore bundles (which bind the digest but no repository identity)
   */
  public Verification verify(RawManifest manifest, SignatureLookup lookup, IdentityCheck identity, boolean bundles)
      throws IOException {
    byte[] bytes = manifest.bytes();
    Digest actual = Digest.sha256(bytes);
    if (!actual.equals(manifest.digest())) {
      return new Verification(manifest.digest(), List.of(), "manifest content hashes to " + actual
          + ", not to its digest " + manifest.digest() + " (tampered)");
    }
    List<SignatureCheck> checks = new ArrayList<>();
    for (CosignSignature s : lookup.simpleSignatures(actual)) checks.add(check(s, bytes, identity));
    if (bundles) {
      for (SignatureLookup.AttachedBundle b : lookup.bundles(actual)) checks.add(check(b, bytes));
    }
    return new Verification(actual, checks, null);
  }
}

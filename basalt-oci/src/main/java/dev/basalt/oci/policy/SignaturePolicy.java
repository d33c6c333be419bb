package dev.basalt.oci.policy;

import dev.basalt.oci.api.RawManifest;
import dev.basalt.oci.ref.ImageReference;
import dev.basalt.oci.sign.SignatureLookup;
import java.io.IOException;
import java.nio.file.Path;
import java.security.PublicKey;
import java.util.List;

/**
 * Decides whether an image may be used. Call it with the top-level manifest the reference resolved to (an index for
 * a multi-arch image: signatures cover the top level) before writing anything derived from the image.
 */
public interface SignaturePolicy {
  /**
   * @param image the reference as the user gave it (scopes and identity rules look at its repository and tag)
   * @param manifest the top-level manifest bytes that will be used; they are hashed, not trusted
   * @param signatures where this image's signatures are stored
   */
  PolicyDecision check(ImageReference image, RawManifest manifest, SignatureLookup signatures) throws IOException;

  /** Reads a containers-policy.json file; relative key paths are resolved against its directory. */
  static SignaturePolicy load(Path policyFile) throws PolicyException {
    return ContainersPolicy.load(policyFile);
  }

  /**
   * Every image must carry a simple-signing signature by one of {@code keys} for its own repository
   * ({@code sigstoreSigned} with {@code matchRepository}, the rule containers-policy.json(5) recommends for cosign).
   */
  static SignaturePolicy requireSignature(List<PublicKey> keys) {
    PolicyRequirement r = new PolicyRequirement.SigstoreSigned(keys, new SignedIdentity.MatchRepository());
    return (image, manifest, signatures) -> {
      PolicyDecision d = r.evaluate(image, manifest, signatures);
      return d.accepted() ? d : PolicyDecision.reject(image + ": " + d.reason());
    };
  }

  /** Accepts everything (no policy configured). */
  static SignaturePolicy acceptAnything() {
    return (image, manifest, signatures) -> PolicyDecision.accept("no signature policy");
  }
}

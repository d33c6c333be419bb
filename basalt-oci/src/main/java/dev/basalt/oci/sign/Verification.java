package dev.basalt.oci.sign;

import dev.basalt.oci.api.Digest;
import java.util.List;
import java.util.stream.Collectors;

/**
 * Every signature looked at for one manifest, and the verdict: verified when at least one is valid.
 *
 * @param problem set when the manifest itself is unusable (bytes do not match their digest); then nothing verifies
 */
public record Verification(Digest manifest, List<SignatureCheck> checks, String problem) {
  public Verification {
    checks = List.copyOf(checks);
  }

  public boolean verified() {
    return problem == null && checks.stream().anyMatch(SignatureCheck::valid);
  }

  public List<SignatureCheck> valid() {
    return checks.stream().filter(SignatureCheck::valid).toList();
  }

  /** Why it did not verify (empty when it did). */
  public String reason() {
    if (verified()) return "";
    if (problem != null) return problem;
    if (checks.isEmpty()) {
      return "no signatures found for " + manifest + " (no cosign signature tag " + SignatureTags.signatureTag(manifest)
          + " and no Sigstore bundle referrer)";
    }
    return "no valid signature for " + manifest + ": " + checks.stream().map(SignatureCheck::toString)
        .collect(Collectors.joining("; "));
  }
}

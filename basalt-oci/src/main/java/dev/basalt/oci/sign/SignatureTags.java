package dev.basalt.oci.sign;

import dev.basalt.oci.api.Digest;

/** The tag names cosign and the OCI referrers fallback derive from a manifest digest. */
public final class SignatureTags {
  private SignatureTags() {}

  /** {@code sha256-<hex>.sig}: cosign's signature image. */
  public static String signatureTag(Digest manifest) {
    return referrersTag(manifest) + ".sig";
  }

  /** {@code sha256-<hex>}: the OCI 1.1 referrers tag-schema fallback index. */
  public static String referrersTag(Digest manifest) {
    return manifest.algorithm() + "-" + manifest.hex();
  }
}

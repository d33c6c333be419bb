package dev.basalt.oci.sign;

/**
 * The outcome for one signature.
 *
 * @param origin where the signature was found
 * @param kind {@code simple-signing} or {@code bundle}
 * @param reason why it was refused, or a note on what was checked when valid
 * @param identity the signed docker reference (simple signing), or null
 */
public record SignatureCheck(String origin, String kind, boolean valid, String reason, String identity) {
  @Override
  public String toString() {
    return origin + " (" + kind + "): " + (valid ? "valid" : "invalid") + (reason.isEmpty() ? "" : ": " + reason);
  }
}

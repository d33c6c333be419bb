package dev.basalt.oci.sign;

import java.util.Map;

/**
 * The outcome for one signature.
 *
 * @param origin where the signature was found
 * @param kind {@code simple-signing} or {@code bundle}
 * @param reason why it was refused, or a note on what was checked when valid
 * @param identity the signed docker reference (simple signing), or null
 * @param optional the string fields of a valid simple-signing payload's {@code optional} map (signed claims such as
 *     {@link SimpleSigningPayload#ROOT_HASH}); empty otherwise
 */
public record SignatureCheck(String origin, String kind, boolean valid, String reason, String identity,
    Map<String, String> optional) {
  public SignatureCheck {
    optional = Map.copyOf(optional);
  }

  public SignatureCheck(String origin, String kind, boolean valid, String reason, String identity) {
    this(origin, kind, valid, reason, identity, Map.of());
  }

  @Override
  public String toString() {
    return origin + " (" + kind + "): " + (valid ? "valid" : "invalid") + (reason.isEmpty() ? "" : ": " + reason);
  }
}

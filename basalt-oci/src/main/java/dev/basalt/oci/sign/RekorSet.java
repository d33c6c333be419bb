package dev.basalt.oci.sign;

import dev.basalt.oci.api.Digest;
import java.nio.charset.StandardCharsets;
import java.security.PublicKey;
import java.util.Arrays;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import tools.jackson.databind.JsonNode;

/**
 * Offline check of the Rekor "signed entry timestamp" cosign attaches to a simple-signing layer
 * ({@code dev.sigstore.cosign/bundle}): the SET is an ECDSA signature by the log's key over the canonical JSON of
 * {@code Payload} (keys sorted, no spaces), and the logged {@code hashedrekord} entry must record this payload's
 * SHA-256, this signature and the signing key. Proves the signature was logged; inclusion proofs are not checked.
 */
public final class RekorSet {
  private RekorSet() {}

  /**
   * @param signingKey the key that verified the layer's signature
   * @return null when the SET is valid, else the reason
   */
  public static String problem(CosignSignature sig, PublicKey signingKey, List<PublicKey> rekorKeys) {
    String bundle = sig.annotations().get(CosignSignature.REKOR_BUNDLE_ANNOTATION);
    if (bundle == null) return "no Rekor bundle (" + CosignSignature.REKOR_BUNDLE_ANNOTATION + " annotation)";
    try {
      JsonNode b = Json.parse(bundle.getBytes(StandardCharsets.UTF_8), "Rekor bundle");
      byte[] set = Json.b64(b, "SignedEntryTimestamp", "Rekor bundle");
      JsonNode p = Json.obj(b, "Payload", "Rekor bundle");
      String body = Json.str(p, "body", "Rekor bundle Payload");
      long time = Json.integer(p, "integratedTime", "Rekor bundle Payload");
      String logId = Json.str(p, "logID", "Rekor bundle Payload");
      long index = Json.integer(p, "logIndex", "Rekor bundle Payload");
      var canonical = Json.object();
      canonical.put("body", body);
      canonical.put("integratedTime", time);
      canonical.put("logID", logId);
      canonical.put("logIndex", index);
      PublicKey log = Ecdsa.verifier(rekorKeys, Json.bytes(canonical), set);
      if (log == null) return "Rekor SET is not signed by a trusted Rekor key";
      String keyId = HexFormat.of().formatHex(Digest.newSha256().digest(log.getEncoded()));
      if (!keyId.equals(logId)) return "Rekor SET names log " + logId + ", but was signed by log " + keyId;

      JsonNode entry = Json.parse(Base64.getDecoder().decode(body), "Rekor entry");
      if (!"hashedrekord".equals(entry.path("kind").asString(""))) {
        return "Rekor entry kind is '" + entry.path("kind").asString("") + "', not hashedrekord";
      }
      JsonNode spec = Json.obj(entry, "spec", "Rekor entry");
      String hash = spec.path("data").path("hash").path("value").asString("");
      if (!hash.equals(Digest.sha256(sig.payload()).hex())) return "Rekor entry is for another payload (sha256:" + hash + ")";
      byte[] logged = Base64.getDecoder().decode(spec.path("signature").path("content").asString(""));
      if (!Arrays.equals(logged, Base64.getDecoder().decode(sig.signature().strip()))) {
        return "Rekor entry records another signature";
      }
      byte[] pem = Base64.getDecoder().decode(spec.path("signature").path("publicKey").path("content").asString(""));
      PublicKey loggedKey = CosignKeys.readPublicKey(pem, "Rekor entry public key");
      if (!Arrays.equals(loggedKey.getEncoded(), signingKey.getEncoded())) return "Rekor entry records another key";
      return null;
    } catch (SignException e) {
      return e.getMessage();
    } catch (IllegalArgumentException e) {
      return "Rekor bundle has invalid base64";
    }
  }
}

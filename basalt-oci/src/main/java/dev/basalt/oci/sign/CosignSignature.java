package dev.basalt.oci.sign;

import dev.basalt.oci.api.Digest;
import java.nio.charset.StandardCharsets;
import java.security.PrivateKey;
import java.util.Arrays;
import java.util.Base64;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import tools.jackson.databind.JsonNode;

/**
 * One layer of a cosign signature image ({@code sha256-<hex>.sig}): the payload blob, its media type and the layer
 * annotations, of which {@link #SIGNATURE_ANNOTATION} holds base64(DER ECDSA(SHA-256(payload))).
 *
 * @param origin where it came from, for messages ({@code 127.0.0.1:5000/app:sha256-….sig layer 0})
 */
public record CosignSignature(String mediaType, byte[] payload, Map<String, String> annotations, String origin) {
  public static final String MEDIA_TYPE = "application/vnd.dev.cosign.simplesigning.v1+json";
  public static final String SIGNATURE_ANNOTATION = "dev.cosignproject.cosign/signature";
  /** A Rekor SET bundle; kept as it is, not checked (no transparency log trust is configured). */
  public static final String REKOR_BUNDLE_ANNOTATION = "dev.sigstore.cosign/bundle";
  private static final byte[] SIGSTORE_JSON_PREFIX = "\0sigstore-json\n".getBytes(StandardCharsets.US_ASCII);

  public CosignSignature {
    Objects.requireNonNull(mediaType, "mediaType");
    payload = payload.clone();
    annotations = Map.copyOf(annotations);
    Objects.requireNonNull(origin, "origin");
  }

  /** Signs a simple-signing payload for {@code digest} under identity {@code dockerReference}. */
  public static CosignSignature sign(PrivateKey key, String dockerReference, Digest digest) {
    return sign(key, dockerReference, digest, Map.of());
  }

  /** As {@link #sign(PrivateKey, String, Digest)}, with signed {@code optional} claims in the payload. */
  public static CosignSignature sign(PrivateKey key, String dockerReference, Digest digest,
      Map<String, String> optional) {
    byte[] payload = SimpleSigningPayload.create(dockerReference, digest, optional);
    String sig = Base64.getEncoder().encodeToString(Ecdsa.sign(key, payload));
    return new CosignSignature(MEDIA_TYPE, payload, Map.of(SIGNATURE_ANNOTATION, sig), "new signature");
  }

  /**
   * Reads containers/image's on-disk form ({@code dir:} transport {@code signature-N} files): the bytes
   * {@code \0sigstore-json\n}, then {@code {"mimeType","payload"(base64),"annotations"}}.
   */
  public static CosignSignature fromSigstoreJson(byte[] file, String origin) throws SignException {
    if (file.length < SIGSTORE_JSON_PREFIX.length
        || !Arrays.equals(file, 0, SIGSTORE_JSON_PREFIX.length, SIGSTORE_JSON_PREFIX, 0, SIGSTORE_JSON_PREFIX.length)) {
      throw new SignException(origin + " does not start with the '\\0sigstore-json\\n' marker");
    }
    JsonNode n = Json.parse(Arrays.copyOfRange(file, SIGSTORE_JSON_PREFIX.length, file.length), origin);
    Map<String, String> ann = new TreeMap<>();
    JsonNode a = n.get("annotations");
    if (a != null && a.isObject()) {
      for (var e : a.properties()) if (e.getValue().isString()) ann.put(e.getKey(), e.getValue().stringValue());
    }
    return new CosignSignature(Json.str(n, "mimeType", origin), Json.b64(n, "payload", origin), ann, origin);
  }

  /** containers/image's on-disk form, the inverse of {@link #fromSigstoreJson}. */
  public byte[] toSigstoreJson() {
    var n = Json.object();
    n.put("mimeType", mediaType);
    n.put("payload", Base64.getEncoder().encodeToString(payload));
    var a = n.putObject("annotations");
    new TreeMap<>(annotations).forEach(a::put);
    byte[] json = Json.bytes(n);
    byte[] out = Arrays.copyOf(SIGSTORE_JSON_PREFIX, SIGSTORE_JSON_PREFIX.length + json.length);
    System.arraycopy(json, 0, out, SIGSTORE_JSON_PREFIX.length, json.length);
    return out;
  }

  @Override
  public byte[] payload() {
    return payload.clone();
  }

  public Digest payloadDigest() {
    return Digest.sha256(payload);
  }

  /** The base64 signature annotation, or null. */
  public String signature() {
    return annotations.get(SIGNATURE_ANNOTATION);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof CosignSignature c && c.mediaType.equals(mediaType) && Arrays.equals(c.payload, payload)
        && c.annotations.equals(annotations);
  }

  @Override
  public int hashCode() {
    return Arrays.hashCode(payload);
  }

  @Override
  public String toString() {
    return "CosignSignature[" + origin + "]";
  }
}

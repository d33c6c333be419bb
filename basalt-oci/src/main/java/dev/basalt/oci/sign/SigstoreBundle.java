package dev.basalt.oci.sign;

import dev.basalt.oci.api.Digest;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * A Sigstore bundle ({@code application/vnd.dev.sigstore.bundle.v0.3+json}) with public-key verification material.
 * Image signatures are made as cosign v3 makes them with {@code --key}: a DSSE envelope of type
 * {@code application/vnd.in-toto+json} around an in-toto Statement v1 whose subject digest is the manifest digest
 * and whose predicate type is {@link #SIGN_PREDICATE}. {@code messageSignature} bundles (blobs) are verified too.
 * Transparency-log entries and timestamps are carried but not checked: trust rests on the public key alone.
 */
public final class SigstoreBundle {
  public static final String MEDIA_TYPE = "application/vnd.dev.sigstore.bundle.v0.3+json";
  public static final String DSSE_PAYLOAD_TYPE = "application/vnd.in-toto+json";
  public static final String STATEMENT_V1 = "https://in-toto.io/Statement/v1";
  public static final String SIGN_PREDICATE = "https://sigstore.dev/cosign/sign/v1";

  private final byte[] json;
  private final String origin;
  private final JsonNode dsse;
  private final JsonNode message;

  private SigstoreBundle(byte[] json, String origin, JsonNode dsse, JsonNode message) {
    this.json = json;
    this.origin = origin;
    this.dsse = dsse;
    this.message = message;
  }

  /** A DSSE bundle signing {@code manifestDigest}, as cosign v3 attaches to images (no tlog entry). */
  public static SigstoreBundle signImage(PrivateKey key, Digest manifestDigest) {
    ObjectNode st = Json.object();
    st.put("_type", STATEMENT_V1);
    ObjectNode subject = st.putArray("subject").addObject();
    subject.putObject("digest").put(manifestDigest.algorithm(), manifestDigest.hex());
    subject.putObject("annotations");
    st.put("predicateType", SIGN_PREDICATE);
    st.putObject("predicate");
    byte[] payload = Json.bytes(st);
    byte[] sig = Ecdsa.sign(key, pae(DSSE_PAYLOAD_TYPE, payload));
    ObjectNode b = Json.object();
    b.put("mediaType", MEDIA_TYPE);
    b.putObject("verificationMaterial").putObject("publicKey").put("hint",
        CosignKeys.hint(CosignKeys.publicKey(key)));
    ObjectNode env = b.putObject("dsseEnvelope");
    env.put("payload", Base64.getEncoder().encodeToString(payload));
    env.put("payloadType", DSSE_PAYLOAD_TYPE);
    env.putArray("signatures").addObject().put("sig", Base64.getEncoder().encodeToString(sig));
    try {
      return parse(Json.bytes(b), "new bundle");
    } catch (SignException e) {
      throw new IllegalStateException(e);
    }
  }

  /** Parses the bundle structure; signatures are checked by the verify methods. */
  public static SigstoreBundle parse(byte[] json, String origin) throws SignException {
    JsonNode b = Json.parse(json, origin);
    String mt = Json.str(b, "mediaType", origin);
    if (!mt.startsWith("application/vnd.dev.sigstore.bundle")) {
      throw new SignException(origin + ": mediaType '" + mt + "' is not a Sigstore bundle");
    }
    JsonNode vm = Json.obj(b, "verificationMaterial", origin);
    if (vm.has("certificate") || vm.has("x509CertificateChain")) {
      throw new SignException(origin + ": certificate-based (keyless) bundles are not supported, only public-key ones");
    }
    if (!vm.has("publicKey")) throw new SignException(origin + ": verificationMaterial has no publicKey");
    JsonNode dsse = b.get("dsseEnvelope");
    JsonNode msg = b.get("messageSignature");
    if ((dsse == null) == (msg == null)) {
      throw new SignException(origin + ": needs exactly one of dsseEnvelope and messageSignature");
    }
    if (dsse != null && !dsse.isObject()) throw new SignException(origin + ": dsseEnvelope is not an object");
    if (msg != null && !msg.isObject()) throw new SignException(origin + ": messageSignature is not an object");
    return new SigstoreBundle(json.clone(), origin, dsse, msg);
  }

  public byte[] json() {
    return json.clone();
  }

  public String origin() {
    return origin;
  }

  /** {@code dsse-envelope} or {@code message-signature}, the value cosign puts in the referrer annotation. */
  public String content() {
    return dsse != null ? "dsse-envelope" : "message-signature";
  }

  /**
   * Checks that this bundle signs the image manifest: a DSSE statement of predicate {@link #SIGN_PREDICATE} whose
   * subject has the manifest's digest, or a message signature over the manifest bytes.
   *
   * @return the key that verified
   * @throws SignException naming why not (no trusted key, other digest, attestation instead of signature, ...)
   */
  public PublicKey verifyImage(List<PublicKey> keys, byte[] manifestBytes) throws SignException {
    Digest digest = Digest.sha256(manifestBytes);
    if (message != null) return verifyMessage(keys, manifestBytes);
    PublicKey key = verifyDsse(keys);
    byte[] payload = Json.b64(dsse, "payload", origin + " dsseEnvelope");
    String what = origin + " in-toto statement";
    JsonNode st = Json.parse(payload, what);
    String type = Json.str(st, "_type", what);
    if (!type.equals(STATEMENT_V1) && !type.equals("https://in-toto.io/Statement/v0.1")) {
      throw new SignException(what + ": _type '" + type + "' is not an in-toto statement");
    }
    String predicate = Json.str(st, "predicateType", what);
    if (!predicate.equals(SIGN_PREDICATE)) {
      throw new SignException(what + ": predicate type '" + predicate + "' is an attestation, not an image signature ("
          + SIGN_PREDICATE + ")");
    }
    JsonNode subjects = st.get("subject");
    if (subjects == null || !subjects.isArray() || subjects.isEmpty()) throw new SignException(what + " has no subject");
    List<String> seen = new ArrayList<>();
    for (JsonNode s : subjects) {
      String hex = s.path("digest").path("sha256").asString("");
      if (hex.equals(digest.hex())) return key;
      seen.add("sha256:" + hex);
    }
    throw new SignException(what + " signs " + String.join(", ", seen) + ", not this manifest " + digest);
  }

  /** Checks a {@code messageSignature} bundle over a blob: digest and signature of {@code artifact}. */
  public PublicKey verifyBlob(List<PublicKey> keys, byte[] artifact) throws SignException {
    if (message == null) throw new SignException(origin + " is a DSSE bundle, not a message signature over a blob");
    return verifyMessage(keys, artifact);
  }

  private PublicKey verifyMessage(List<PublicKey> keys, byte[] artifact) throws SignException {
    String what = origin + " messageSignature";
    JsonNode md = message.get("messageDigest");
    if (md != null) {
      String alg = Json.str(md, "algorithm", what + " messageDigest");
      if (!alg.equals("SHA2_256")) throw new SignException(what + ": digest algorithm " + alg + " is not supported");
      byte[] want = Json.b64(md, "digest", what + " messageDigest");
      byte[] have = Digest.newSha256().digest(artifact);
      if (!java.security.MessageDigest.isEqual(want, have)) {
        throw new SignException(what + " is for sha256:" + HexFormat.of().formatHex(want) + ", not sha256:"
            + HexFormat.of().formatHex(have));
      }
    }
    PublicKey k = Ecdsa.verifier(keys, artifact, Json.b64(message, "signature", what));
    if (k == null) throw new SignException(what + " is not signed by any trusted key");
    return k;
  }

  private PublicKey verifyDsse(List<PublicKey> keys) throws SignException {
    String what = origin + " dsseEnvelope";
    String type = Json.str(dsse, "payloadType", what);
    if (!type.equals(DSSE_PAYLOAD_TYPE)) {
      throw new SignException(what + ": payloadType '" + type + "' is not " + DSSE_PAYLOAD_TYPE);
    }
    byte[] pae = pae(type, Json.b64(dsse, "payload", what));
    JsonNode sigs = dsse.get("signatures");
    if (sigs == null || !sigs.isArray() || sigs.isEmpty()) throw new SignException(what + " has no signatures");
    for (JsonNode s : sigs) {
      PublicKey k = Ecdsa.verifier(keys, pae, Json.b64(s, "sig", what + " signature"));
      if (k != null) return k;
    }
    throw new SignException(what + " is not signed by any trusted key");
  }

  /** DSSE pre-authentication encoding: {@code DSSEv1 <len> <type> <len> <body>}. */
  static byte[] pae(String type, byte[] body) {
    byte[] t = type.getBytes(StandardCharsets.UTF_8);
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.writeBytes(("DSSEv1 " + t.length + " ").getBytes(StandardCharsets.US_ASCII));
    out.writeBytes(t);
    out.writeBytes((" " + body.length + " ").getBytes(StandardCharsets.US_ASCII));
    out.writeBytes(body);
    return out.toByteArray();
  }

  @Override
  public String toString() {
    return "SigstoreBundle[" + origin + ", " + content() + "]";
  }
}

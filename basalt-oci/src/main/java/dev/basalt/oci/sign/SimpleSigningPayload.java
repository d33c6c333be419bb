package dev.basalt.oci.sign;

import dev.basalt.oci.api.Digest;
import java.nio.charset.StandardCharsets;
import tools.jackson.databind.JsonNode;

/**
 * The claims of a cosign "simple signing" payload,
 * {@code {"critical":{"identity":{"docker-reference":R},"image":{"docker-manifest-digest":D},"type":"cosign container image signature"},"optional":...}}.
 * Signatures cover the exact payload bytes, so parsing never re-serializes.
 *
 * @param dockerReference the signed identity: a repository ({@code host/path}), as cosign writes it, possibly with a
 *     tag or digest (containers/image adds the tag)
 * @param manifestDigest the manifest the signature is bound to
 */
public record SimpleSigningPayload(String dockerReference, Digest manifestDigest) {
  /** The {@code critical.type} of every cosign image signature. */
  public static final String TYPE = "cosign container image signature";

  /** The payload bytes cosign writes for {@code dockerReference} and {@code digest}: compact, {@code "optional":null}. */
  public static byte[] create(String dockerReference, Digest digest) {
    var root = Json.object();
    var critical = root.putObject("critical");
    critical.putObject("identity").put("docker-reference", dockerReference);
    critical.putObject("image").put("docker-manifest-digest", digest.toString());
    critical.put("type", TYPE);
    root.putNull("optional");
    return Json.bytes(root);
  }

  /** Parses and checks the critical section; unknown optional fields are tolerated. */
  public static SimpleSigningPayload parse(byte[] payload, String what) throws SignException {
    JsonNode root = Json.parse(payload, what);
    JsonNode critical = Json.obj(root, "critical", what);
    String type = Json.str(critical, "type", what + " critical");
    if (!type.equals(TYPE)) {
      throw new SignException(what + ": critical.type is '" + type + "', not '" + TYPE + "'");
    }
    String ref = Json.str(Json.obj(critical, "identity", what + " critical"), "docker-reference",
        what + " critical.identity");
    String d = Json.str(Json.obj(critical, "image", what + " critical"), "docker-manifest-digest",
        what + " critical.image");
    try {
      return new SimpleSigningPayload(ref, Digest.parse(d));
    } catch (IllegalArgumentException e) {
      throw new SignException(what + ": critical.image.docker-manifest-digest: " + e.getMessage());
    }
  }

  @Override
  public String toString() {
    return new String(create(dockerReference, manifestDigest), StandardCharsets.UTF_8);
  }
}

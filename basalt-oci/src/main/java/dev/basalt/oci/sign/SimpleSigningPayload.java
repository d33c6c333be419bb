package dev.basalt.oci.sign;

import dev.basalt.oci.api.Digest;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.TreeMap;
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
  /**
   * The {@code optional} key carrying the dm-verity root hash (lowercase hex) of the root slot that Basalt builds from
   * the signed manifest: the signature then covers everything that boots, not only the layers.
   */
  public static final String ROOT_HASH = "dev.basalt.verity.root-hash";

  /** The payload bytes cosign writes for {@code dockerReference} and {@code digest}: compact, {@code "optional":null}. */
  public static byte[] create(String dockerReference, Digest digest) {
    return create(dockerReference, digest, Map.of());
  }

  /**
   * As {@link #create(String, Digest)} with signed {@code optional} claims (keys sorted so the bytes are
   * deterministic); an empty map writes {@code "optional":null} as cosign does.
   */
  public static byte[] create(String dockerReference, Digest digest, Map<String, String> optional) {
    var root = Json.object();
    var critical = root.putObject("critical");
    critical.putObject("identity").put("docker-reference", dockerReference);
    critical.putObject("image").put("docker-manifest-digest", digest.toString());
    critical.put("type", TYPE);
    if (optional.isEmpty()) {
      root.putNull("optional");
    } else {
      var o = root.putObject("optional");
      new TreeMap<>(optional).forEach(o::put);
    }
    return Json.bytes(root);
  }

  /** The string-valued fields of the payload's {@code optional} object; empty when it is null, absent or unparsable. */
  public static Map<String, String> optionalClaims(byte[] payload) {
    Map<String, String> out = new TreeMap<>();
    try {
      JsonNode o = Json.parse(payload, "payload").get("optional");
      if (o != null && o.isObject()) {
        for (var e : o.properties()) if (e.getValue().isString()) out.put(e.getKey(), e.getValue().stringValue());
      }
    } catch (SignException e) {
      return Map.of();
    }
    return out;
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

package dev.basalt.oci.api;

import java.util.Map;

/** Helpers shared by transports for manifest bytes whose media type is not known from a header. */
public final class Manifests {
  private Manifests() {}

  /** 4 MiB, as containers/image and the distribution registry limit manifests. */
  public static final int MAX_MANIFEST_SIZE = 4 << 20;

  /**
   * The media type {@code bytes} declare in {@code mediaType}, or the OCI type their shape implies.
   *
   * @param what named in errors, e.g. "manifest sha256:… in oci:dir"
   */
  public static String sniffMediaType(byte[] bytes, String what) throws ImageException {
    return ManifestJson.sniff(bytes, what);
  }

  /** The string-valued fields of a JSON object node found at {@code field}, for labels and annotations. */
  public static Map<String, String> stringMap(tools.jackson.databind.JsonNode n) {
    return ManifestJson.strings(n);
  }

  /** Jackson 3 mapper shared by the OCI module (thread-safe, default settings). */
  public static tools.jackson.databind.ObjectMapper json() {
    return ManifestJson.MAPPER;
  }
}

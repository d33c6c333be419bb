package dev.basalt.oci.api;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.ObjectMapper;
import tools.jackson.databind.json.JsonMapper;

/** Reads manifests, indexes and descriptors with Jackson 3's tree model (tolerant of unknown fields). */
final class ManifestJson {
  static final ObjectMapper MAPPER = JsonMapper.builder().build();

  private ManifestJson() {}

  static JsonNode tree(byte[] bytes, String what) throws ImageException {
    try {
      JsonNode n = MAPPER.readTree(bytes);
      if (n == null || !n.isObject()) throw new ImageException(what + " is not a JSON object");
      return n;
    } catch (JacksonException e) {
      throw new ImageException(what + " is not valid JSON: " + e.getOriginalMessage());
    }
  }

  static ImageManifest manifest(RawManifest raw) throws ImageException {
    String what = "manifest " + raw.digest();
    if (!MediaTypes.MANIFESTS.contains(raw.mediaType())) {
      throw new ImageException(what + " has media type '" + raw.mediaType() + "', not an image manifest");
    }
    JsonNode n = tree(raw.bytes(), what);
    checkDeclared(n, raw, what);
    JsonNode config = n.get("config");
    if (config == null || !config.isObject()) throw new ImageException(what + " has no config descriptor");
    List<Descriptor> layers = new ArrayList<>();
    JsonNode ls = n.get("layers");
    if (ls != null && !ls.isArray()) throw new ImageException(what + ": 'layers' is not an array");
    if (ls != null) {
      int i = 0;
      for (JsonNode l : ls) layers.add(descriptor(l, what + " layer " + i++));
    }
    return new ImageManifest(raw.mediaType(), descriptor(config, what + " config"), layers, strings(n.get("annotations")));
  }

  static ImageIndex index(RawManifest raw) throws ImageException {
    String what = "index " + raw.digest();
    if (!MediaTypes.INDEXES.contains(raw.mediaType())) {
      throw new ImageException(what + " has media type '" + raw.mediaType() + "', not an image index");
    }
    JsonNode n = tree(raw.bytes(), what);
    checkDeclared(n, raw, what);
    JsonNode ms = n.get("manifests");
    if (ms == null || !ms.isArray()) throw new ImageException(what + " has no 'manifests' array");
    List<Descriptor> out = new ArrayList<>();
    int i = 0;
    for (JsonNode m : ms) out.add(descriptor(m, what + " entry " + i++));
    return new ImageIndex(raw.mediaType(), out, strings(n.get("annotations")));
  }

  private static void checkDeclared(JsonNode n, RawManifest raw, String what) throws ImageException {
    JsonNode mt = n.get("mediaType");
    if (mt != null && mt.isString() && !mt.stringValue().equals(raw.mediaType())) {
      throw new ImageException(what + " declares mediaType '" + mt.stringValue() + "' but was served as '"
          + raw.mediaType() + "'");
    }
  }

  static Descriptor descriptor(JsonNode d, String what) throws ImageException {
    if (d == null || !d.isObject()) throw new ImageException(what + " is not a descriptor object");
    JsonNode mt = d.get("mediaType");
    JsonNode dg = d.get("digest");
    JsonNode sz = d.get("size");
    if (mt == null || !mt.isString()) throw new ImageException(what + " has no mediaType");
    if (dg == null || !dg.isString()) throw new ImageException(what + " has no digest");
    if (sz == null || !sz.canConvertToLong() || !sz.isIntegralNumber() || sz.longValue() < 0) {
      throw new ImageException(what + " has no valid size");
    }
    Digest digest;
    try {
      digest = Digest.parse(dg.stringValue());
    } catch (IllegalArgumentException e) {
      throw new ImageException(what + ": " + e.getMessage());
    }
    Platform platform = null;
    JsonNode p = d.get("platform");
    if (p != null && p.isObject()) {
      String os = p.path("os").asString("");
      String arch = p.path("architecture").asString("");
      if (os.isEmpty() || arch.isEmpty()) throw new ImageException(what + " has a platform without os/architecture");
      String variant = p.path("variant").asString("");
      platform = new Platform(os, arch, variant);
    }
    return new Descriptor(mt.stringValue(), digest, sz.longValue(), strings(d.get("annotations")), platform);
  }

  static Map<String, String> strings(JsonNode n) {
    Map<String, String> m = new LinkedHashMap<>();
    if (n != null && n.isObject()) {
      for (var e : n.properties()) {
        if (e.getValue().isString()) m.put(e.getKey(), e.getValue().stringValue());
      }
    }
    return m;
  }

  /** The media type a manifest declares, or one guessed from its shape (an OCI manifest may omit mediaType). */
  static String sniff(byte[] bytes, String what) throws ImageException {
    JsonNode n = tree(bytes, what);
    JsonNode mt = n.get("mediaType");
    if (mt != null && mt.isString()) return mt.stringValue();
    if (n.has("manifests")) return MediaTypes.OCI_INDEX;
    if (n.has("config") && n.has("layers")) return MediaTypes.OCI_MANIFEST;
    if (n.path("schemaVersion").asInt(0) == 1) {
      throw new ImageException(what + " is a Docker schema 1 manifest, which is not supported");
    }
    throw new ImageException(what + " is neither an image manifest nor an index");
  }
}

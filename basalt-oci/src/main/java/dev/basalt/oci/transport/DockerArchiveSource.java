package dev.basalt.oci.transport;

import dev.basalt.oci.api.Descriptor;
import dev.basalt.oci.api.Digest;
import dev.basalt.oci.api.ImageException;
import dev.basalt.oci.api.ImageSource;
import dev.basalt.oci.api.Manifests;
import dev.basalt.oci.api.MediaTypes;
import dev.basalt.oci.api.MediaTypes.Compression;
import dev.basalt.oci.api.RawManifest;
import dev.basalt.oci.api.VerifyingInputStream;
import dev.basalt.oci.compress.DecompressionLimits;
import dev.basalt.oci.compress.LayerStreams;
import dev.basalt.oci.ref.DockerReference;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * {@code docker-archive:FILE[:name:tag]} source ({@code docker save} format). The archive has no manifest, so
 * one is synthesized: a Docker schema2 manifest whose config descriptor has the config's own digest (preserved),
 * and whose layers are the uncompressed layer tars, media type {@code application/vnd.docker.image.rootfs.diff.tar},
 * digest = the diffID from the config. (skopeo labels them {@code .tar.gzip} although it serves them uncompressed;
 * we say what the bytes are.) Layer files that are compressed (newer {@code docker save} with the containerd store)
 * are decompressed on the fly, and measured once at open, as skopeo does.
 */
final class DockerArchiveSource implements ImageSource {
  static final int MAX_CONFIG = 16 << 20;

  /** A layer file of the archive and what it is served as. */
  private record Layer(ArchiveIndex.Entry entry, Compression compression, Descriptor descriptor) {}

  private final ArchiveIndex archive;
  private final String name;
  private final RawManifest manifest;
  private final byte[] config;
  private final Digest configDigest;
  private final Map<Digest, Layer> layers;

  private DockerArchiveSource(ArchiveIndex archive, String name, RawManifest manifest, byte[] config,
      Map<Digest, Layer> layers) {
    this.archive = archive;
    this.name = name;
    this.manifest = manifest;
    this.config = config;
    this.configDigest = Digest.sha256(config);
    this.layers = layers;
  }

  /**
   * Indexes the archive and picks the image: the one whose RepoTags hold {@code want}, or the only one when
   * {@code want} is null (a multi-image archive needs a name, as in skopeo).
   */
  static DockerArchiveSource open(Path file, DockerReference want, String name) throws IOException {
    ArchiveIndex a = ArchiveIndex.open(file, name);
    try {
      return load(a, want, name);
    } catch (IOException | RuntimeException e) {
      a.close();
      throw e;
    }
  }

  private static DockerArchiveSource load(ArchiveIndex a, DockerReference want, String name) throws IOException {
    ArchiveIndex.Entry me = a.find("manifest.json");
    if (me == null) {
      throw new ImageException(name + " has no manifest.json entry (not a docker save archive, or the legacy format "
          + "of Docker before 1.10, which is not supported)");
    }
    JsonNode items = json(a.read(me, Manifests.MAX_MANIFEST_SIZE, "entry"), name + ": manifest.json");
    if (!items.isArray()) throw new ImageException(name + ": manifest.json is not a JSON array");
    if (items.isEmpty()) throw new ImageException(name + ": manifest.json lists no images");
    JsonNode item = select((ArrayNode) items, want, name);

    String configPath = path(item, "Config", name);
    ArchiveIndex.Entry ce = a.require(ArchiveIndex.normalize(configPath, name, "manifest.json Config '" + configPath + "'"),
        "config named by manifest.json");
    byte[] config = a.read(ce, MAX_CONFIG, "config");
    JsonNode diffIds = json(config, name + ": config '" + ce.path() + "'").path("rootfs").path("diff_ids");
    JsonNode paths = item.get("Layers");
    if (paths == null || !paths.isArray()) throw new ImageException(name + ": manifest.json entry has no 'Layers' array");
    if (!diffIds.isArray() || diffIds.size() != paths.size()) {
      throw new ImageException(name + ": manifest.json lists " + paths.size() + " layers but config '" + ce.path()
          + "' has " + (diffIds.isArray() ? diffIds.size() : 0) + " rootfs.diff_ids");
    }

    Map<Digest, Layer> layers = new HashMap<>();
    List<Descriptor> descriptors = new ArrayList<>();
    for (int i = 0; i < paths.size(); i++) {
      JsonNode p = paths.get(i);
      if (!p.isString()) throw new ImageException(name + ": manifest.json Layers[" + i + "] is not a string");
      String lp = ArchiveIndex.normalize(p.stringValue(), name, "manifest.json Layers[" + i + "] '" + p.stringValue() + "'");
      ArchiveIndex.Entry le = a.require(lp, "layer " + i + " named by manifest.json");
      Digest diffId;
      try {
        diffId = Digest.parse(diffIds.get(i).asString(""));
      } catch (IllegalArgumentException e) {
        throw new ImageException(name + ": config '" + ce.path() + "' rootfs.diff_ids[" + i + "]: " + e.getMessage());
      }
      Layer l = layers.get(diffId);
      if (l == null) {
        l = measure(a, le, diffId, name);
        layers.put(diffId, l);
      }
      descriptors.add(l.descriptor());
    }
    return new DockerArchiveSource(a, name, synthesize(config, descriptors), config, layers);
  }

  /** Like skopeo: without a name the archive must hold exactly one image; with one, the image tagged so. */
  private static JsonNode select(ArrayNode items, DockerReference want, String name) throws ImageException {
    if (want == null && items.size() == 1) return items.get(0);
    List<String> seen = new ArrayList<>();
    for (JsonNode item : items) {
      for (JsonNode t : item.path("RepoTags")) {
        String tag = t.asString("");
        seen.add(tag);
        try {
          if (want != null && DockerReference.parse(tag).equals(want)) return item;
        } catch (IllegalArgumentException ignored) {
          // not a name we could be asked for
        }
      }
    }
    String tags = "(RepoTags: " + (seen.isEmpty() ? "none" : String.join(", ", seen)) + ")";
    if (want == null) {
      throw new ImageException(name + " holds " + items.size() + " images; name one with " + name + ":NAME:TAG " + tags);
    }
    throw new ImageException(name + ": no image tagged " + want.familiar() + " in the archive " + tags);
  }

  private static String path(JsonNode item, String field, String name) throws ImageException {
    JsonNode n = item.get(field);
    if (n == null || !n.isString() || n.stringValue().isEmpty()) {
      throw new ImageException(name + ": manifest.json entry has no '" + field + "' path");
    }
    return n.stringValue();
  }

  /** Size of the layer as served (uncompressed); a compressed file is decompressed once and its diffID checked now. */
  private static Layer measure(ArchiveIndex a, ArchiveIndex.Entry e, Digest diffId, String name) throws IOException {
    byte[] head = new byte[4];
    int n;
    try (InputStream in = a.open(e)) {
      n = in.readNBytes(head, 0, 4);
    }
    Compression c = LayerStreams.sniff(head, n);
    if (c == Compression.NONE) return new Layer(e, c, new Descriptor(MediaTypes.DOCKER_LAYER_TAR, diffId, e.size()));
    MessageDigest md = diffId.newMessageDigest();
    long size = 0;
    byte[] buf = new byte[1 << 16];
    try (InputStream in = LayerStreams.open(a.open(e), c, name + " layer '" + e.path() + "'", DecompressionLimits.DEFAULT)) {
      for (int k; (k = in.read(buf)) > 0; ) {
        md.update(buf, 0, k);
        size += k;
      }
    }
    Digest actual = new Digest(diffId.algorithm(), java.util.HexFormat.of().formatHex(md.digest()));
    if (!actual.equals(diffId)) {
      throw new ImageException(name + ": layer '" + e.path() + "' decompresses to " + actual + " but the config's diffID is "
          + diffId);
    }
    return new Layer(e, c, new Descriptor(MediaTypes.DOCKER_LAYER_TAR, diffId, size));
  }

  /** The schema2 manifest, fields in the order docker and skopeo write them. */
  private static RawManifest synthesize(byte[] config, List<Descriptor> layers) {
    ObjectNode m = Manifests.json().createObjectNode();
    m.put("schemaVersion", 2);
    m.put("mediaType", MediaTypes.DOCKER_MANIFEST);
    ObjectNode c = m.putObject("config");
    c.put("mediaType", MediaTypes.DOCKER_CONFIG);
    c.put("size", config.length);
    c.put("digest", Digest.sha256(config).toString());
    ArrayNode ls = m.putArray("layers");
    for (Descriptor d : layers) {
      ObjectNode l = ls.addObject();
      l.put("mediaType", d.mediaType());
      l.put("size", d.size());
      l.put("digest", d.digest().toString());
    }
    return RawManifest.of(Manifests.json().writeValueAsBytes(m), MediaTypes.DOCKER_MANIFEST);
  }

  private static JsonNode json(byte[] bytes, String what) throws ImageException {
    try {
      JsonNode n = Manifests.json().readTree(bytes);
      if (n == null) throw new ImageException(what + " is empty");
      return n;
    } catch (JacksonException e) {
      throw new ImageException(what + " is not valid JSON: " + e.getOriginalMessage());
    }
  }

  @Override
  public String name() {
    return name;
  }

  @Override
  public RawManifest rootManifest() {
    return manifest;
  }

  @Override
  public RawManifest manifest(Descriptor d) throws IOException {
    if (d.digest().equals(manifest.digest())) return manifest;
    throw new ImageException("manifest " + d.digest() + " is not in " + name + " (a docker archive image has only "
        + manifest.digest() + ")");
  }

  @Override
  public InputStream blob(Descriptor d) throws IOException {
    if (d.digest().equals(configDigest)) return new VerifyingInputStream(new ByteArrayInputStream(config), d, name);
    Layer l = layers.get(d.digest());
    if (l == null) throw new ImageException("blob " + d.digest() + " is not in " + name);
    InputStream in = archive.open(l.entry());
    if (l.compression() != Compression.NONE) {
      in = LayerStreams.open(in, l.compression(), name + " layer '" + l.entry().path() + "'", DecompressionLimits.DEFAULT);
    }
    return new VerifyingInputStream(in, d, name + " layer '" + l.entry().path() + "'");
  }

  @Override
  public void close() throws IOException {
    archive.close();
  }
}

package dev.basalt.image.build;

import dev.basalt.image.node.NodeLayer;
import dev.basalt.image.rootfs.MergedImage;
import dev.basalt.oci.api.Descriptor;
import dev.basalt.oci.api.Digest;
import dev.basalt.oci.api.ImageDestination;
import dev.basalt.oci.api.ImageException;
import dev.basalt.oci.api.ImageManifest;
import dev.basalt.oci.api.ImageSource;
import dev.basalt.oci.api.Manifests;
import dev.basalt.oci.api.MediaTypes;
import dev.basalt.oci.api.MediaTypes.Compression;
import dev.basalt.oci.api.Platform;
import dev.basalt.oci.api.RawManifest;
import dev.basalt.oci.api.VerifyingInputStream;
import dev.basalt.oci.merge.LayerWriter;
import dev.basalt.oci.ref.DockerReference;
import dev.basalt.oci.ref.ImageReference;
import dev.basalt.oci.transport.TransportOptions;
import dev.basalt.oci.transport.Transports;
import java.io.BufferedOutputStream;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Instant;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.TreeMap;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.ObjectMapper;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * Builds an OS image from a {@link BuildSpec}: the base's layers and each {@code layers:} image's layers reused by
 * digest (never recompressed), then one customization layer and the node layer, with a config derived from the
 * base's. Reproducible: the same spec, pinned inputs and {@code created} give the same manifest digest. Built
 * layers are cached under the cache directory by the digest of their uncompressed tar (their whole input), so an
 * unchanged layer is neither recompressed nor re-uploaded.
 */
public final class ImageBuilder {
  private static final ObjectMapper JSON = Manifests.json();
  private final Path cacheDir;
  private final Optional<Instant> created;
  private final Platform platform;
  private final TransportOptions options;
  private final NodeLayer nodeLayer;
  private final Compression compression;
  private final Path specDir;

  private ImageBuilder(Builder b) {
    this.specDir = b.specDir;
    this.cacheDir = b.cacheDir;
    this.created = b.created;
    this.platform = b.platform;
    this.options = b.options;
    this.nodeLayer = b.nodeLayer;
    this.compression = b.compression;
  }

  public static Builder builder() {
    return new Builder();
  }

  /** One layer of the result and where it came from ({@code base}, a layers ref, customization, node). */
  public record Layer(String origin, Descriptor descriptor, Digest diffId, boolean cached) {}

  /** The built image; {@code lock} holds the pins actually used. */
  public record Result(RawManifest manifest, Descriptor config, List<Layer> layers, BuildLock lock) {}

  /** Opens the destination; called only once every input is resolved and every layer is built. */
  @FunctionalInterface
  public interface Target {
    ImageDestination open() throws IOException;
  }

  /**
   * Builds {@code spec} and writes it to {@code dest} (committed). Each image reference is resolved and checked
   * against {@code lock}; a reference that now points elsewhere fails unless {@code updateLock}.
   */
  public Result build(BuildSpec spec, BuildLock lock, boolean updateLock, ImageDestination dest) throws IOException {
    return build(spec, lock, updateLock, () -> dest, false);
  }

  /**
   * As {@link #build(BuildSpec, BuildLock, boolean, ImageDestination)}, but the destination is opened (and closed)
   * only after everything that can fail on bad input has been checked, so a bad spec leaves nothing behind.
   */
  public Result build(BuildSpec spec, BuildLock lock, boolean updateLock, Target target) throws IOException {
    return build(spec, lock, updateLock, target, true);
  }

  /** A layer of the result and where its bytes come from: an input image, or a cached blob file. */
  private record Pending(Layer layer, ImageSource source, Path blob) {}

  private Result build(BuildSpec spec, BuildLock lock, boolean updateLock, Target target, boolean close) throws IOException {
    Map<String, Digest> pins = new TreeMap<>(lock.pins());
    List<Pending> pending = new ArrayList<>();
    List<String> history = new ArrayList<>();
    List<ImageSource> sources = new ArrayList<>();
    try {
      ImageSource base = open(spec.base(), pins, updateLock);
      sources.add(base);
      MergedImage merged = MergedImage.resolve(base, platform);
      RawManifest bm = merged.manifest();
      String baseDigest = bm.digest().toString();
      pin(spec.base(), bm.digest(), pins, updateLock);
      ObjectNode config = (ObjectNode) JSON.readTree(base.config(merged.imageManifest()));
      inputLayers(base, merged.layers(), diffIds(config, base.name(), merged.layers().size()), "base", pending);
      Instant time = created.orElseGet(() -> config.hasNonNull("created") ? Instant.parse(config.get("created").asString()) : Instant.EPOCH);
      BaseFacts facts = baseFacts(bm.digest(), merged);
      for (String ref : spec.layers()) {
        ImageSource src = open(ref, pins, updateLock);
        sources.add(src);
        MergedImage m = MergedImage.resolve(src, platform);
        pin(ref, m.manifest().digest(), pins, updateLock);
        JsonNode c = JSON.readTree(src.config(m.imageManifest()));
        inputLayers(src, m.layers(), diffIds(c, src.name(), m.layers().size()), ref, pending);
        for (int i = 0; i < m.layers().size(); i++) history.add("basalt image build: layer " + (i + 1) + " of " + ref);
      }
      long mtime = time.getEpochSecond();
      Customization custom = Customization.of(spec, facts, mtime);
      if (!custom.isEmpty()) {
        pending.add(cachedLayer("customization", custom::writeTo));
        history.add("basalt image build: customization (files, users, kargs, units, health, fleet, signing)");
      }
      if (nodeLayer != null) {
        pending.add(cachedLayer("node", nodeLayer::writeTo));
        history.add("basalt image build: node layer");
      }
      List<Layer> layers = pending.stream().map(Pending::layer).toList();

      String ts = DateTimeFormatter.ISO_INSTANT.format(time);
      config.put("created", ts);
      ArrayNode diff = config.withObject("rootfs").withArray("diff_ids");
      diff.removeAll();
      for (Layer l : layers) diff.add(l.diffId().toString());
      ArrayNode hist = config.has("history") && config.get("history").isArray() ? (ArrayNode) config.get("history") : config.putArray("history");
      for (String h : history) hist.addObject().put("created", ts).put("created_by", h).put("comment", "basalt");
      ObjectNode inner = config.has("config") && config.get("config").isObject() ? (ObjectNode) config.get("config") : config.putObject("config");
      if (!spec.labels().isEmpty()) {
        ObjectNode l = inner.has("Labels") && inner.get("Labels").isObject() ? (ObjectNode) inner.get("Labels") : inner.putObject("Labels");
        new TreeMap<>(spec.labels()).forEach(l::put);
      }
      byte[] configBytes = JSON.writeValueAsBytes(config);
      Descriptor configDesc = new Descriptor(MediaTypes.OCI_CONFIG, Digest.sha256(configBytes), configBytes.length);

      ObjectNode root = JSON.createObjectNode();
      root.put("schemaVersion", 2);
      root.put("mediaType", MediaTypes.OCI_MANIFEST);
      putDescriptor(root.putObject("config"), configDesc);
      ArrayNode ls = root.putArray("layers");
      for (Layer l : layers) putDescriptor(ls.addObject(), l.descriptor());
      Map<String, String> ann = new TreeMap<>(spec.annotations());
      ann.put("org.opencontainers.image.base.digest", baseDigest);
      // A local path (oci:/home/…) differs between machines; only a registry name says something portable.
      if (spec.base().startsWith("docker://")) ann.put("org.opencontainers.image.base.name", spec.base().substring(9));
      ann.put("org.opencontainers.image.created", ts);
      ObjectNode a = root.putObject("annotations");
      ann.forEach(a::put);
      RawManifest manifest = RawManifest.of(JSON.writeValueAsBytes(root), MediaTypes.OCI_MANIFEST);

      ImageDestination dest = target.open();
      try {
        List<Layer> written = new ArrayList<>();
        for (Pending p : pending) written.add(upload(p, dest));
        if (!dest.hasBlob(configDesc)) dest.putBlob(configDesc, new ByteArrayInputStream(configBytes));
        dest.putManifest(manifest, true);
        dest.commit();
        return new Result(manifest, configDesc, List.copyOf(written), new BuildLock(pins));
      } finally {
        if (close) dest.close();
      }
    } finally {
      for (ImageSource src : sources) src.close();
    }
  }

  /** Input layers are reused as they are; "cached" then means the destination already had them. */
  private static void inputLayers(ImageSource src, List<Descriptor> descs, List<Digest> diffIds, String origin,
      List<Pending> out) {
    for (int i = 0; i < descs.size(); i++) out.add(new Pending(new Layer(origin, descs.get(i), diffIds.get(i), false), src, null));
  }

  private static Layer upload(Pending p, ImageDestination dest) throws IOException {
    Descriptor d = p.layer().descriptor();
    if (p.source() == null) {
      if (!dest.hasBlob(d)) {
        try (InputStream in = Files.newInputStream(p.blob())) {
          dest.putBlob(d, in);
        }
      }
      return p.layer();
    }
    boolean present = dest.hasBlob(d) || dest.mountBlob(d, p.source());
    if (!present) {
      try (InputStream in = new VerifyingInputStream(p.source().blob(d), d, p.source().name())) {
        dest.putBlob(d, in);
      }
    }
    return new Layer(p.layer().origin(), d, p.layer().diffId(), present);
  }

  private ImageSource open(String ref, Map<String, Digest> pins, boolean updateLock) throws IOException {
    ImageReference r;
    try {
      r = ImageReference.parse(local(ref));
    } catch (IllegalArgumentException e) {
      throw new SpecException("image reference '" + ref + "' is not valid: " + e.getMessage());
    }
    // A registry reference is fetched by its pinned digest, so a moved tag cannot change the build.
    Digest pinned = pins.get(ref);
    if (!updateLock && pinned != null && r instanceof DockerReference d) r = d.withDigest(pinned);
    return Transports.openSource(r, options);
  }

  /** A relative local path ({@code oci:../base:1}) is relative to the spec, so specs and locks are portable. */
  private String local(String ref) {
    for (String t : List.of("oci:", "oci-archive:", "docker-archive:")) {
      if (ref.startsWith(t) && specDir != null && !ref.startsWith(t + "/")) return t + specDir.resolve(ref.substring(t.length()));
    }
    return ref;
  }

  private static void pin(String ref, Digest actual, Map<String, Digest> pins, boolean updateLock) throws ImageException {
    Digest pinned = pins.get(ref);
    if (pinned != null && !pinned.equals(actual) && !updateLock) {
      throw new ImageException(ref + " is pinned to " + pinned + " in the lock file but resolves to " + actual
          + "; rebuild with --update-lock to move the pin");
    }
    pins.put(ref, actual);
  }

  private static List<Digest> diffIds(JsonNode config, String name, int layers) throws ImageException {
    JsonNode ids = config.path("rootfs").path("diff_ids");
    if (!ids.isArray() || ids.size() != layers) {
      throw new ImageException("config of " + name + " lists " + ids.size() + " diff_ids for " + layers + " layers");
    }
    List<Digest> out = new ArrayList<>();
    for (JsonNode d : ids) out.add(Digest.parse(d.asString()));
    return out;
  }

  private BaseFacts baseFacts(Digest baseDigest, MergedImage merged) throws IOException {
    Path f = cacheDir.resolve("base-facts").resolve(baseDigest.hex() + ".json");
    if (Files.isRegularFile(f)) return BaseFacts.fromJson(JSON, Files.readAllBytes(f));
    BaseFacts.Collector[] last = new BaseFacts.Collector[1];
    merged.writeTo(() -> last[0] = new BaseFacts.Collector());
    BaseFacts facts = last[0].facts();
    atomicWrite(f, facts.toJson(JSON));
    return facts;
  }

  @FunctionalInterface
  private interface TreeWriter {
    void writeTo(dev.basalt.fs.tree.TreeSink sink) throws IOException;
  }

  /**
   * The layer's key is the sha256 of its uncompressed tar (computed without compressing, which is the costly
   * part); a hit reuses the compressed blob (the upload is skipped when the destination has it).
   */
  private Pending cachedLayer(String origin, TreeWriter tree) throws IOException {
    LayerWriter probe = LayerWriter.create(OutputStream.nullOutputStream(), Compression.NONE, 0);
    tree.writeTo(probe);
    probe.finish();
    Digest key = probe.result().diffId();
    Path meta = cacheDir.resolve("layers").resolve(key.hex() + "." + compression.name().toLowerCase() + ".json");
    Path blobs = cacheDir.resolve("layers");
    Descriptor desc;
    Digest diffId;
    boolean cached = false;
    if (Files.isRegularFile(meta)) {
      JsonNode m = JSON.readTree(Files.readAllBytes(meta));
      desc = new Descriptor(m.get("mediaType").asString(), Digest.parse(m.get("digest").asString()), m.get("size").asLong());
      diffId = Digest.parse(m.get("diffId").asString());
      cached = Files.isRegularFile(blobs.resolve(desc.digest().hex()));
    } else {
      desc = null;
      diffId = null;
    }
    if (!cached) {
      Files.createDirectories(blobs);
      Path tmp = Files.createTempFile(blobs, "layer", ".tmp");
      try {
        LayerWriter.Result r;
        try (OutputStream out = new BufferedOutputStream(Files.newOutputStream(tmp), 1 << 17)) {
          LayerWriter w = LayerWriter.create(out, compression, 6);
          tree.writeTo(w);
          w.finish();
          r = w.result();
        }
        desc = new Descriptor(r.mediaType(), r.digest(), r.size());
        diffId = r.diffId();
        Files.move(tmp, blobs.resolve(r.digest().hex()), StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
      } finally {
        Files.deleteIfExists(tmp);
      }
      ObjectNode m = JSON.createObjectNode();
      m.put("mediaType", desc.mediaType()).put("digest", desc.digest().toString()).put("size", desc.size())
          .put("diffId", diffId.toString());
      atomicWrite(meta, JSON.writeValueAsBytes(m));
    }
    return new Pending(new Layer(origin, desc, diffId, cached), null, blobs.resolve(desc.digest().hex()));
  }

  private static void atomicWrite(Path f, byte[] bytes) throws IOException {
    Files.createDirectories(f.getParent());
    Path tmp = Files.createTempFile(f.getParent(), f.getFileName().toString(), ".tmp");
    try {
      Files.write(tmp, bytes);
      Files.move(tmp, f, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    } finally {
      Files.deleteIfExists(tmp);
    }
  }

  private static void putDescriptor(ObjectNode n, Descriptor d) {
    n.put("mediaType", d.mediaType());
    n.put("digest", d.digest().toString());
    n.put("size", d.size());
  }

  /** Validating builder. */
  public static final class Builder {
    private Path cacheDir;
    private Optional<Instant> created = sourceDateEpoch();
    private Platform platform = Platform.LINUX_AMD64;
    private TransportOptions options = TransportOptions.defaults();
    private NodeLayer nodeLayer;
    private Compression compression = Compression.GZIP;
    private Path specDir;

    private Builder() {}

    /** Relative local references (oci:…, oci-archive:…) in the spec are resolved against this directory. */
    public Builder specDir(Path dir) {
      this.specDir = Objects.requireNonNull(dir, "specDir").toAbsolutePath();
      return this;
    }

    private static Optional<Instant> sourceDateEpoch() {
      String sde = System.getenv("SOURCE_DATE_EPOCH");
      if (sde == null || sde.isBlank()) return Optional.empty();
      try {
        return Optional.of(Instant.ofEpochSecond(Long.parseLong(sde.strip())));
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException("SOURCE_DATE_EPOCH must be whole seconds, got '" + sde + "'");
      }
    }

    /** Where built layers and base facts are cached (required). */
    public Builder cacheDir(Path dir) {
      this.cacheDir = Objects.requireNonNull(dir, "cacheDir");
      return this;
    }

    /** The image's created time; default SOURCE_DATE_EPOCH, else the base's created. */
    public Builder created(Instant t) {
      this.created = Optional.of(Objects.requireNonNull(t, "created"));
      return this;
    }

    public Builder platform(Platform p) {
      this.platform = Objects.requireNonNull(p, "platform");
      return this;
    }

    public Builder transportOptions(TransportOptions o) {
      this.options = Objects.requireNonNull(o, "options");
      return this;
    }

    /** The node layer to add on top, or null for none. */
    public Builder nodeLayer(NodeLayer n) {
      this.nodeLayer = n;
      return this;
    }

    public Builder compression(Compression c) {
      this.compression = Objects.requireNonNull(c, "compression");
      return this;
    }

    public ImageBuilder build() {
      if (cacheDir == null) throw new IllegalStateException("cacheDir is required");
      return new ImageBuilder(this);
    }
  }
}

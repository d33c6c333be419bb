package dev.basalt.image.rootfs;

import dev.basalt.fs.tree.DirectoryTreeReader;
import dev.basalt.fs.tree.TreeEntry;
import dev.basalt.fs.tree.TreeSink;
import dev.basalt.oci.api.Descriptor;
import dev.basalt.oci.api.Digest;
import dev.basalt.oci.api.ImageDestination;
import dev.basalt.oci.api.MediaTypes;
import dev.basalt.oci.api.MediaTypes.Compression;
import dev.basalt.oci.api.Platform;
import dev.basalt.oci.api.RawManifest;
import dev.basalt.oci.merge.LayerWriter;
import dev.basalt.oci.merge.TarTreeSource;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import tools.jackson.databind.ObjectMapper;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * Turns a root filesystem (a directory or a tar) into a single-layer OCI image, reproducibly: the layer's
 * entries are sorted, the gzip header is fixed, and the config's times come from {@code created} (default
 * {@code SOURCE_DATE_EPOCH} or the epoch), so the same input always yields the same manifest digest.
 */
public final class RootfsImporter {
  private final Compression compression;
  private final Instant created;
  private final Platform platform;
  private final Map<String, String> labels;
  private final Path workDir;

  private RootfsImporter(Builder b) {
    this.compression = b.compression;
    this.created = b.created;
    this.platform = b.platform;
    this.labels = Map.copyOf(b.labels);
    this.workDir = b.workDir;
  }

  public static Builder builder() {
    return new Builder();
  }

  /** What was imported. */
  public record Result(RawManifest manifest, Descriptor config, Descriptor layer, Digest diffId) {}

  /** Imports {@code rootfs} (a directory, or a tar optionally gzip/zstd-compressed) into {@code dest} and commits. */
  public Result importTo(Path rootfs, ImageDestination dest) throws IOException {
    if (!Files.exists(rootfs)) throw new IOException("no such file or directory: " + rootfs);
    Path layerFile = Files.createTempFile(workDir, "basalt-layer", ".tmp");
    try {
      LayerWriter.Result layer = writeLayer(rootfs, layerFile);
      Descriptor layerDesc = new Descriptor(layer.mediaType(), layer.digest(), layer.size());
      byte[] config = configJson(layer.diffId());
      Descriptor configDesc = new Descriptor(MediaTypes.OCI_CONFIG, Digest.sha256(config), config.length);
      byte[] manifest = manifestJson(configDesc, layerDesc);
      RawManifest raw = RawManifest.of(manifest, MediaTypes.OCI_MANIFEST);
      if (!dest.hasBlob(layerDesc)) {
        try (InputStream in = Files.newInputStream(layerFile)) {
          dest.putBlob(layerDesc, in);
        }
      }
      if (!dest.hasBlob(configDesc)) dest.putBlob(configDesc, new java.io.ByteArrayInputStream(config));
      dest.putManifest(raw, true);
      dest.commit();
      return new Result(raw, configDesc, layerDesc, layer.diffId());
    } finally {
      Files.deleteIfExists(layerFile);
    }
  }

  private LayerWriter.Result writeLayer(Path rootfs, Path layerFile) throws IOException {
    if (Files.isDirectory(rootfs)) {
      try (OutputStream out = new BufferedOutputStream(Files.newOutputStream(layerFile), 1 << 17)) {
        LayerWriter w = LayerWriter.create(out, compression, 6);
        DirectoryTreeReader.of(rootfs).feed(w);
        w.finish();
        return w.result();
      }
    }
    // A tar is streamed straight through when its entries are already sorted (tars made by Basalt, by
    // `tar --sort=name`); otherwise its entries are spooled and replayed in order.
    try (OutputStream out = new BufferedOutputStream(Files.newOutputStream(layerFile), 1 << 17)) {
      LayerWriter w = LayerWriter.create(out, compression, 6);
      SortCheckingSink checked = new SortCheckingSink(w);
      TarTreeSource.read(rootfs, checked);
      if (!checked.unsorted) {
        w.finish();
        return w.result();
      }
    }
    try (SpooledTree spool = new SpooledTree(workDir);
        OutputStream out = new BufferedOutputStream(Files.newOutputStream(layerFile), 1 << 17)) {
      TarTreeSource.read(rootfs, spool);
      LayerWriter w = LayerWriter.create(out, compression, 6);
      spool.replaySorted(w);
      w.finish();
      return w.result();
    }
  }

  private byte[] configJson(Digest diffId) {
    ObjectMapper json = dev.basalt.oci.api.Manifests.json();
    ObjectNode root = json.createObjectNode();
    String time = DateTimeFormatter.ISO_INSTANT.format(created);
    root.put("created", time);
    root.put("architecture", platform.architecture());
    root.put("os", platform.os());
    if (platform.variant() != null) root.put("variant", platform.variant());
    ObjectNode config = root.putObject("config");
    config.putArray("Env").add("PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
    config.putArray("Cmd").add("/sbin/init");
    if (!labels.isEmpty()) {
      ObjectNode l = config.putObject("Labels");
      new TreeMap<>(labels).forEach(l::put);
    }
    ObjectNode rootfs = root.putObject("rootfs");
    rootfs.put("type", "layers");
    rootfs.putArray("diff_ids").add(diffId.toString());
    ArrayNode history = root.putArray("history");
    ObjectNode h = history.addObject();
    h.put("created", time);
    h.put("created_by", "basalt image import");
    return json.writeValueAsBytes(root);
  }

  private byte[] manifestJson(Descriptor config, Descriptor layer) {
    ObjectMapper json = dev.basalt.oci.api.Manifests.json();
    ObjectNode root = json.createObjectNode();
    root.put("schemaVersion", 2);
    root.put("mediaType", MediaTypes.OCI_MANIFEST);
    putDescriptor(root.putObject("config"), config);
    putDescriptor(root.putArray("layers").addObject(), layer);
    return json.writeValueAsBytes(root);
  }

  private static void putDescriptor(ObjectNode n, Descriptor d) {
    n.put("mediaType", d.mediaType());
    n.put("digest", d.digest().toString());
    n.put("size", d.size());
  }

  /** Forwards entries until the first one out of LayerWriter's order, then only records that it saw one. */
  private static final class SortCheckingSink implements TreeSink {
    private final TreeSink target;
    private String previous;
    boolean unsorted;

    SortCheckingSink(TreeSink target) { this.target = target; }

    @Override
    public void add(TreeEntry entry, InputStream content) throws IOException {
      if (unsorted) return;
      if (previous != null && SpooledTree.ORDER.compare(previous, entry.path()) >= 0) {
        unsorted = true;
        return;
      }
      previous = entry.path();
      target.add(entry, content);
    }

    @Override
    public void finish() {}
  }

  /** Validating builder. */
  public static final class Builder {
    private Compression compression = Compression.GZIP;
    private Instant created = defaultCreated();
    private Platform platform = Platform.LINUX_AMD64;
    private final Map<String, String> labels = new LinkedHashMap<>();
    private Path workDir = Path.of(System.getProperty("java.io.tmpdir"));

    private Builder() {}

    private static Instant defaultCreated() {
      String sde = System.getenv("SOURCE_DATE_EPOCH");
      if (sde == null || sde.isBlank()) return Instant.EPOCH;
      try {
        return Instant.ofEpochSecond(Long.parseLong(sde.trim()));
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException("SOURCE_DATE_EPOCH must be whole seconds, got '" + sde + "'");
      }
    }

    public Builder compression(Compression c) {
      this.compression = Objects.requireNonNull(c, "compression");
      return this;
    }

    /** The config's {@code created} time; default {@code SOURCE_DATE_EPOCH}, else 1970-01-01. */
    public Builder created(Instant t) {
      this.created = Objects.requireNonNull(t, "created");
      return this;
    }

    public Builder platform(Platform p) {
      this.platform = Objects.requireNonNull(p, "platform");
      return this;
    }

    public Builder label(String key, String value) {
      if (key == null || key.isEmpty()) throw new IllegalArgumentException("label key must not be empty");
      labels.put(key, Objects.requireNonNull(value, "label value for " + key));
      return this;
    }

    /** Where the layer is assembled before upload (it must hold one compressed copy of the rootfs). */
    public Builder workDir(Path dir) {
      if (!Files.isDirectory(dir)) throw new IllegalArgumentException("work dir is not a directory: " + dir);
      this.workDir = dir;
      return this;
    }

    public RootfsImporter build() {
      return new RootfsImporter(this);
    }
  }
}

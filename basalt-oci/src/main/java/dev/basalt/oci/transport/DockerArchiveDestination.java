package dev.basalt.oci.transport;

import dev.basalt.oci.api.Descriptor;
import dev.basalt.oci.api.Digest;
import dev.basalt.oci.api.ImageDestination;
import dev.basalt.oci.api.ImageException;
import dev.basalt.oci.api.ImageManifest;
import dev.basalt.oci.api.Manifests;
import dev.basalt.oci.api.MediaTypes;
import dev.basalt.oci.api.RawManifest;
import dev.basalt.oci.api.VerifyingInputStream;
import dev.basalt.oci.compress.CompressionException;
import dev.basalt.oci.compress.DecompressionLimits;
import dev.basalt.oci.compress.LayerStreams;
import dev.basalt.oci.ref.DockerReference;
import dev.basalt.oci.tar.TarWriter;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.DigestOutputStream;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * {@code docker-archive:FILE[:name:tag]} destination, in the {@code docker save} format that {@code docker load}
 * and skopeo read: {@code manifest.json}, {@code repositories}, the config as {@code <hex>.json} (bytes preserved,
 * so the config digest is the same) and each layer decompressed (gzip/zstd → tar, Docker's convention) as
 * {@code <diffID hex>.tar}, its diffID checked against the config's {@code rootfs.diff_ids}. With a name, legacy
 * {@code <id>/{VERSION,json,layer.tar}} entries are added as skopeo does, so {@code repositories} names real
 * layer IDs. Blobs are staged beside FILE; the tar is written deterministically at commit and renamed over FILE.
 */
final class DockerArchiveDestination implements ImageDestination {
  /** A layer staged as an uncompressed tar. */
  private record Staged(Digest diffId, long size) {}

  private final Path file;
  private final Path staging;
  private final DockerReference tag;
  private final String name;
  private final Map<Digest, Staged> layers = new ConcurrentHashMap<>();
  private final Map<Digest, Path> others = new ConcurrentHashMap<>();
  private ImageManifest image;
  private byte[] config;

  private DockerArchiveDestination(Path file, Path staging, DockerReference tag, String name) {
    this.file = file;
    this.staging = staging;
    this.tag = tag;
    this.name = name;
  }

  static DockerArchiveDestination create(Path file, DockerReference tag, String name) throws IOException {
    return new DockerArchiveDestination(file, ArchiveOutput.stagingDir(file, name), tag, name);
  }

  @Override
  public String name() {
    return name;
  }

  @Override
  public boolean hasBlob(Descriptor d) {
    return layers.containsKey(d.digest()) || others.containsKey(d.digest());
  }

  @Override
  public void putBlob(Descriptor d, InputStream content) throws IOException {
    Path tmp = Files.createTempFile(staging, "ingest-", ".tmp");
    try {
      VerifyingInputStream verified = new VerifyingInputStream(content, d, "source of " + d.digest());
      if (MediaTypes.LAYERS.contains(d.mediaType())) {
        MessageDigest md = Digest.newSha256();
        long size;
        try (InputStream tar = LayerStreams.open(verified, d.mediaType(), "layer " + d.digest(), DecompressionLimits.DEFAULT);
            OutputStream out = new DigestOutputStream(Files.newOutputStream(tmp), md)) {
          size = tar.transferTo(out);
          verified.drainAndVerify(); // data after the compressed stream still counts for the blob digest
        } catch (CompressionException e) {
          throw new ImageException(name + ": cannot decompress " + e.getMessage(), e);
        }
        Digest diffId = Digest.ofSha256(md.digest());
        Files.move(tmp, staging.resolve(diffId.hex() + ".tar"), StandardCopyOption.REPLACE_EXISTING);
        layers.put(d.digest(), new Staged(diffId, size));
      } else {
        if (d.size() > DockerArchiveSource.MAX_CONFIG) {
          throw new ImageException("blob " + d.digest() + " (" + d.mediaType() + ", " + d.size() + " bytes) cannot go into "
              + name + ": only a config and layers can, and configs are at most " + DockerArchiveSource.MAX_CONFIG + " bytes");
        }
        try (OutputStream out = Files.newOutputStream(tmp)) {
          verified.transferTo(out);
          verified.drainAndVerify();
        }
        Path p = staging.resolve("blob-" + d.digest().hex());
        Files.move(tmp, p, StandardCopyOption.REPLACE_EXISTING);
        others.put(d.digest(), p);
      }
    } finally {
      Files.deleteIfExists(tmp);
    }
  }

  @Override
  public synchronized void putManifest(RawManifest m, boolean root) throws IOException {
    if (m.isIndex() || !root) {
      throw new ImageException(name + ": a docker archive holds single images, not an index or manifest list; copy one "
          + "platform (without --all)");
    }
    ImageManifest parsed = ImageManifest.parse(m);
    Path c = others.get(parsed.config().digest());
    if (c == null) throw new ImageException(name + ": config " + parsed.config().digest() + " was not written before the manifest");
    byte[] configBytes = Files.readAllBytes(c);
    JsonNode diffIds;
    try {
      diffIds = Manifests.json().readTree(configBytes).path("rootfs").path("diff_ids");
    } catch (JacksonException e) {
      throw new ImageException(name + ": config " + parsed.config().digest() + " is not valid JSON");
    }
    if (!diffIds.isArray() || diffIds.size() != parsed.layers().size()) {
      throw new ImageException(name + ": manifest " + m.digest() + " has " + parsed.layers().size() + " layers but config "
          + parsed.config().digest() + " lists " + (diffIds.isArray() ? diffIds.size() : 0) + " rootfs.diff_ids");
    }
    for (int i = 0; i < parsed.layers().size(); i++) {
      Descriptor l = parsed.layers().get(i);
      Staged s = layers.get(l.digest());
      if (s == null) {
        throw new ImageException(name + ": layer " + i + " (" + l.digest() + ", " + l.mediaType()
            + ") is not a tar layer that can go into a docker archive");
      }
      String expected = diffIds.get(i).asString("");
      if (!s.diffId().toString().equals(expected)) {
        throw new ImageException(name + ": layer " + i + " (" + l.digest() + ") decompresses to diffID " + s.diffId()
            + " but config " + parsed.config().digest() + " lists " + expected);
      }
    }
    image = parsed;
    config = configBytes;
  }

  @Override
  public synchronized void commit() throws IOException {
    if (image == null) throw new ImageException("nothing to commit to " + name + ": no manifest was written");
    String configName = image.config().digest().hex() + ".json";
    List<String> layerFiles = new ArrayList<>();
    for (Descriptor l : image.layers()) layerFiles.add(layers.get(l.digest()).diffId().hex() + ".tar");
    List<Legacy> legacy = tag == null ? List.of() : legacyLayers();

    ObjectNode item = Manifests.json().createObjectNode();
    item.put("Config", configName);
    ArrayNode repoTags = item.putArray("RepoTags");
    if (tag != null) repoTags.add(tag.familiar());
    ArrayNode ls = item.putArray("Layers");
    layerFiles.forEach(ls::add);
    byte[] manifestJson = Manifests.json().writeValueAsBytes(Manifests.json().createArrayNode().add(item));
    ObjectNode repos = Manifests.json().createObjectNode();
    if (tag != null) repos.putObject(tag.name()).put(tag.tag(), legacy.getLast().id());
    byte[] repositories = Manifests.json().writeValueAsBytes(repos);

    ArchiveOutput.publish(file, tar -> {
      ArchiveOutput.addBytes(tar, "manifest.json", manifestJson);
      ArchiveOutput.addBytes(tar, "repositories", repositories);
      ArchiveOutput.addBytes(tar, configName, config);
      for (String f : new LinkedHashSet<>(layerFiles)) ArchiveOutput.addFile(tar, f, staging.resolve(f));
      for (Legacy l : legacy) writeLegacy(tar, l);
    });
  }

  /** One layer of the pre-1.10 format: an ID directory whose layer.tar links to the real file (no directory entry, like skopeo). */
  private record Legacy(String id, String layerFile, byte[] json) {}

  private static void writeLegacy(TarWriter tar, Legacy l) throws IOException {
    ArchiveOutput.addBytes(tar, l.id() + "/VERSION", "1.0".getBytes(StandardCharsets.US_ASCII));
    ArchiveOutput.addBytes(tar, l.id() + "/json", l.json());
    tar.add(ArchiveOutput.symlinkHeader(l.id() + "/layer.tar", "../" + l.layerFile()), null);
  }

  /**
   * Legacy layer IDs as skopeo derives them: each is the digest of a small JSON (keys sorted) holding the parent ID,
   * the chain ID of the layers so far and, for the top layer, seven fields of the image config (null when absent).
   * The IDs equal skopeo's for the same image; only their uniqueness matters, docker load assigns its own.
   */
  private List<Legacy> legacyLayers() throws IOException {
    JsonNode cfg = Manifests.json().readTree(config);
    List<Legacy> out = new ArrayList<>();
    String parent = null;
    String chain = null;
    List<Descriptor> ls = image.layers();
    for (int i = 0; i < ls.size(); i++) {
      Digest diffId = layers.get(ls.get(i).digest()).diffId();
      chain = chain == null ? diffId.toString()
          : Digest.sha256((chain + " " + diffId).getBytes(StandardCharsets.UTF_8)).toString();
      TreeMap<String, JsonNode> fields = new TreeMap<>();
      if (parent != null) fields.put("parent", Manifests.json().getNodeFactory().stringNode(parent));
      if (i == ls.size() - 1) {
        for (String attr : List.of("architecture", "config", "container", "container_config", "created",
            "docker_version", "os")) {
          fields.put(attr, cfg.has(attr) ? cfg.get(attr) : Manifests.json().getNodeFactory().nullNode());
        }
      }
      fields.put("layer_id", Manifests.json().getNodeFactory().stringNode(chain));
      String id = Digest.sha256(jsonOf(fields)).hex();
      fields.remove("layer_id");
      fields.put("id", Manifests.json().getNodeFactory().stringNode(id));
      out.add(new Legacy(id, diffId.hex() + ".tar", jsonOf(fields)));
      parent = id;
    }
    if (out.isEmpty()) throw new ImageException(name + ": an image without layers cannot be tagged in a docker archive");
    return out;
  }

  private static byte[] jsonOf(TreeMap<String, JsonNode> fields) {
    ObjectNode o = Manifests.json().createObjectNode();
    fields.forEach(o::set);
    return Manifests.json().writeValueAsBytes(o);
  }

  @Override
  public void close() throws IOException {
    ArchiveOutput.deleteTree(staging);
  }
}

package dev.basalt.oci.layout;

import dev.basalt.oci.api.Descriptor;
import dev.basalt.oci.api.Digest;
import dev.basalt.oci.api.ImageException;
import dev.basalt.oci.api.Manifests;
import dev.basalt.oci.api.MediaTypes;
import dev.basalt.oci.api.RawManifest;
import dev.basalt.oci.api.VerifyingInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * An OCI image layout directory: {@code oci-layout}, {@code index.json}, {@code blobs/<alg>/<hex>}. Tags are the
 * {@code org.opencontainers.image.ref.name} annotations of index.json entries. Blobs are written to a temporary
 * file, verified, fsynced and renamed; index.json is replaced atomically, keeping the entries of other tags.
 */
public final class OciLayout {
  public static final String REF_NAME = "org.opencontainers.image.ref.name";
  private static final String LAYOUT_FILE = "{\"imageLayoutVersion\":\"1.0.0\"}";

  private final Path dir;

  private OciLayout(Path dir) {
    this.dir = dir;
  }

  /** Opens an existing layout; throws naming the directory when it is not one. */
  public static OciLayout open(Path dir) throws IOException {
    Path marker = dir.resolve("oci-layout");
    if (!Files.isRegularFile(marker)) {
      throw new ImageException(dir + " is not an OCI image layout (no oci-layout file)");
    }
    String version;
    try {
      version = Manifests.json().readTree(Files.readString(marker)).path("imageLayoutVersion").asString("");
    } catch (JacksonException e) {
      throw new ImageException(marker + " is not valid JSON");
    }
    if (!version.equals("1.0.0")) throw new ImageException(marker + ": unsupported imageLayoutVersion '" + version + "'");
    return new OciLayout(dir);
  }

  /** Opens a layout, creating an empty one when {@code dir} does not exist or is empty. */
  public static OciLayout create(Path dir) throws IOException {
    if (Files.isRegularFile(dir.resolve("oci-layout"))) return open(dir);
    if (Files.exists(dir)) {
      try (var s = Files.list(dir)) {
        if (s.findAny().isPresent()) throw new ImageException(dir + " exists and is not an OCI image layout");
      }
    }
    Files.createDirectories(dir.resolve("blobs").resolve("sha256"));
    writeAtomically(dir.resolve("index.json"), "{\"schemaVersion\":2,\"manifests\":[]}".getBytes(StandardCharsets.UTF_8));
    writeAtomically(dir.resolve("oci-layout"), LAYOUT_FILE.getBytes(StandardCharsets.UTF_8));
    return new OciLayout(dir);
  }

  public Path directory() {
    return dir;
  }

  public Path blobPath(Digest d) {
    return dir.resolve("blobs").resolve(d.algorithm()).resolve(d.hex());
  }

  public boolean hasBlob(Digest d) {
    return Files.isRegularFile(blobPath(d));
  }

  /** A blob stream that verifies size and digest when read to the end. */
  public InputStream openBlob(Descriptor d) throws IOException {
    Path p = blobPath(d.digest());
    if (!Files.isRegularFile(p)) throw new ImageException("blob " + d.digest() + " is missing from " + dir);
    return new VerifyingInputStream(Files.newInputStream(p), d, "oci:" + dir);
  }

  /** Writes a blob unless present; verified before it becomes visible. */
  public void putBlob(Descriptor d, InputStream in) throws IOException {
    Path target = blobPath(d.digest());
    if (Files.isRegularFile(target)) {
      in.transferTo(OutputStream.nullOutputStream());
      return;
    }
    Files.createDirectories(target.getParent());
    Path tmp = Files.createTempFile(dir, ".basalt-ingest-", ".tmp");
    readable(tmp);
    try {
      try (VerifyingInputStream v = new VerifyingInputStream(in, d, "source of " + d.digest());
          FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE);
          OutputStream out = java.nio.channels.Channels.newOutputStream(ch)) {
        v.transferTo(out);
        v.drainAndVerify();
        out.flush();
        ch.force(true);
      }
      Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
    } finally {
      Files.deleteIfExists(tmp);
    }
  }

  /** Reads a manifest or index named by a descriptor, verified. */
  public RawManifest readManifest(Descriptor d) throws IOException {
    if (d.size() > Manifests.MAX_MANIFEST_SIZE) {
      throw new ImageException("manifest " + d.digest() + " in " + dir + " is " + d.size() + " bytes, over the limit");
    }
    byte[] bytes;
    try (InputStream in = openBlob(d)) {
      bytes = in.readAllBytes();
    }
    String type = d.mediaType();
    if (!MediaTypes.MANIFESTS.contains(type) && !MediaTypes.INDEXES.contains(type)) {
      type = Manifests.sniffMediaType(bytes, "manifest " + d.digest() + " in " + dir);
      if (!MediaTypes.MANIFESTS.contains(type) && !MediaTypes.INDEXES.contains(type)) {
        throw new ImageException("manifest " + d.digest() + " in " + dir + " has unsupported media type '" + type + "'");
      }
    }
    return new RawManifest(bytes, type, d.digest());
  }

  /** The entries of index.json. */
  public List<Descriptor> entries() throws IOException {
    RawManifest idx = RawManifest.of(Files.readAllBytes(dir.resolve("index.json")), MediaTypes.OCI_INDEX);
    try {
      return dev.basalt.oci.api.ImageIndex.parse(idx).manifests();
    } catch (ImageException e) {
      throw new ImageException(dir.resolve("index.json") + " is invalid: " + e.getMessage());
    }
  }

  /**
   * The entry for {@code tag}; with a null tag, the only entry (as skopeo does).
   *
   * @throws ImageException listing the tags that exist
   */
  public Descriptor find(String tag) throws IOException {
    List<Descriptor> all = entries();
    if (tag == null) {
      if (all.size() == 1) return all.getFirst();
      throw new ImageException("oci:" + dir + " holds " + all.size() + " images; name one with oci:" + dir + ":TAG "
          + tagsHint(all));
    }
    for (Descriptor d : all) {
      if (tag.equals(d.annotations().get(REF_NAME))) return d;
    }
    throw new ImageException("tag '" + tag + "' not found in oci:" + dir + " " + tagsHint(all));
  }

  private static String tagsHint(List<Descriptor> all) {
    List<String> tags = new ArrayList<>();
    for (Descriptor d : all) {
      String t = d.annotations().get(REF_NAME);
      if (t != null) tags.add(t);
    }
    return "(tags: " + (tags.isEmpty() ? "none" : String.join(", ", tags)) + ")";
  }

  /**
   * Points {@code tag} at {@code manifest} in index.json, replacing an entry with the same tag and keeping all
   * others. A null tag adds an unnamed entry (replacing an unnamed entry for the same digest).
   */
  public synchronized void tag(Descriptor manifest, String tag) throws IOException {
    Path indexFile = dir.resolve("index.json");
    ObjectNode index;
    try {
      index = (ObjectNode) Manifests.json().readTree(Files.readAllBytes(indexFile));
    } catch (JacksonException | ClassCastException e) {
      throw new ImageException(indexFile + " is not a JSON object");
    }
    ArrayNode old = index.has("manifests") && index.get("manifests").isArray() ? (ArrayNode) index.get("manifests")
        : index.arrayNode();
    ArrayNode kept = index.arrayNode();
    for (JsonNode e : old) {
      String name = e.path("annotations").path(REF_NAME).asString(null);
      boolean replaced = tag != null ? tag.equals(name)
          : name == null && e.path("digest").asString("").equals(manifest.digest().toString());
      if (!replaced) kept.add(e);
    }
    ObjectNode entry = kept.addObject();
    entry.put("mediaType", manifest.mediaType());
    entry.put("digest", manifest.digest().toString());
    entry.put("size", manifest.size());
    if (tag != null) entry.putObject("annotations").put(REF_NAME, tag);
    ObjectNode out = index.objectNode();
    out.put("schemaVersion", 2);
    index.properties().forEach(p -> {
      if (!p.getKey().equals("schemaVersion") && !p.getKey().equals("manifests")) out.set(p.getKey(), p.getValue());
    });
    out.set("manifests", kept);
    writeAtomically(indexFile, Manifests.json().writeValueAsBytes(out));
  }

  static void writeAtomically(Path file, byte[] bytes) throws IOException {
    Path tmp = Files.createTempFile(file.getParent(), "." + file.getFileName(), ".tmp");
    readable(tmp);
    try {
      try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
        ch.write(java.nio.ByteBuffer.wrap(bytes));
        ch.force(true);
      }
      Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    } finally {
      Files.deleteIfExists(tmp);
    }
  }

  /** Temp files are 0600; layouts are shared read-only like skopeo's (0644). */
  private static void readable(Path p) throws IOException {
    try {
      Files.setPosixFilePermissions(p, java.nio.file.attribute.PosixFilePermissions.fromString("rw-r--r--"));
    } catch (UnsupportedOperationException ignored) {
      // not a POSIX filesystem
    }
  }
}

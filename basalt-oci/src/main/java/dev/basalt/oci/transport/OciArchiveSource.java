package dev.basalt.oci.transport;

import dev.basalt.oci.api.Descriptor;
import dev.basalt.oci.api.ImageException;
import dev.basalt.oci.api.ImageIndex;
import dev.basalt.oci.api.ImageSource;
import dev.basalt.oci.api.Manifests;
import dev.basalt.oci.api.MediaTypes;
import dev.basalt.oci.api.RawManifest;
import dev.basalt.oci.api.VerifyingInputStream;
import dev.basalt.oci.layout.OciLayout;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import tools.jackson.core.JacksonException;

/**
 * {@code oci-archive:FILE[:tag]} source: the OCI layout inside the tar, read in place by offset (see
 * {@link ArchiveIndex}); blobs are verified against their descriptors as they are read.
 */
final class OciArchiveSource implements ImageSource {
  private final ArchiveIndex archive;
  private final String tag;
  private final String name;
  private RawManifest root;

  private OciArchiveSource(ArchiveIndex archive, String tag, String name) {
    this.archive = archive;
    this.tag = tag;
    this.name = name;
  }

  /** Indexes the archive and checks it is an OCI layout; the caller owns the returned source. */
  static OciArchiveSource open(java.nio.file.Path file, String tag, String name) throws IOException {
    ArchiveIndex a = ArchiveIndex.open(file, name);
    try {
      checkLayout(a);
      return new OciArchiveSource(a, tag, name);
    } catch (IOException | RuntimeException e) {
      a.close();
      throw e;
    }
  }

  private static void checkLayout(ArchiveIndex a) throws IOException {
    ArchiveIndex.Entry marker = a.find("oci-layout");
    if (marker == null) throw new ImageException(a.name() + " is not an OCI image layout archive (no oci-layout entry)");
    String version;
    try {
      version = Manifests.json().readTree(new String(a.read(marker, 64 << 10, "oci-layout"), StandardCharsets.UTF_8))
          .path("imageLayoutVersion").asString("");
    } catch (JacksonException e) {
      throw new ImageException(a.name() + ": entry 'oci-layout' is not valid JSON");
    }
    if (!version.equals("1.0.0")) {
      throw new ImageException(a.name() + ": entry 'oci-layout' has unsupported imageLayoutVersion '" + version + "'");
    }
  }

  @Override
  public String name() {
    return name;
  }

  @Override
  public synchronized RawManifest rootManifest() throws IOException {
    if (root == null) root = manifest(find(entries()));
    return root;
  }

  private List<Descriptor> entries() throws IOException {
    ArchiveIndex.Entry e = archive.require("index.json", "entry");
    RawManifest idx = RawManifest.of(archive.read(e, Manifests.MAX_MANIFEST_SIZE, "entry"), MediaTypes.OCI_INDEX);
    try {
      return ImageIndex.parse(idx).manifests();
    } catch (ImageException ex) {
      throw new ImageException(name + ": entry 'index.json' is invalid: " + ex.getMessage());
    }
  }

  /** The entry for the tag; with no tag the only entry, as skopeo does (same rules as {@link OciLayout#find}). */
  private Descriptor find(List<Descriptor> all) throws ImageException {
    if (tag == null) {
      if (all.size() == 1) return all.getFirst();
      throw new ImageException(name + " holds " + all.size() + " images; name one with " + name + ":TAG " + tagsHint(all));
    }
    for (Descriptor d : all) {
      if (tag.equals(d.annotations().get(OciLayout.REF_NAME))) return d;
    }
    throw new ImageException("tag '" + tag + "' not found in oci-archive:" + archive.file() + " " + tagsHint(all));
  }

  private static String tagsHint(List<Descriptor> all) {
    List<String> tags = new ArrayList<>();
    for (Descriptor d : all) {
      String t = d.annotations().get(OciLayout.REF_NAME);
      if (t != null) tags.add(t);
    }
    return "(tags: " + (tags.isEmpty() ? "none" : String.join(", ", tags)) + ")";
  }

  @Override
  public RawManifest manifest(Descriptor d) throws IOException {
    if (d.size() > Manifests.MAX_MANIFEST_SIZE) {
      throw new ImageException("manifest " + d.digest() + " in " + name + " is " + d.size() + " bytes, over the limit");
    }
    byte[] bytes;
    try (InputStream in = blob(d)) {
      bytes = in.readAllBytes();
    }
    String type = d.mediaType();
    if (!MediaTypes.MANIFESTS.contains(type) && !MediaTypes.INDEXES.contains(type)) {
      type = Manifests.sniffMediaType(bytes, "manifest " + d.digest() + " in " + name);
      if (!MediaTypes.MANIFESTS.contains(type) && !MediaTypes.INDEXES.contains(type)) {
        throw new ImageException("manifest " + d.digest() + " in " + name + " has unsupported media type '" + type + "'");
      }
    }
    return new RawManifest(bytes, type, d.digest());
  }

  @Override
  public InputStream blob(Descriptor d) throws IOException {
    String path = "blobs/" + d.digest().algorithm() + "/" + d.digest().hex();
    ArchiveIndex.Entry e = archive.find(path);
    if (e == null) throw new ImageException("blob " + d.digest() + " is missing from " + name + " (no entry '" + path + "')");
    return new VerifyingInputStream(archive.open(e), d, name);
  }

  @Override
  public void close() throws IOException {
    archive.close();
  }
}

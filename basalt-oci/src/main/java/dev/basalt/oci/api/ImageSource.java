package dev.basalt.oci.api;

import java.io.ByteArrayOutputStream;
import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.util.List;

/** Reads one image reference through any transport (registry, OCI layout, archives). */
public interface ImageSource extends Closeable {
  /** The reference, for messages: {@code docker://127.0.0.1:5000/app:1}. */
  String name();

  /** The manifest or index the reference points at. */
  RawManifest rootManifest() throws IOException;

  /** A manifest listed in an index, verified against the descriptor. */
  RawManifest manifest(Descriptor descriptor) throws IOException;

  /** A blob's content; reading it to the end verifies size and digest (it throws otherwise). */
  InputStream blob(Descriptor descriptor) throws IOException;

  /** Tags of the repository, where the transport has them (registry); empty otherwise. */
  default List<String> tags() throws IOException {
    return List.of();
  }

  /**
   * The image manifest for {@code platform}: the root itself when it is a manifest, or the matching entry of an
   * index / manifest list.
   */
  default RawManifest resolve(Platform platform) throws IOException {
    RawManifest root = rootManifest();
    if (!root.isIndex()) return root;
    ImageIndex index = ImageIndex.parse(root);
    Descriptor d = index.select(platform, root.digest() + " of " + name());
    RawManifest m = manifest(d);
    if (m.isIndex()) throw new ImageException("index " + root.digest() + " of " + name() + " points to another index "
        + d.digest() + " for " + platform);
    return m;
  }

  /** The config blob of {@code manifest}, verified (configs are small; over 16 MiB is refused). */
  default byte[] config(ImageManifest manifest) throws IOException {
    Descriptor c = manifest.config();
    if (c.size() > 16 << 20) throw new ImageException("config " + c.digest() + " of " + name() + " is too large: "
        + c.size() + " bytes");
    try (InputStream in = blob(c)) {
      ByteArrayOutputStream out = new ByteArrayOutputStream((int) c.size());
      in.transferTo(out);
      return out.toByteArray();
    }
  }
}

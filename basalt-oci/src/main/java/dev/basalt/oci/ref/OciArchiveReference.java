package dev.basalt.oci.ref;

import java.nio.file.Path;
import java.util.Objects;

/**
 * An image in a tar file holding an OCI image layout.
 *
 * @param tag the {@code org.opencontainers.image.ref.name} annotation in index.json, or null (only image)
 */
public record OciArchiveReference(Path file, String tag) implements ImageReference {
  public OciArchiveReference {
    Objects.requireNonNull(file, "file");
  }

  static OciArchiveReference parse(String input, String rest) {
    PathAndTag p = PathAndTag.split(input, rest);
    return new OciArchiveReference(p.path(), p.tag());
  }

  @Override
  public String transport() {
    return "oci-archive";
  }

  @Override
  public String toString() {
    return "oci-archive:" + file + (tag == null ? "" : ":" + tag);
  }
}

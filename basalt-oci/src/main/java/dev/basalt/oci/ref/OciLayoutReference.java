package dev.basalt.oci.ref;

import java.nio.file.Path;
import java.util.Objects;

/**
 * An image in an OCI image layout directory.
 *
 * @param tag the {@code org.opencontainers.image.ref.name} annotation in index.json, or null (only image)
 */
public record OciLayoutReference(Path directory, String tag) implements ImageReference {
  public OciLayoutReference {
    Objects.requireNonNull(directory, "directory");
  }

  static OciLayoutReference parse(String input, String rest) {
    PathAndTag p = PathAndTag.split(input, rest);
    return new OciLayoutReference(p.path(), p.tag());
  }

  @Override
  public String transport() {
    return "oci";
  }

  @Override
  public String toString() {
    return "oci:" + directory + (tag == null ? "" : ":" + tag);
  }
}

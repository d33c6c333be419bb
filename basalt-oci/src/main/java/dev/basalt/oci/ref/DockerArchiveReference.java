package dev.basalt.oci.ref;

import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.Objects;

/**
 * An image in a {@code docker save} tar file.
 *
 * @param name the image name to write into / select from {@code manifest.json} RepoTags, or null (only image)
 */
public record DockerArchiveReference(Path file, DockerReference name) implements ImageReference {
  public DockerArchiveReference {
    Objects.requireNonNull(file, "file");
    if (name != null && name.tag() == null) throw new IllegalArgumentException("docker-archive names need a tag, not a digest");
  }

  static DockerArchiveReference parse(String input, String rest) {
    int colon = rest.indexOf(':');
    String path = colon < 0 ? rest : rest.substring(0, colon);
    if (path.isEmpty()) throw new IllegalArgumentException("invalid image reference '" + input + "': empty path");
    DockerReference name = null;
    if (colon >= 0) {
      String n = rest.substring(colon + 1);
      if (n.contains("@")) {
        throw new IllegalArgumentException("invalid image reference '" + input
            + "': docker-archive does not support digest references");
      }
      try {
        name = DockerReference.parse(n);
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException("invalid image reference '" + input + "': bad image name '" + n + "': "
            + e.getMessage(), e);
      }
    }
    try {
      return new DockerArchiveReference(Path.of(path), name);
    } catch (InvalidPathException e) {
      throw new IllegalArgumentException("invalid image reference '" + input + "': bad path: " + e.getMessage());
    }
  }

  @Override
  public String transport() {
    return "docker-archive";
  }

  @Override
  public String toString() {
    return "docker-archive:" + file + (name == null ? "" : ":" + name.familiar());
  }
}

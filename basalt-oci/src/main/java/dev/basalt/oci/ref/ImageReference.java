package dev.basalt.oci.ref;

/**
 * An image reference with its transport, written as skopeo writes them:
 * {@code docker://host[:port]/repo[:tag|@digest]}, {@code oci:DIR[:tag]}, {@code oci-archive:FILE[:tag]},
 * {@code docker-archive:FILE[:name:tag]}.
 */
public sealed interface ImageReference
    permits DockerReference, OciLayoutReference, OciArchiveReference, DockerArchiveReference {

  /** The transport name as skopeo spells it ({@code docker}, {@code oci}, ...). */
  String transport();

  /** Canonical form, re-parseable by {@link #parse(String)}. */
  @Override
  String toString();

  /**
   * Parses a reference with its transport prefix.
   *
   * @throws IllegalArgumentException quoting the input and saying what is wrong
   */
  static ImageReference parse(String input) {
    if (input == null || input.isBlank()) throw new IllegalArgumentException("empty image reference");
    int colon = input.indexOf(':');
    if (colon < 0) {
      throw new IllegalArgumentException("image reference '" + input
          + "' has no transport; use docker://, oci:, oci-archive: or docker-archive:");
    }
    String transport = input.substring(0, colon);
    String rest = input.substring(colon + 1);
    return switch (transport) {
      case "docker" -> {
        if (!rest.startsWith("//")) {
          throw new IllegalArgumentException("image reference '" + input + "': docker transport needs '//', as in docker://"
              + rest);
        }
        yield DockerReference.parse(rest.substring(2));
      }
      case "oci" -> OciLayoutReference.parse(input, rest);
      case "oci-archive" -> OciArchiveReference.parse(input, rest);
      case "docker-archive" -> DockerArchiveReference.parse(input, rest);
      default -> throw new IllegalArgumentException("image reference '" + input + "': unknown transport '" + transport
          + "' (known: docker, oci, oci-archive, docker-archive)");
    };
  }
}

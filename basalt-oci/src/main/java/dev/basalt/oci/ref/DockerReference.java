package dev.basalt.oci.ref;

import dev.basalt.oci.api.Digest;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * A registry image, normalized like Docker does ({@code debian} → {@code docker.io/library/debian:latest}).
 *
 * @param registry host[:port], e.g. {@code docker.io} or {@code 127.0.0.1:5000}
 * @param repository path inside the registry, e.g. {@code library/debian}
 * @param tag null when a digest is given
 * @param digest null when a tag is given
 */
public record DockerReference(String registry, String repository, String tag, Digest digest) implements ImageReference {
  public static final String DOCKER_HUB = "docker.io";
  private static final Pattern COMPONENT = Pattern.compile("[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*");
  private static final Pattern TAG = Pattern.compile("[\\w][\\w.-]{0,127}");
  private static final Pattern HOST = Pattern.compile("(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)(?:\\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*"
      + "|\\[[0-9a-fA-F:]+\\]");

  public DockerReference {
    Objects.requireNonNull(registry, "registry");
    Objects.requireNonNull(repository, "repository");
    if ((tag == null) == (digest == null)) throw new IllegalArgumentException("exactly one of tag and digest is needed");
  }

  /**
   * Parses {@code [host[:port]/]repo[:tag|@digest]} (the part after {@code docker://}).
   *
   * @throws IllegalArgumentException quoting the input
   */
  public static DockerReference parse(String s) {
    String input = "docker://" + s;
    if (s.isEmpty()) throw bad(input, "no repository name");
    String name = s;
    Digest digest = null;
    int at = s.indexOf('@');
    if (at >= 0) {
      name = s.substring(0, at);
      try {
        digest = Digest.parse(s.substring(at + 1));
      } catch (IllegalArgumentException e) {
        throw bad(input, "invalid digest '" + s.substring(at + 1) + "'");
      }
    }
    String tag = null;
    int slash = name.lastIndexOf('/');
    int colon = name.lastIndexOf(':');
    if (colon > slash) {
      tag = name.substring(colon + 1);
      name = name.substring(0, colon);
      if (!TAG.matcher(tag).matches()) throw bad(input, "invalid tag '" + tag + "'");
    }
    if (tag != null && digest != null) {
      throw bad(input, "references with both a tag and a digest are not supported");
    }
    String registry = DOCKER_HUB;
    String repository = name;
    int first = name.indexOf('/');
    if (first >= 0) {
      String head = name.substring(0, first);
      if (head.contains(".") || head.contains(":") || head.equals("localhost")) {
        registry = head;
        repository = name.substring(first + 1);
        checkHost(input, registry);
      }
    }
    if (registry.equals("index.docker.io") || registry.equals("registry-1.docker.io")) registry = DOCKER_HUB;
    if (repository.isEmpty()) throw bad(input, "no repository name");
    if (registry.equals(DOCKER_HUB) && !repository.contains("/")) repository = "library/" + repository;
    for (String c : repository.split("/", -1)) {
      if (!COMPONENT.matcher(c).matches()) {
        if (!c.equals(c.toLowerCase(java.util.Locale.ROOT))) {
          throw bad(input, "repository name must be lowercase, got '" + repository + "'");
        }
        throw bad(input, "invalid repository name component '" + c + "'");
      }
    }
    if (repository.length() > 255) throw bad(input, "repository name longer than 255 characters");
    if (tag == null && digest == null) tag = "latest";
    return new DockerReference(registry, repository, tag, digest);
  }

  private static void checkHost(String input, String hostPort) {
    String host = hostPort;
    int c = hostPort.lastIndexOf(':');
    if (c > hostPort.lastIndexOf(']')) {
      host = hostPort.substring(0, c);
      String port = hostPort.substring(c + 1);
      if (!port.matches("[0-9]{1,5}") || Integer.parseInt(port) > 65535) throw bad(input, "invalid port '" + port + "'");
    }
    if (!HOST.matcher(host).matches()) throw bad(input, "invalid registry host '" + host + "'");
  }

  private static IllegalArgumentException bad(String input, String why) {
    return new IllegalArgumentException("invalid image reference '" + input + "': " + why);
  }

  /** {@code tag} or {@code sha256:…}: what goes after {@code /manifests/} in the API. */
  public String reference() {
    return digest != null ? digest.toString() : tag;
  }

  /** {@code registry/repository}, as skopeo prints in {@code Name}. */
  public String name() {
    return registry + "/" + repository;
  }

  public DockerReference withTag(String newTag) {
    return new DockerReference(registry, repository, newTag, null);
  }

  public DockerReference withDigest(Digest newDigest) {
    return new DockerReference(registry, repository, null, newDigest);
  }

  /** The same registry and another repository: used for cross-repository blob mounts. */
  public boolean sameRegistry(DockerReference other) {
    return registry.equals(other.registry);
  }

  @Override
  public String transport() {
    return "docker";
  }

  /** Without the {@code docker://} prefix: {@code docker.io/library/debian:latest}. */
  public String familiar() {
    return name() + (digest != null ? "@" + digest : ":" + tag);
  }

  @Override
  public String toString() {
    return "docker://" + familiar();
  }
}

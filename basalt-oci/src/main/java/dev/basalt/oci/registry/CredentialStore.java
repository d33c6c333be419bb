package dev.basalt.oci.registry;

import dev.basalt.oci.api.Manifests;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;

/**
 * Credentials from the files people already have, in containers/image order: {@code $REGISTRY_AUTH_FILE},
 * {@code $XDG_RUNTIME_DIR/containers/auth.json}, then {@code ~/.docker/config.json}. Entries are
 * {@code auths.<host>.auth} (base64 {@code user:password}) or {@code username}/{@code password}. Credential
 * helpers ({@code credsStore}) are not run.
 */
public final class CredentialStore {
  private final List<Path> files;

  private CredentialStore(List<Path> files) {
    this.files = List.copyOf(files);
  }

  /** Reads exactly these files, first match wins; missing files are skipped. */
  public static CredentialStore of(List<Path> files) {
    return new CredentialStore(files);
  }

  /** The default search path from the environment. */
  public static CredentialStore defaults() {
    return fromEnvironment(System.getenv(), Path.of(System.getProperty("user.home")));
  }

  static CredentialStore fromEnvironment(Map<String, String> env, Path home) {
    List<Path> files = new ArrayList<>();
    String explicit = env.get("REGISTRY_AUTH_FILE");
    if (explicit != null && !explicit.isEmpty()) files.add(Path.of(explicit));
    String xdg = env.get("XDG_RUNTIME_DIR");
    if (xdg != null && !xdg.isEmpty()) files.add(Path.of(xdg, "containers", "auth.json"));
    String dockerConfig = env.get("DOCKER_CONFIG");
    files.add(dockerConfig != null && !dockerConfig.isEmpty() ? Path.of(dockerConfig, "config.json")
        : home.resolve(".docker").resolve("config.json"));
    return new CredentialStore(files);
  }

  public List<Path> files() {
    return files;
  }

  /**
   * Credentials for {@code registry} (host[:port]); for Docker Hub also the legacy
   * {@code https://index.docker.io/v1/} key.
   *
   * @throws IOException naming the file when it is not valid JSON or holds a bad entry
   */
  public Optional<Credentials> lookup(String registry) throws IOException {
    for (Path f : files) {
      if (!Files.isRegularFile(f)) continue;
      JsonNode auths;
      try {
        auths = Manifests.json().readTree(Files.readString(f, StandardCharsets.UTF_8)).path("auths");
      } catch (JacksonException e) {
        throw new IOException("credentials file " + f + " is not valid JSON: " + e.getOriginalMessage());
      }
      for (var e : auths.properties()) {
        if (!normalize(e.getKey()).equals(normalize(registry))) continue;
        Optional<Credentials> c = decode(e.getValue(), f, e.getKey());
        if (c.isPresent()) return c;
      }
    }
    return Optional.empty();
  }

  private static Optional<Credentials> decode(JsonNode entry, Path file, String key) throws IOException {
    String auth = entry.path("auth").asString("");
    if (!auth.isEmpty()) {
      String decoded;
      try {
        decoded = new String(Base64.getDecoder().decode(auth.trim()), StandardCharsets.UTF_8);
      } catch (IllegalArgumentException e) {
        throw new IOException("credentials file " + file + ": auths." + key + ".auth is not valid base64");
      }
      int i = decoded.indexOf(':');
      if (i <= 0) throw new IOException("credentials file " + file + ": auths." + key + ".auth is not base64 of user:password");
      return Optional.of(new Credentials(decoded.substring(0, i), decoded.substring(i + 1)));
    }
    String user = entry.path("username").asString("");
    if (!user.isEmpty()) return Optional.of(new Credentials(user, entry.path("password").asString("")));
    return Optional.empty();
  }

  /** {@code https://host:port/v1/} → {@code host:port}; Docker Hub aliases → {@code docker.io}. */
  static String normalize(String key) {
    String k = key;
    int scheme = k.indexOf("://");
    if (scheme >= 0) k = k.substring(scheme + 3);
    int slash = k.indexOf('/');
    if (slash >= 0) k = k.substring(0, slash);
    return switch (k) {
      case "index.docker.io", "registry-1.docker.io", "registry.hub.docker.com" -> "docker.io";
      default -> k;
    };
  }
}

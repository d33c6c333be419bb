package dev.basalt.node;

import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Optional;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.dataformat.toml.TomlMapper;

/**
 * The fleet server the agent follows, from the same {@code /etc/basalt/agent.toml} as {@link AgentPolicy}:
 * <pre>
 * server = "https://fleet.example:8443"                    # the device API
 * enrollment-token-file = "/usr/lib/basalt/enrollment-token" # baked into the image (bet_...)
 * ca = "/usr/lib/basalt/fleet-ca.pem"                       # the fleet CA the server must chain to (the pin)
 * name = "kiosk-7"                                          # optional; default the host name
 * </pre>
 * Relative paths are relative to the file's directory. With {@code server}, {@code image} must not be set: the server
 * assigns the image.
 *
 * @param name the name the device enrolls with; null for the host name
 */
public record FleetConfig(URI server, Path enrollmentTokenFile, Path ca, String name) {
  public FleetConfig {
    if (server == null || !"https".equals(server.getScheme()) || server.getHost() == null) {
      throw new IllegalArgumentException("server must be https://HOST[:PORT], got " + server);
    }
    java.util.Objects.requireNonNull(enrollmentTokenFile, "enrollment-token-file");
    java.util.Objects.requireNonNull(ca, "ca");
  }

  /** The fleet configuration in {@code file}; empty when the file is missing or has no {@code server}. */
  public static Optional<FleetConfig> read(Path file) throws IOException {
    byte[] bytes;
    try {
      bytes = Files.readAllBytes(file);
    } catch (NoSuchFileException e) {
      return Optional.empty();
    }
    JsonNode root;
    try {
      root = TomlMapper.builder().build().readTree(bytes);
    } catch (JacksonException e) {
      throw new NodeException(file + ": not valid TOML: " + e.getOriginalMessage());
    }
    if (root == null || !root.has("server")) return Optional.empty();
    if (root.has("image")) throw new NodeException(file + ": image and server exclude each other (the fleet server assigns the image)");
    for (String k : new String[] {"enrollment-token-file", "ca"}) {
      if (!root.has(k)) throw new NodeException(file + ": server needs " + k + " = \"PATH\"");
    }
    Path dir = file.toAbsolutePath().getParent();
    try {
      return Optional.of(new FleetConfig(URI.create(string(root, "server", file)), dir.resolve(string(root, "enrollment-token-file", file)),
          dir.resolve(string(root, "ca", file)), root.has("name") ? string(root, "name", file) : null));
    } catch (IllegalArgumentException e) {
      throw new NodeException(file + ": " + e.getMessage());
    }
  }

  private static String string(JsonNode root, String key, Path file) throws NodeException {
    JsonNode n = root.get(key);
    if (!n.isString() || n.asString().isBlank()) throw new NodeException(file + ": " + key + " must be a non-empty string");
    return n.asString().strip();
  }
}

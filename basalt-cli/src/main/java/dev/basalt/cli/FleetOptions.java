package dev.basalt.cli;

import dev.basalt.api.ApiJson;
import dev.basalt.fleet.client.AdminClient;
import java.io.IOException;
import java.io.PrintStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import picocli.CommandLine.Option;
import tools.jackson.databind.JsonNode;
import tools.jackson.dataformat.toml.TomlMapper;

/**
 * How {@code basalt fleet} reaches the server: {@code --server}/{@code --token-file} flags, else
 * {@code BASALT_FLEET_URL}/{@code BASALT_FLEET_TOKEN}, else the config file ({@code server = "..."},
 * {@code token = "..."} or {@code token-file = "..."}). The token is never printed.
 */
final class FleetOptions {
  static final Path DEFAULT_CONFIG = Path.of(System.getProperty("user.home"), ".config/basalt/fleet.toml");

  @Option(names = "--server", paramLabel = "URL", description = "Admin API of the fleet server (default $BASALT_FLEET_URL, then the config file).")
  String server;

  @Option(names = "--token-file", paramLabel = "FILE", description = "File holding the admin token (default $BASALT_FLEET_TOKEN, then the config file).")
  Path tokenFile;

  @Option(names = "--config", paramLabel = "FILE", description = "Config file (default ~/.config/basalt/fleet.toml).")
  Path config;

  @Option(names = "--format", defaultValue = "table", paramLabel = "FORMAT", description = "table or json (default ${DEFAULT-VALUE}).")
  String format;

  /** Environment lookup; tests replace it. */
  static java.util.function.Function<String, String> env = System::getenv;

  boolean json() {
    return switch (format) {
      case "json" -> true;
      case "table" -> false;
      default -> throw new IllegalArgumentException("--format must be table or json, got '" + format + "'");
    };
  }

  /** Where the server is and the token to use (never shown). */
  record Conn(URI uri, String token) {
    @Override
    public String toString() {
      return uri.toString();
    }
  }

  AdminClient client() throws IOException {
    Conn c = conn();
    return new AdminClient(c.uri(), c.token());
  }

  Conn conn() throws IOException {
    json(); // check --format before any call
    Path cfg = config != null ? config : DEFAULT_CONFIG;
    JsonNode file = null;
    if (config != null && !Files.isRegularFile(config)) throw new IllegalArgumentException("config file " + config + " does not exist");
    if (Files.isRegularFile(cfg)) {
      try {
        file = TomlMapper.builder().build().readTree(Files.readAllBytes(cfg));
      } catch (RuntimeException e) {
        throw new IllegalArgumentException(cfg + ": not valid TOML: " + e.getMessage());
      }
    }
    String url = server != null ? server : env.apply("BASALT_FLEET_URL");
    if (url == null && file != null && file.has("server")) url = file.get("server").asString();
    if (url == null) throw new IllegalArgumentException("no fleet server: give --server URL, set BASALT_FLEET_URL or server = \"...\" in " + cfg);
    URI uri = URI.create(url);
    if (!"http".equals(uri.getScheme()) && !"https".equals(uri.getScheme()) || uri.getHost() == null) {
      throw new IllegalArgumentException("fleet server must be an http(s)://HOST[:PORT] URL, got '" + url + "'");
    }
    String token;
    if (tokenFile != null) token = readToken(tokenFile);
    else if (env.apply("BASALT_FLEET_TOKEN") != null) token = env.apply("BASALT_FLEET_TOKEN").strip();
    else if (file != null && file.has("token")) token = file.get("token").asString().strip();
    else if (file != null && file.has("token-file")) token = readToken(Path.of(file.get("token-file").asString()));
    else throw new IllegalArgumentException("no admin token: give --token-file FILE, set BASALT_FLEET_TOKEN or token-file = \"...\" in " + cfg);
    if (!token.startsWith("bst_")) throw new IllegalArgumentException("the admin token must start with bst_ (check where it comes from; it is not shown)");
    return new Conn(uri, token);
  }

  private static String readToken(Path f) throws IOException {
    if (!Files.isRegularFile(f)) throw new IllegalArgumentException("token file " + f + " does not exist");
    return Files.readString(f, StandardCharsets.UTF_8).strip();
  }

  /** Prints {@code value} as JSON, or as a table of {@code rows} under {@code header}. */
  void print(PrintStream out, Object value, List<String> header, List<List<String>> rows) {
    if (json()) {
      out.println(ApiJson.write(value));
    } else {
      table(out, header, rows);
    }
  }

  static void table(PrintStream out, List<String> header, List<List<String>> rows) {
    int[] w = new int[header.size()];
    List<List<String>> all = new ArrayList<>();
    all.add(header);
    all.addAll(rows);
    for (List<String> r : all) for (int i = 0; i < w.length; i++) w[i] = Math.max(w[i], cell(r.get(i)).length());
    for (List<String> r : all) {
      StringBuilder sb = new StringBuilder();
      for (int i = 0; i < w.length; i++) {
        String c = cell(r.get(i));
        sb.append(c);
        if (i < w.length - 1) sb.append(" ".repeat(w[i] - c.length() + 2));
      }
      out.println(sb.toString().stripTrailing());
    }
  }

  private static String cell(String s) {
    return s == null || s.isEmpty() ? "-" : s;
  }

  /** {@code k=v,k2=v2}; empty for none. */
  static String labels(Map<String, String> labels) {
    return String.join(",", labels.entrySet().stream().sorted(Map.Entry.comparingByKey()).map(e -> e.getKey() + "=" + e.getValue()).toList());
  }

  /** A digest shortened for tables: {@code sha256:} and 12 hex digits. */
  static String shortDigest(String d) {
    return d == null ? null : d.length() > 19 ? d.substring(0, 19) : d;
  }
}

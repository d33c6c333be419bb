package dev.basalt.node;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.time.LocalTime;
import java.time.format.DateTimeParseException;
import java.util.Objects;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.dataformat.toml.TomlMapper;

/**
 * The agent's local policy, {@code /etc/basalt/agent.toml}:
 * <pre>
 * mode = "apply"               # download-only | apply | window
 * image = "docker://host/os:1" # optional; default: the reference the booted deployment came from
 * interval = "1h"              # between polls (s, m, h suffix or seconds); default 1h
 * jitter = "10m"               # up to this much is added at random to each wait; default 10% of interval
 * window = "02:00-04:00"       # mode window: apply only inside it (UTC; may wrap midnight)
 * tls-verify = true
 * server = "https://fleet.example:8443"     # follow a fleet server instead (see FleetConfig)
 * </pre>
 * A missing file means the defaults: mode apply, hourly.
 *
 * @param image the reference to follow, null for the booted deployment's
 * @param window the maintenance window, null unless mode is window
 */
public record AgentPolicy(Mode mode, String image, Duration interval, Duration jitter, Window window, boolean tlsVerify) {
  /** What the agent does with an update it finds. */
  public enum Mode {
    /** Fetch the layers into the cache only; a person (or a fleet server) applies. */
    DOWNLOAD_ONLY,
    /** Stage and reboot into it at once. */
    APPLY,
    /** Download at once; stage and reboot only inside the maintenance window. */
    WINDOW
  }

  /** A daily window {@code [start, end)} in UTC; {@code end < start} wraps midnight. */
  public record Window(LocalTime start, LocalTime end) {
    public Window {
      Objects.requireNonNull(start, "start");
      Objects.requireNonNull(end, "end");
      if (start.equals(end)) throw new IllegalArgumentException("window start and end must differ, both " + start);
    }

    public boolean contains(LocalTime t) {
      return start.isBefore(end) ? !t.isBefore(start) && t.isBefore(end) : !t.isBefore(start) || t.isBefore(end);
    }
  }

  public static final AgentPolicy DEFAULT = new AgentPolicy(Mode.APPLY, null, Duration.ofHours(1), Duration.ofMinutes(6), null, true);

  private static final Set<String> KEYS = Set.of("mode", "image", "interval", "jitter", "window", "tls-verify",
      // the fleet server's keys, read by FleetConfig
      "server", "enrollment-token-file", "ca", "name");
  private static final Pattern DURATION = Pattern.compile("(\\d+)\\s*([smh]?)");
  private static final Pattern WINDOW = Pattern.compile("(\\d\\d:\\d\\d)-(\\d\\d:\\d\\d)");

  public AgentPolicy {
    Objects.requireNonNull(mode, "mode");
    Objects.requireNonNull(interval, "interval");
    Objects.requireNonNull(jitter, "jitter");
    if (interval.compareTo(Duration.ofSeconds(1)) < 0) throw new IllegalArgumentException("interval must be at least 1s, got " + interval);
    if (jitter.isNegative()) throw new IllegalArgumentException("jitter must not be negative, got " + jitter);
    if (mode == Mode.WINDOW && window == null) throw new IllegalArgumentException("mode \"window\" needs window = \"HH:MM-HH:MM\"");
  }

  /** Reads {@code file}; defaults when it does not exist. Errors name the file and the key. */
  public static AgentPolicy read(Path file) throws IOException {
    byte[] bytes;
    try {
      bytes = Files.readAllBytes(file);
    } catch (NoSuchFileException e) {
      return DEFAULT;
    }
    return parse(bytes, file.toString());
  }

  static AgentPolicy parse(byte[] toml, String where) throws NodeException {
    JsonNode root;
    try {
      root = TomlMapper.builder().build().readTree(toml);
    } catch (JacksonException e) {
      throw new NodeException(where + ": not valid TOML: " + e.getOriginalMessage());
    }
    if (root == null || !root.isObject()) throw new NodeException(where + ": not a TOML table");
    for (String k : root.propertyNames()) {
      if (!KEYS.contains(k)) throw new NodeException(where + ": unknown key '" + k + "' (known: " + String.join(", ", KEYS.stream().sorted().toList()) + ")");
    }
    Mode mode = switch (text(root, "mode", "apply", where)) {
      case "apply" -> Mode.APPLY;
      case "download-only" -> Mode.DOWNLOAD_ONLY;
      case "window" -> Mode.WINDOW;
      default -> throw new NodeException(where + ": mode must be download-only, apply or window, got '" + root.get("mode").asString() + "'");
    };
    String image = root.has("image") ? text(root, "image", null, where) : null;
    Duration interval = duration(root, "interval", Duration.ofHours(1), where);
    Duration jitter = duration(root, "jitter", interval.dividedBy(10), where);
    Window window = null;
    if (root.has("window")) {
      Matcher m = WINDOW.matcher(text(root, "window", null, where));
      try {
        if (!m.matches()) throw new DateTimeParseException("", "", 0);
        window = new Window(LocalTime.parse(m.group(1)), LocalTime.parse(m.group(2)));
      } catch (DateTimeParseException | IllegalArgumentException e) {
        throw new NodeException(where + ": window must be \"HH:MM-HH:MM\" (UTC), got '" + root.get("window").asString() + "'");
      }
    }
    boolean tls = true;
    if (root.has("tls-verify")) {
      if (!root.get("tls-verify").isBoolean()) throw new NodeException(where + ": tls-verify must be true or false");
      tls = root.get("tls-verify").asBoolean();
    }
    try {
      return new AgentPolicy(mode, image, interval, jitter, window, tls);
    } catch (IllegalArgumentException e) {
      throw new NodeException(where + ": " + e.getMessage());
    }
  }

  private static String text(JsonNode root, String key, String dflt, String where) throws NodeException {
    JsonNode n = root.get(key);
    if (n == null) return dflt;
    if (!n.isString() || n.asString().isBlank()) throw new NodeException(where + ": " + key + " must be a non-empty string");
    return n.asString().strip();
  }

  private static Duration duration(JsonNode root, String key, Duration dflt, String where) throws NodeException {
    JsonNode n = root.get(key);
    if (n == null) return dflt;
    if (n.isIntegralNumber()) return Duration.ofSeconds(n.asLong());
    Matcher m = n.isString() ? DURATION.matcher(n.asString().strip()) : null;
    if (m == null || !m.matches()) throw new NodeException(where + ": " + key + " must be seconds or a duration such as 90s, 15m, 1h, got '" + n.asString() + "'");
    long v = Long.parseLong(m.group(1));
    return switch (m.group(2)) {
      case "m" -> Duration.ofMinutes(v);
      case "h" -> Duration.ofHours(v);
      default -> Duration.ofSeconds(v);
    };
  }
}

package dev.basalt.image.disk;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.regex.Pattern;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.dataformat.toml.TomlMapper;

/**
 * Customizations applied to a disk's root filesystem as it is written, in the spirit of
 * bootc-image-builder's {@code config.toml}:
 *
 * <pre>
 * hostname = "edge-01"
 *
 * [customizations.kernel]
 * append = "quiet loglevel=3"
 *
 * [[customizations.user]]
 * name = "alice"
 * password = "$6$salt$hash..."      # a crypt(3) hash (openssl passwd -6), never plain text
 * key = "ssh-ed25519 AAAA... alice@laptop"
 * groups = ["sudo"]
 * uid = 1000                         # optional: else the next free uid from 1000 up
 * </pre>
 *
 * A user named {@code root} changes root's password and adds the key to
 * {@code /root/.ssh/authorized_keys}; other users must be new, get the given uid (or the next
 * free one from 1000 up), a private group with the same number, and a home in
 * {@code /var/home/<name>}. A user that already exists in the image is configured in place only
 * when its uid is given and equal: that is how a node re-applies its config to an update
 * ({@link #forNode}).
 *
 * @param users users in file order
 * @param kernelAppend extra kernel arguments, split on blanks
 * @param hostname the machine's host name, if set
 */
public record DiskConfig(List<User> users, List<String> kernelAppend, Optional<String> hostname) {
  private static final TomlMapper TOML = TomlMapper.builder().build();
  private static final Pattern USER_NAME = Pattern.compile("[a-z_][a-z0-9_-]{0,31}");
  private static final Pattern CRYPT = Pattern.compile("\\$[0-9a-z]+\\$[^:\\s]+");
  private static final Pattern HOSTNAME = Pattern.compile(
      "(?=.{1,64}$)[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*");
  private static final Pattern GROUP = Pattern.compile("[a-z_][a-z0-9_-]{0,31}");

  /** Nothing to change. */
  public static final DiskConfig EMPTY = new DiskConfig(List.of(), List.of(), Optional.empty());

  public DiskConfig {
    users = List.copyOf(users);
    kernelAppend = List.copyOf(kernelAppend);
    Objects.requireNonNull(hostname, "hostname");
    Set<String> names = new java.util.HashSet<>();
    for (User u : users) {
      if (!names.add(u.name())) throw new IllegalArgumentException("user '" + u.name() + "' is configured twice");
    }
  }

  /**
   * One user.
   *
   * @param name login name
   * @param password crypt(3) hash, if any (without one, password login is off)
   * @param key an SSH public key line for {@code authorized_keys}, if any
   * @param groups supplementary groups; each must exist in the image's {@code /etc/group}
   * @param uid the uid (and private gid), if fixed; 1000..59999, not for root
   */
  public record User(String name, Optional<String> password, Optional<String> key, List<String> groups,
      OptionalLong uid) {
    /** A user whose uid is picked when the disk is written. */
    public User(String name, Optional<String> password, Optional<String> key, List<String> groups) {
      this(name, password, key, groups, OptionalLong.empty());
    }

    public User {
      Objects.requireNonNull(uid, "uid");
      Objects.requireNonNull(name, "name");
      Objects.requireNonNull(password, "password");
      Objects.requireNonNull(key, "key");
      groups = List.copyOf(groups);
      if (!USER_NAME.matcher(name).matches()) {
        throw new IllegalArgumentException("user name '" + name + "' is not a valid login name ([a-z_][a-z0-9_-]*, at most 32)");
      }
      password.ifPresent(p -> {
        if (!CRYPT.matcher(p).matches()) {
          throw new IllegalArgumentException("password of user '" + name + "' must be a crypt(3) hash such as"
              + " '$6$salt$...' (make one with: openssl passwd -6), not plain text");
        }
      });
      key.ifPresent(k -> {
        if (k.isBlank() || k.contains("\n") || k.contains("\r")) {
          throw new IllegalArgumentException("key of user '" + name + "' must be one SSH public key line");
        }
      });
      for (String g : groups) {
        if (!GROUP.matcher(g).matches()) throw new IllegalArgumentException("group '" + g + "' of user '" + name + "' is not a valid group name");
      }
      if (uid.isPresent() && (name.equals("root") || uid.getAsLong() < 1000 || uid.getAsLong() > 59999)) {
        throw new IllegalArgumentException("uid of user '" + name + "' must be 1000..59999 (and none for root), got "
            + uid.getAsLong());
      }
    }

    /** This user with a fixed uid. */
    public User withUid(long uid) {
      return new User(name, password, key, groups, OptionalLong.of(uid));
    }

    public boolean isRoot() { return name.equals("root"); }
  }

  /**
   * The part of this config a node keeps applying to every slot it writes: users (with their uids
   * fixed to {@code uids}, the ones given out on the first slot, so that files on /var keep their
   * owners) and the host name. Kernel arguments are left out: the node carries them over from the
   * booted entry.
   */
  public DiskConfig forNode(Map<String, Long> uids) {
    List<User> pinned = new ArrayList<>();
    for (User u : users) {
      Long uid = uids.get(u.name());
      pinned.add(uid != null && !u.isRoot() ? u.withUid(uid) : u);
    }
    return new DiskConfig(pinned, List.of(), hostname);
  }

  /** This config as TOML that {@link #parse(String, String)} reads back as an equal config. */
  public String toToml() {
    StringBuilder b = new StringBuilder();
    hostname.ifPresent(h -> b.append("hostname = ").append(quote(h)).append('\n'));
    if (!kernelAppend.isEmpty()) {
      b.append("\n[customizations.kernel]\nappend = ").append(quote(String.join(" ", kernelAppend))).append('\n');
    }
    for (User u : users) {
      b.append("\n[[customizations.user]]\nname = ").append(quote(u.name())).append('\n');
      u.password().ifPresent(p -> b.append("password = ").append(quote(p)).append('\n'));
      u.key().ifPresent(k -> b.append("key = ").append(quote(k)).append('\n'));
      if (!u.groups().isEmpty()) {
        b.append("groups = [").append(String.join(", ", u.groups().stream().map(DiskConfig::quote).toList())).append("]\n");
      }
      u.uid().ifPresent(n -> b.append("uid = ").append(n).append('\n'));
    }
    return b.toString();
  }

  /** A TOML basic string. */
  private static String quote(String s) {
    StringBuilder b = new StringBuilder("\"");
    for (char ch : s.toCharArray()) {
      switch (ch) {
        case '"' -> b.append("\\\"");
        case '\\' -> b.append("\\\\");
        default -> {
          if (ch < 0x20 || ch == 0x7f) b.append(String.format(java.util.Locale.ROOT, "\\u%04X", (int) ch));
          else b.append(ch);
        }
      }
    }
    return b.append('"').toString();
  }

  /** Parses a config file; errors name the file, the key and its line. */
  public static DiskConfig parse(Path file) throws IOException {
    return parse(Files.readString(file, StandardCharsets.UTF_8), file.toString());
  }

  /**
   * Parses config text.
   *
   * @param source names the text in error messages (a file name)
   * @throws ConfigException on invalid TOML, an unknown key, a wrong type or an invalid value
   */
  public static DiskConfig parse(String text, String source) throws ConfigException {
    JsonNode root;
    try {
      root = TOML.readTree(text);
    } catch (JacksonException e) {
      var loc = e.getLocation();
      String where = loc != null && loc.getLineNr() > 0 ? " line " + loc.getLineNr() : "";
      throw new ConfigException(source + where + ": not valid TOML: " + e.getOriginalMessage());
    }
    if (root == null || root.isMissingNode() || root.isNull()) return EMPTY;
    Lines lines = Lines.scan(text);
    Ctx c = new Ctx(source, lines);
    c.onlyKeys(root, "", Set.of("hostname", "customizations"));
    Optional<String> hostname = Optional.empty();
    if (root.has("hostname")) {
      String h = c.string(root.get("hostname"), "hostname");
      if (!HOSTNAME.matcher(h).matches()) {
        throw c.error("hostname", "'" + h + "' is not a valid host name (letters, digits, '-' and '.', at most 64)");
      }
      hostname = Optional.of(h);
    }
    List<User> users = new ArrayList<>();
    List<String> append = new ArrayList<>();
    JsonNode cust = root.get("customizations");
    if (cust != null) {
      c.table(cust, "customizations");
      c.onlyKeys(cust, "customizations", Set.of("user", "kernel"));
      JsonNode kernel = cust.get("kernel");
      if (kernel != null) {
        c.table(kernel, "customizations.kernel");
        c.onlyKeys(kernel, "customizations.kernel", Set.of("append"));
        if (kernel.has("append")) {
          String a = c.string(kernel.get("append"), "customizations.kernel.append");
          if (a.contains("\n")) throw c.error("customizations.kernel.append", "must be one line");
          for (String arg : a.trim().split("\\s+")) if (!arg.isEmpty()) append.add(arg);
        }
      }
      JsonNode us = cust.get("user");
      if (us != null) {
        if (!us.isArray()) throw c.error("customizations.user", "must be an array of tables: [[customizations.user]]");
        int i = 0;
        for (JsonNode u : us.values()) {
          String at = "customizations.user[" + i + "]";
          c.table(u, at);
          c.onlyKeys(u, at, Set.of("name", "password", "key", "groups", "uid"));
          if (!u.has("name")) throw c.error(at, "a [[customizations.user]] needs a name");
          String name = c.string(u.get("name"), at + ".name");
          Optional<String> pw = u.has("password") ? Optional.of(c.string(u.get("password"), at + ".password")) : Optional.empty();
          Optional<String> key = u.has("key") ? Optional.of(c.string(u.get("key"), at + ".key").strip()) : Optional.empty();
          List<String> groups = new ArrayList<>();
          if (u.has("groups")) {
            JsonNode g = u.get("groups");
            if (!g.isArray()) throw c.error(at + ".groups", "must be an array of strings");
            int j = 0;
            for (JsonNode gv : g.values()) groups.add(c.string(gv, at + ".groups[" + j++ + "]"));
          }
          OptionalLong uid = OptionalLong.empty();
          if (u.has("uid")) {
            JsonNode n = u.get("uid");
            if (!n.isIntegralNumber() || !n.canConvertToLong()) throw c.error(at + ".uid", "must be an integer");
            uid = OptionalLong.of(n.longValue());
          }
          try {
            users.add(new User(name, pw, key, new ArrayList<>(new LinkedHashSet<>(groups)), uid));
          } catch (IllegalArgumentException e) {
            throw c.error(at + (e.getMessage().startsWith("uid") ? ".uid" : ".name"), e.getMessage());
          }
          i++;
        }
      }
    }
    try {
      return new DiskConfig(users, append, hostname);
    } catch (IllegalArgumentException e) {
      throw new ConfigException(source + ": " + e.getMessage());
    }
  }

  /** A config that cannot be used; the message names the file, the key and the line. */
  public static final class ConfigException extends IOException {
    public ConfigException(String message) { super(message); }
  }

  private record Ctx(String source, Lines lines) {
    ConfigException error(String key, String problem) {
      int line = lines.lineOf(key);
      return new ConfigException(source + (line > 0 ? " line " + line : "") + ": " + display(key) + ": " + problem);
    }

    void onlyKeys(JsonNode table, String at, Set<String> allowed) throws ConfigException {
      for (String k : table.propertyNames()) {
        if (!allowed.contains(k)) {
          String key = at.isEmpty() ? k : at + "." + k;
          throw error(key, "unknown key '" + k + "'" + (at.isEmpty() ? "" : " in [" + display(at) + "]")
              + " (allowed: " + String.join(", ", new java.util.TreeSet<>(allowed)) + ")");
        }
      }
    }

    void table(JsonNode n, String at) throws ConfigException {
      if (!n.isObject()) throw error(at, "must be a table, got " + n.getNodeType().name().toLowerCase(java.util.Locale.ROOT));
    }

    String string(JsonNode n, String at) throws ConfigException {
      if (n == null || !n.isString()) {
        throw error(at, "must be a string, got " + (n == null ? "nothing" : n.getNodeType().name().toLowerCase(java.util.Locale.ROOT)));
      }
      return n.stringValue();
    }

    private static String display(String key) {
      return key.replaceAll("\\[\\d+]", "");
    }
  }

  /**
   * Where keys are in the text: the TOML parser keeps no locations, so a light scan of table
   * headers and {@code key =} lines maps each key path (array tables numbered, as
   * {@code customizations.user[1].name}) to its first line.
   */
  record Lines(Map<String, Integer> byKey) {
    static Lines scan(String text) {
      Map<String, Integer> byKey = new HashMap<>();
      Map<String, Integer> arrayCounts = new HashMap<>();
      String table = "";
      String[] ls = text.split("\n", -1);
      for (int i = 0; i < ls.length; i++) {
        String l = ls[i].strip();
        int line = i + 1;
        if (l.startsWith("[[")) {
          int end = l.indexOf("]]");
          if (end < 0) continue;
          String name = unquote(l.substring(2, end));
          int n = arrayCounts.merge(name, 1, Integer::sum) - 1;
          table = name + "[" + n + "]";
          byKey.putIfAbsent(table, line);
          byKey.putIfAbsent(name, line);
        } else if (l.startsWith("[")) {
          int end = l.indexOf(']');
          if (end < 0) continue;
          table = unquote(l.substring(1, end));
          byKey.putIfAbsent(table, line);
        } else {
          int eq = l.indexOf('=');
          if (eq <= 0 || l.startsWith("#")) continue;
          String key = unquote(l.substring(0, eq));
          String full = table.isEmpty() ? key : table + "." + key;
          byKey.putIfAbsent(full, line);
        }
      }
      return new Lines(byKey);
    }

    private static String unquote(String dotted) {
      StringBuilder b = new StringBuilder();
      for (String part : dotted.split("\\.")) {
        String p = part.strip();
        if (p.length() >= 2 && (p.startsWith("\"") && p.endsWith("\"") || p.startsWith("'") && p.endsWith("'"))) {
          p = p.substring(1, p.length() - 1);
        }
        if (b.length() > 0) b.append('.');
        b.append(p);
      }
      return b.toString();
    }

    /** The line of {@code key}, else of its closest enclosing key or table; 0 when unknown. */
    int lineOf(String key) {
      for (String k = key; !k.isEmpty(); ) {
        Integer l = byKey.get(k);
        if (l != null) return l;
        int dot = Math.max(k.lastIndexOf('.'), k.lastIndexOf('['));
        if (dot < 0) break;
        k = k.substring(0, dot);
      }
      return 0;
    }
  }
}

package dev.basalt.image.build;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * A declarative OS image spec ({@code os.yaml}); see {@code examples/os.schema.json}. Every value is checked
 * while parsing and errors name the file and line: {@code os.yaml:12: mode '0999' of /etc/x is not octal}.
 * Relative {@code source} paths are resolved against the spec's directory and must exist.
 */
public record BuildSpec(
    String base,
    List<String> layers,
    List<FileSpec> files,
    List<User> users,
    List<Group> groups,
    List<String> kernelArgs,
    List<String> systemdEnable,
    List<String> systemdDisable,
    List<Health> health,
    Optional<Fleet> fleet,
    Optional<Signing> signing,
    Map<String, String> labels,
    Map<String, String> annotations) {

  private static final Pattern NAME = Pattern.compile("[a-z_][a-z0-9_-]{0,31}");
  private static final Pattern CRYPT = Pattern.compile("\\$[0-9a-z]+\\$[^:\\s]+");
  private static final Pattern UNIT = Pattern.compile("[A-Za-z0-9:_.@\\\\-]+\\.(service|socket|timer|path|mount|target)");
  private static final Pattern OWNER = Pattern.compile("(\\d{1,10}):(\\d{1,10})");
  private static final Pattern MODE = Pattern.compile("0?[0-7]{3,4}");

  /** A file put into the image: inline {@code contents} or a host {@code source} file. */
  public record FileSpec(String path, Optional<String> contents, Optional<Path> source, int mode, long uid, long gid) {}

  /**
   * A user; {@code password} is a crypt(3) hash; without {@code uid} the next free one from 1000 is used.
   * {@code where} ({@code os.yaml:12}) locates it in the spec for errors found against the base image.
   */
  public record User(String name, Optional<Long> uid, Optional<String> password, List<String> sshKeys,
      List<String> groups, String shell, String where) {}

  /** A group; without {@code gid} the next free one from 1000 is used; {@code where} as for {@link User}. */
  public record Group(String name, Optional<Long> gid, String where) {}

  /** A health check: a command run after boot; {@code required} ones gate the boot as good. */
  public record Health(String name, String command, boolean required) {}

  /**
   * Fleet enrollment: the device listener ({@code https://}), its CA certificate (a host file, pinned by the node),
   * where the node finds its token. Written to {@code /etc/basalt/agent.toml} as the agent's fleet keys.
   */
  public record Fleet(String server, Path ca, String tokenFile) {}

  /** The public key images for this node must be signed with (a host file). */
  public record Signing(Path publicKey) {}

  public BuildSpec {
    layers = List.copyOf(layers);
    files = List.copyOf(files);
    users = List.copyOf(users);
    groups = List.copyOf(groups);
    kernelArgs = List.copyOf(kernelArgs);
    systemdEnable = List.copyOf(systemdEnable);
    systemdDisable = List.copyOf(systemdDisable);
    health = List.copyOf(health);
    labels = Map.copyOf(labels);
    annotations = Map.copyOf(annotations);
  }

  public BuildSpec withBase(String newBase) {
    return new BuildSpec(newBase, layers, files, users, groups, kernelArgs, systemdEnable, systemdDisable, health,
        fleet, signing, labels, annotations);
  }

  public static BuildSpec parse(Path file) throws IOException {
    if (!Files.isRegularFile(file)) throw new SpecException(file + ": no such spec file");
    Path dir = file.toAbsolutePath().getParent();
    return parse(Files.readString(file, StandardCharsets.UTF_8), file.toString(), dir);
  }

  /** Parses spec text; {@code dir} resolves relative {@code source} paths. */
  public static BuildSpec parse(String text, String sourceName, Path dir) throws SpecException {
    SpecNode root = SpecNode.parse(text, sourceName);
    Map<String, SpecNode> m = root.map("the spec", Set.of("base", "layers", "files", "users", "groups", "kernel",
        "systemd", "health", "fleet", "signing", "labels", "annotations"));
    SpecNode base = m.get("base");
    if (base == null) throw root.error("'base' is required (an image reference)");
    String baseRef = base.string("base");
    List<String> layers = m.containsKey("layers") ? m.get("layers").strings("layers") : List.of();

    List<FileSpec> files = new ArrayList<>();
    Set<String> paths = new HashSet<>();
    if (m.containsKey("files")) {
      for (SpecNode n : m.get("files").list("files")) {
        Map<String, SpecNode> f = n.map("a files entry", Set.of("path", "contents", "source", "mode", "owner"));
        if (!f.containsKey("path")) throw n.error("a files entry needs 'path'");
        String path = f.get("path").string("path");
        if (!path.startsWith("/") || path.equals("/") || path.contains("//") || path.endsWith("/")
            || List.of(path.substring(1).split("/")).stream().anyMatch(c -> c.equals("..") || c.equals("."))) {
          throw f.get("path").error("path '" + path + "' must be absolute and normalized, without '.' or '..'");
        }
        if (!paths.add(path)) throw f.get("path").error("file " + path + " is listed twice");
        Optional<String> contents = Optional.empty();
        Optional<Path> source = Optional.empty();
        if (f.containsKey("contents") == f.containsKey("source")) {
          throw n.error("file " + path + " needs exactly one of 'contents' or 'source'");
        }
        if (f.containsKey("contents")) contents = Optional.of(f.get("contents").string("contents of " + path));
        else {
          String s = f.get("source").string("source of " + path);
          Path p = dir.resolve(s).normalize();
          if (!Files.isRegularFile(p)) throw f.get("source").error("source '" + s + "' of " + path + " does not exist (looked for " + p + ")");
          source = Optional.of(p);
        }
        int mode = 0644;
        if (f.containsKey("mode")) {
          String s = f.get("mode").string("mode of " + path);
          if (!MODE.matcher(s).matches()) {
            throw f.get("mode").error("mode '" + s + "' of " + path + " must be octal like '0644' (quote it in YAML)");
          }
          mode = Integer.parseInt(s, 8);
        }
        long uid = 0, gid = 0;
        if (f.containsKey("owner")) {
          String s = f.get("owner").string("owner of " + path);
          var om = OWNER.matcher(s);
          if (!om.matches() || Long.parseLong(om.group(1)) > 0xFFFF_FFFFL || Long.parseLong(om.group(2)) > 0xFFFF_FFFFL) {
            throw f.get("owner").error("owner '" + s + "' of " + path + " must be numeric 'uid:gid'");
          }
          uid = Long.parseLong(om.group(1));
          gid = Long.parseLong(om.group(2));
        }
        files.add(new FileSpec(path, contents, source, mode, uid, gid));
      }
    }

    List<Group> groups = new ArrayList<>();
    Set<String> groupNames = new HashSet<>();
    if (m.containsKey("groups")) {
      for (SpecNode n : m.get("groups").list("groups")) {
        Map<String, SpecNode> g = n.map("a groups entry", Set.of("name", "gid"));
        String name = name(n, g, "group");
        if (!groupNames.add(name)) throw n.error("group '" + name + "' is listed twice");
        groups.add(new Group(name, g.containsKey("gid") ? Optional.of(id(g.get("gid"), "gid of " + name)) : Optional.empty(),
            sourceName + ":" + n.line()));
      }
    }

    List<User> users = new ArrayList<>();
    Set<String> userNames = new HashSet<>();
    if (m.containsKey("users")) {
      for (SpecNode n : m.get("users").list("users")) {
        Map<String, SpecNode> u = n.map("a users entry", Set.of("name", "uid", "password", "ssh_keys", "groups", "shell"));
        String name = name(n, u, "user");
        if (!userNames.add(name)) throw n.error("user '" + name + "' is listed twice");
        Optional<String> password = Optional.empty();
        if (u.containsKey("password")) {
          String p = u.get("password").string("password of " + name);
          if (!CRYPT.matcher(p).matches()) {
            throw u.get("password").error("password of user '" + name + "' must be a crypt(3) hash such as '$6$salt$...'"
                + " (make one with: openssl passwd -6), not plain text");
          }
          password = Optional.of(p);
        }
        List<String> keys = u.containsKey("ssh_keys") ? u.get("ssh_keys").strings("ssh_keys of " + name) : List.of();
        for (String k : keys) {
          if (k.isBlank() || k.contains("\n")) throw u.get("ssh_keys").error("each ssh key of '" + name + "' must be one line");
        }
        List<String> ug = u.containsKey("groups") ? u.get("groups").strings("groups of " + name) : List.of();
        for (String g : ug) if (!NAME.matcher(g).matches()) throw u.get("groups").error("group '" + g + "' of user '" + name + "' is not a valid name");
        String shell = u.containsKey("shell") ? u.get("shell").string("shell of " + name) : "/bin/bash";
        if (!shell.startsWith("/")) throw u.get("shell").error("shell of '" + name + "' must be an absolute path");
        users.add(new User(name, u.containsKey("uid") ? Optional.of(id(u.get("uid"), "uid of " + name)) : Optional.empty(),
            password, keys, ug, shell, sourceName + ":" + n.line()));
      }
    }

    List<String> kargs = List.of();
    if (m.containsKey("kernel")) {
      Map<String, SpecNode> k = m.get("kernel").map("kernel", Set.of("args"));
      if (k.containsKey("args")) kargs = k.get("args").strings("kernel.args");
      for (String a : kargs) if (a.isBlank() || a.chars().anyMatch(Character::isWhitespace)) {
        throw k.get("args").error("kernel argument '" + a + "' must be one word (one list entry per argument)");
      }
    }

    List<String> enable = List.of(), disable = List.of();
    if (m.containsKey("systemd")) {
      Map<String, SpecNode> s = m.get("systemd").map("systemd", Set.of("enable", "disable"));
      if (s.containsKey("enable")) enable = units(s.get("enable"), "systemd.enable");
      if (s.containsKey("disable")) disable = units(s.get("disable"), "systemd.disable");
    }

    List<Health> health = new ArrayList<>();
    if (m.containsKey("health")) {
      Set<String> names = new HashSet<>();
      for (SpecNode n : m.get("health").list("health")) {
        Map<String, SpecNode> h = n.map("a health entry", Set.of("name", "command", "required"));
        if (!h.containsKey("name")) throw n.error("a health check needs a 'name'");
        String name = h.get("name").string("health check name");
        if (!name.matches("[A-Za-z0-9][A-Za-z0-9_.-]*")) throw h.get("name").error("health check name '" + name + "' may only use letters, digits, '_', '.', '-'");
        if (!names.add(name)) throw h.get("name").error("health check '" + name + "' is listed twice");
        if (!h.containsKey("command")) throw n.error("health check '" + name + "' needs a 'command'");
        boolean required = !h.containsKey("required") || h.get("required").bool("required of " + name);
        health.add(new Health(name, h.get("command").string("command of " + name), required));
      }
    }

    Optional<Fleet> fleet = Optional.empty();
    if (m.containsKey("fleet")) {
      SpecNode fn = m.get("fleet");
      Map<String, SpecNode> f = fn.map("fleet", Set.of("server", "ca", "token_file"));
      // The agent talks to the device listener over TLS and pins the fleet CA (FleetConfig): both are needed.
      if (!f.containsKey("server")) throw fn.error("fleet needs 'server' (the device listener, https://HOST:PORT)");
      String server = f.get("server").string("fleet.server");
      if (!server.matches("https://[^\\s/]+(/\\S*)?")) throw f.get("server").error("fleet.server '" + server + "' is not an https:// URL (the device listener)");
      if (!f.containsKey("ca")) throw fn.error("fleet needs 'ca' (the fleet CA certificate the node pins: the server's ca.pem)");
      Path ca = hostFile(f.get("ca"), dir, "fleet.ca");
      String token = f.containsKey("token_file") ? f.get("token_file").string("fleet.token_file") : "/etc/basalt/fleet-token";
      if (!token.startsWith("/")) throw f.get("token_file").error("fleet.token_file must be an absolute path on the node");
      fleet = Optional.of(new Fleet(server, ca, token));
    }

    Optional<Signing> signing = Optional.empty();
    if (m.containsKey("signing")) {
      SpecNode sn = m.get("signing");
      Map<String, SpecNode> s = sn.map("signing", Set.of("public_key"));
      if (!s.containsKey("public_key")) throw sn.error("signing needs 'public_key' (a cosign public key file)");
      signing = Optional.of(new Signing(hostFile(s.get("public_key"), dir, "signing.public_key")));
    }

    Map<String, String> labels = m.containsKey("labels") ? m.get("labels").stringMap("labels") : Map.of();
    Map<String, String> annotations = m.containsKey("annotations") ? m.get("annotations").stringMap("annotations") : Map.of();
    return new BuildSpec(baseRef, layers, files, users, groups, kargs, enable, disable, health, fleet, signing,
        labels, annotations);
  }

  private static String name(SpecNode n, Map<String, SpecNode> m, String what) throws SpecException {
    if (!m.containsKey("name")) throw n.error("a " + what + " needs a 'name'");
    String name = m.get("name").string(what + " name");
    if (!NAME.matcher(name).matches()) {
      throw m.get("name").error(what + " name '" + name + "' is not valid ([a-z_][a-z0-9_-]*, at most 32)");
    }
    return name;
  }

  private static long id(SpecNode n, String what) throws SpecException {
    String s = n.string(what);
    try {
      long v = Long.parseLong(s);
      if (v >= 0 && v < 65534) return v;
    } catch (NumberFormatException ignored) {
      // reported below
    }
    throw n.error(what + " must be a number 0..65533, got '" + s + "'");
  }

  private static List<String> units(SpecNode n, String what) throws SpecException {
    List<String> out = n.strings(what);
    for (String u : out) {
      if (!UNIT.matcher(u).matches()) throw n.error("'" + u + "' in " + what + " is not a unit name like 'sshd.service'");
    }
    return out;
  }

  private static Path hostFile(SpecNode n, Path dir, String what) throws SpecException {
    String s = n.string(what);
    Path p = dir.resolve(s).normalize();
    if (!Files.isRegularFile(p)) throw n.error(what + " '" + s + "' does not exist (looked for " + p + ")");
    return p;
  }
}

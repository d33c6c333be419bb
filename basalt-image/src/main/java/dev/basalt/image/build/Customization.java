package dev.basalt.image.build;

import dev.basalt.fs.tree.Metadata;
import dev.basalt.fs.tree.TreeEntry;
import dev.basalt.fs.tree.TreeSink;
import dev.basalt.oci.merge.LayerWriter;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * The customization layer as a sorted tree: spec files, account files with the spec's users and groups, SSH keys,
 * kargs.d, systemd enable/mask symlinks, health checks, fleet and signing configuration. Every entry gets the
 * same mtime, so the layer depends only on the spec, its source files and the base.
 */
final class Customization {
  private final TreeMap<String, Object[]> entries = new TreeMap<>(LayerWriter.PATH_ORDER);
  private final BaseFacts base;
  private final long mtime;

  private Customization(BaseFacts base, long mtime) {
    this.base = base;
    this.mtime = mtime;
  }

  static Customization of(BuildSpec spec, BaseFacts base, long mtime) throws IOException {
    Customization c = new Customization(base, mtime);
    c.apply(spec);
    return c;
  }

  /** True when the spec touches accounts, so the base's /etc/passwd etc. are needed. */
  static boolean needsAccounts(BuildSpec spec) {
    return !spec.users().isEmpty() || !spec.groups().isEmpty();
  }

  void writeTo(TreeSink sink) throws IOException {
    for (Object[] e : entries.values()) {
      TreeEntry entry = (TreeEntry) e[0];
      sink.add(entry, e[1] == null ? null : new ByteArrayInputStream((byte[]) e[1]));
    }
    sink.finish();
  }

  boolean isEmpty() { return entries.isEmpty(); }

  private void apply(BuildSpec spec) throws IOException {
    accounts(spec);
    if (!spec.kernelArgs().isEmpty()) {
      StringBuilder sb = new StringBuilder("# Written by basalt image build.\nkargs = [");
      for (int i = 0; i < spec.kernelArgs().size(); i++) {
        sb.append(i == 0 ? "" : ", ").append(tomlString(spec.kernelArgs().get(i)));
      }
      file("usr/lib/bootc/kargs.d/50-basalt-build.toml", sb.append("]\n").toString().getBytes(StandardCharsets.UTF_8), 0644, 0, 0);
    }
    for (String unit : spec.systemdEnable()) {
      String wants = unit.endsWith(".socket") ? "sockets.target.wants" : unit.endsWith(".timer") ? "timers.target.wants"
          : "multi-user.target.wants";
      symlink("etc/systemd/system/" + wants + "/" + unit, "/usr/lib/systemd/system/" + unit);
    }
    // Disabling a unit the base enabled needs the base's enablement links; masking works whatever they are.
    for (String unit : spec.systemdDisable()) symlink("etc/systemd/system/" + unit, "/dev/null");
    for (BuildSpec.Health h : spec.health()) {
      String dir = "usr/lib/basalt/health.d/" + (h.required() ? "required.d" : "wanted.d");
      file(dir + "/" + h.name(), ("#!/bin/sh\n# Health check from the build spec.\n" + h.command() + "\n")
          .getBytes(StandardCharsets.UTF_8), 0755, 0, 0);
    }
    // The fleet keys go where the agent reads them (FleetConfig in /etc/basalt/agent.toml); a spec file of that path
    // adds its own keys (mode, tls-verify, ...) below them: top-level keys first keeps any TOML table of it valid.
    String agentToml = null;
    if (spec.fleet().isPresent()) {
      BuildSpec.Fleet f = spec.fleet().get();
      StringBuilder sb = new StringBuilder("# Fleet enrollment, written by basalt image build (read by basalt-agent).\n");
      sb.append("server = ").append(tomlString(f.server())).append('\n');
      sb.append("enrollment-token-file = ").append(tomlString(f.tokenFile())).append('\n');
      sb.append("ca = ").append(tomlString("/" + FLEET_CA)).append('\n');
      agentToml = sb.toString();
      file(FLEET_CA, Files.readAllBytes(f.ca()), 0644, 0, 0);
    }
    if (spec.signing().isPresent()) {
      file("etc/basalt/keys/image-signing.pub", Files.readAllBytes(spec.signing().get().publicKey()), 0644, 0, 0);
    }
    for (BuildSpec.FileSpec f : spec.files()) {
      byte[] content = f.contents().isPresent() ? f.contents().get().getBytes(StandardCharsets.UTF_8)
          : Files.readAllBytes(f.source().orElseThrow());
      if (agentToml != null && f.path().equals("/" + AGENT_TOML)) {
        content = (agentToml + "\n" + agentKeys(content)).getBytes(StandardCharsets.UTF_8);
        agentToml = null;
      }
      file(f.path().substring(1), content, f.mode(), f.uid(), f.gid());
    }
    if (agentToml != null) file(AGENT_TOML, agentToml.getBytes(StandardCharsets.UTF_8), 0644, 0, 0);
  }

  static final String AGENT_TOML = "etc/basalt/agent.toml";
  static final String FLEET_CA = "etc/basalt/fleet-ca.pem";

  /** The spec's own agent.toml beside a fleet section: valid TOML that leaves the fleet's keys (and image) alone. */
  private static String agentKeys(byte[] content) throws SpecException {
    String text = new String(content, StandardCharsets.UTF_8);
    tools.jackson.databind.JsonNode root;
    try {
      root = tools.jackson.dataformat.toml.TomlMapper.builder().build().readTree(content);
    } catch (tools.jackson.core.JacksonException e) {
      throw new SpecException("files: /" + AGENT_TOML + " is not valid TOML: " + e.getOriginalMessage());
    }
    if (root != null) {
      for (String k : List.of("server", "enrollment-token-file", "ca", "image")) {
        if (root.has(k)) {
          throw new SpecException("files: /" + AGENT_TOML + " sets '" + k + "', which the spec's fleet section writes"
              + (k.equals("image") ? " (with a fleet server, the server assigns the image)" : "") + ": set it under fleet: only");
        }
      }
    }
    return text.endsWith("\n") || text.isEmpty() ? text : text + "\n";
  }

  private void accounts(BuildSpec spec) throws IOException {
    if (!needsAccounts(spec)) return;
    List<String[]> passwd = table("etc/passwd");
    List<String[]> group = table("etc/group");
    List<String[]> shadow = table("etc/shadow");
    List<String[]> gshadow = table("etc/gshadow");
    Set<Long> uids = new HashSet<>(), gids = new HashSet<>();
    for (String[] p : passwd) if (p.length > 2) uids.add(parseId(p[2]));
    for (String[] g : group) if (g.length > 2) gids.add(parseId(g[2]));
    for (BuildSpec.Group g : spec.groups()) {
      if (find(group, g.name()) != null) throw new SpecException(g.where() + ": group '" + g.name() + "' already exists in the base image");
      long gid = g.gid().orElseGet(() -> next(gids));
      if (!gids.add(gid)) throw new SpecException(g.where() + ": gid " + gid + " of group '" + g.name() + "' is already used in the base image");
      group.add(new String[] {g.name(), "x", Long.toString(gid), ""});
      gshadow.add(new String[] {g.name(), "!", "", ""});
    }
    for (BuildSpec.User u : spec.users()) {
      String home;
      long uid, gid;
      if (u.name().equals("root")) {
        home = "root";
        uid = 0;
        gid = 0;
      } else {
        if (find(passwd, u.name()) != null) throw new SpecException(u.where() + ": user '" + u.name() + "' already exists in the base image");
        uid = u.uid().orElseGet(() -> next(uids));
        if (!uids.add(uid)) throw new SpecException(u.where() + ": uid " + uid + " of user '" + u.name() + "' is already used");
        gid = uid;
        if (!gids.add(gid)) gid = next(gids);
        gids.add(gid);
        home = "var/home/" + u.name();
        passwd.add(new String[] {u.name(), "x", Long.toString(uid), Long.toString(gid), "", "/" + home, u.shell()});
        group.add(new String[] {u.name(), "x", Long.toString(gid), ""});
        gshadow.add(new String[] {u.name(), "!", "", ""});
        shadow.add(new String[] {u.name(), "!", "", "0", "99999", "7", "", "", ""});
        dir(home, Metadata.of(0700, uid, gid, mtime));
      }
      if (u.password().isPresent()) {
        String[] s = find(shadow, u.name());
        if (s == null) throw new SpecException(u.where() + ": user '" + u.name() + "' has no line in the base image's /etc/shadow");
        s[1] = u.password().get();
      }
      for (String g : u.groups()) {
        String[] row = find(group, g);
        if (row == null) throw new SpecException(u.where() + ": group '" + g + "' of user '" + u.name() + "' exists neither in the base image nor in the spec");
        while (row.length < 4) row = java.util.Arrays.copyOf(row, 4);
        String members = row[3] == null ? "" : row[3];
        row[3] = members.isEmpty() ? u.name() : members + "," + u.name();
        replace(group, g, row);
      }
      if (!u.sshKeys().isEmpty()) {
        dir(home + "/.ssh", Metadata.of(0700, uid, gid, mtime));
        file(home + "/.ssh/authorized_keys", (String.join("\n", u.sshKeys()) + "\n").getBytes(StandardCharsets.UTF_8), 0600, uid, gid);
      }
    }
    file("etc/passwd", join(passwd), 0644, 0, 0);
    file("etc/group", join(group), 0644, 0, 0);
    file("etc/shadow", join(shadow), 0640, 0, shadowGid(group));
    file("etc/gshadow", join(gshadow), 0640, 0, shadowGid(group));
  }

  private static long shadowGid(List<String[]> group) {
    String[] s = find(group, "shadow");
    return s == null ? 0 : parseId(s[2]);
  }

  private List<String[]> table(String path) {
    byte[] b = base.accountFiles().get(path);
    List<String[]> rows = new ArrayList<>();
    if (b == null) return rows;
    for (String line : new String(b, StandardCharsets.UTF_8).split("\n")) if (!line.isEmpty()) rows.add(line.split(":", -1));
    return rows;
  }

  private static String[] find(List<String[]> rows, String name) {
    for (String[] r : rows) if (r[0].equals(name)) return r;
    return null;
  }

  private static void replace(List<String[]> rows, String name, String[] row) {
    for (int i = 0; i < rows.size(); i++) if (rows.get(i)[0].equals(name)) rows.set(i, row);
  }

  private static byte[] join(List<String[]> rows) {
    StringBuilder sb = new StringBuilder();
    for (String[] r : rows) sb.append(String.join(":", r)).append('\n');
    return sb.toString().getBytes(StandardCharsets.UTF_8);
  }

  private static long parseId(String s) {
    try {
      return Long.parseLong(s);
    } catch (NumberFormatException e) {
      return -1;
    }
  }

  private static long next(Set<Long> used) {
    long id = 1000;
    while (used.contains(id)) id++;
    return id;
  }

  private void file(String path, byte[] content, int mode, long uid, long gid) {
    parents(path);
    entries.put(path, new Object[] {new TreeEntry.RegularFile(path, Metadata.of(mode, uid, gid, mtime), content.length), content});
  }

  private void symlink(String path, String target) {
    parents(path);
    entries.put(path, new Object[] {new TreeEntry.Symlink(path, Metadata.of(0777, 0, 0, mtime), target), null});
  }

  private void dir(String path, Metadata m) {
    parents(path);
    entries.put(path, new Object[] {new TreeEntry.Directory(path, m), null});
  }

  /** Parents are written so extraction never invents them; existing ones keep the base's owner and mode. */
  private void parents(String path) {
    int i = path.lastIndexOf('/');
    if (i < 0) return;
    String parent = path.substring(0, i);
    if (entries.containsKey(parent)) return;
    parents(parent);
    Metadata m = base.directories().get(parent);
    entries.put(parent, new Object[] {new TreeEntry.Directory(parent,
        m != null ? m : Metadata.of(0755, 0, 0, mtime)), null});
  }

  private static String tomlString(String s) {
    StringBuilder sb = new StringBuilder("\"");
    for (char c : s.toCharArray()) {
      switch (c) {
        case '"' -> sb.append("\\\"");
        case '\\' -> sb.append("\\\\");
        case '\n' -> sb.append("\\n");
        default -> { if (c < 0x20) sb.append(String.format("\\u%04x", (int) c)); else sb.append(c); }
      }
    }
    return sb.append('"').toString();
  }

  static Map<String, Object[]> debugEntries(Customization c) { return c.entries; }
}

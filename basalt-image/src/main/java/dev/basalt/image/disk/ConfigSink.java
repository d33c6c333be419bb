package dev.basalt.image.disk;

import dev.basalt.fs.tree.Metadata;
import dev.basalt.fs.tree.TreeEntry;
import dev.basalt.fs.tree.TreeException;
import dev.basalt.fs.tree.TreeSink;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Applies a {@link DiskConfig} to a tree on its way to the filesystem writer: the account files,
 * {@code /etc/hostname} and {@code authorized_keys} files are held back as they pass, then
 * written changed (or created) at the end, with the image's own ownership and modes. Homes of new
 * users are made in {@code /var/home/<name>}: the image's /var seeds the var partition on first
 * boot (and preinit binds /var/home on /home).
 */
final class ConfigSink implements TreeSink {
  private static final long HELD_MAX = 16L << 20;
  private static final int FIRST_UID = 1000;
  private static final int LAST_UID = 59999;

  private final TreeSink down;
  private final DiskConfig config;
  private final Set<String> watched = new HashSet<>();
  private final Map<String, Held> held = new LinkedHashMap<>();
  private final List<TreeEntry.Hardlink> heldLinks = new ArrayList<>();
  private final Set<String> seenDirs = new HashSet<>();
  private final Map<String, Long> assigned = new LinkedHashMap<>();
  private boolean hasBash;

  private record Held(TreeEntry.RegularFile entry, byte[] content) {}

  ConfigSink(TreeSink down, DiskConfig config) {
    this.down = down;
    this.config = config;
    if (!config.users().isEmpty()) watched.addAll(List.of("etc/passwd", "etc/shadow", "etc/group", "etc/gshadow"));
    if (config.hostname().isPresent()) watched.add("etc/hostname");
    for (DiskConfig.User u : config.users()) if (u.key().isPresent()) watched.add(keysPath(u));
  }

  /** The uid each non-root user got; valid after {@link #finish()}. */
  Map<String, Long> assignedUids() {
    return Map.copyOf(assigned);
  }

  static boolean isNoop(DiskConfig c) {
    return c.users().isEmpty() && c.hostname().isEmpty();
  }

  private static String home(DiskConfig.User u) {
    return u.isRoot() ? "root" : "var/home/" + u.name();
  }

  private static String keysPath(DiskConfig.User u) {
    return home(u) + "/.ssh/authorized_keys";
  }

  @Override
  public void add(TreeEntry entry, InputStream content) throws IOException {
    String path = entry.path();
    if (path.equals("usr/bin/bash") || path.equals("bin/bash")) hasBash = true;
    if (entry instanceof TreeEntry.Directory) seenDirs.add(path);
    if (!watched.contains(path)) {
      if (entry instanceof TreeEntry.Hardlink h && watched.contains(h.target())) {
        heldLinks.add(h);
        return;
      }
      down.add(entry, content);
      return;
    }
    if (!(entry instanceof TreeEntry.RegularFile f)) {
      throw new TreeException(path, "is a " + kind(entry) + " in the image, so the disk config (users, hostname)"
          + " cannot be applied to it; make it a regular file");
    }
    if (f.size() > HELD_MAX) throw new TreeException(path, "is " + f.size() + " bytes; too large to edit");
    byte[] bytes = content.readNBytes((int) f.size());
    if (bytes.length != f.size()) throw new TreeException(path, "content ended after " + bytes.length + " of " + f.size() + " bytes");
    held.put(path, new Held(f, bytes));
  }

  private static String kind(TreeEntry e) {
    return e.getClass().getSimpleName().replaceAll("([a-z])([A-Z])", "$1 $2").toLowerCase(java.util.Locale.ROOT);
  }

  @Override
  public void finish() throws IOException {
    Map<String, String> out = new LinkedHashMap<>();
    config.hostname().ifPresent(h -> out.put("etc/hostname", h + "\n"));
    List<TreeEntry> newEntries = new ArrayList<>();
    if (!config.users().isEmpty()) accounts(out, newEntries);
    Set<String> emitted = new HashSet<>();
    for (TreeEntry e : newEntries) {
      if (e instanceof TreeEntry.Directory && seenDirs.contains(e.path()) || !emitted.add(e.path())) continue;
      if (e instanceof TreeEntry.RegularFile f) {
        String text = out.remove(f.path());
        byte[] b = text.getBytes(StandardCharsets.UTF_8);
        Held h = held.get(f.path());
        Metadata m = h != null ? h.entry.metadata() : f.metadata();
        down.add(new TreeEntry.RegularFile(f.path(), m, b.length), new ByteArrayInputStream(b));
      } else {
        down.add(e, null);
      }
    }
    for (var e : out.entrySet()) {
      byte[] b = e.getValue().getBytes(StandardCharsets.UTF_8);
      Held h = held.get(e.getKey());
      Metadata m = h != null ? h.entry.metadata() : Metadata.of(0644, 0, 0, 0);
      down.add(new TreeEntry.RegularFile(e.getKey(), m, b.length), new ByteArrayInputStream(b));
    }
    for (TreeEntry.Hardlink l : heldLinks) down.add(l, null);
    down.finish();
  }

  private String text(String path) throws TreeException {
    Held h = held.get(path);
    if (h == null) return null;
    return new String(h.content, StandardCharsets.UTF_8);
  }

  private String require(String path) throws TreeException {
    String t = text(path);
    if (t == null) {
      throw new TreeException(path, "missing from the image, so the users of the disk config cannot be added"
          + " (the image needs /etc/passwd, /etc/shadow and /etc/group)");
    }
    return t;
  }

  private void accounts(Map<String, String> out, List<TreeEntry> newEntries) throws IOException {
    List<String[]> passwd = fields(require("etc/passwd"));
    List<String[]> group = fields(require("etc/group"));
    List<String[]> shadow = fields(require("etc/shadow"));
    String gshadowText = text("etc/gshadow");
    List<String[]> gshadow = gshadowText == null ? null : fields(gshadowText);
    Set<Long> uids = new HashSet<>();
    Set<Long> gids = new HashSet<>();
    for (String[] p : passwd) if (p.length > 2) uids.add(number(p[2]));
    for (String[] g : group) if (g.length > 2) gids.add(number(g[2]));
    String shell = hasBash ? "/bin/bash" : "/bin/sh";
    for (DiskConfig.User u : config.users()) {
      String[] existing = find(passwd, u.name());
      long uid;
      long gid;
      if (u.isRoot()) {
        if (existing == null) throw new TreeException("etc/passwd", "has no root user");
        uid = 0;
        gid = 0;
      } else if (existing != null) {
        // a node re-applying its config to an update whose image now has this user: same uid or nothing
        long has = existing.length > 2 ? number(existing[2]) : -1;
        if (u.uid().isEmpty()) {
          throw new TreeException("etc/passwd", "user '" + u.name() + "' already exists in the image; the disk config"
              + " adds new users (and configures root) only");
        }
        if (has != u.uid().getAsLong()) {
          throw new TreeException("etc/passwd", "user '" + u.name() + "' exists in the image with uid " + existing[2]
              + ", but the config gives it uid " + u.uid().getAsLong() + " (its files on /var belong to that uid)");
        }
        uid = has;
        gid = existing.length > 3 ? number(existing[3]) : has;
        assigned.put(u.name(), uid);
      } else {
        if (u.uid().isPresent()) {
          uid = u.uid().getAsLong();
          String[] user = byNumber(passwd, uid);
          String[] grp = byNumber(group, uid);
          if (user != null || grp != null) {
            throw new TreeException(user != null ? "etc/passwd" : "etc/group", (user != null ? "uid " : "gid ") + uid
                + " of user '" + u.name() + "' is already taken by '" + (user != null ? user : grp)[0] + "' in the image");
          }
        } else {
          uid = FIRST_UID;
          while (uids.contains(uid) || gids.contains(uid)) {
            if (++uid > LAST_UID) throw new TreeException("etc/passwd", "no free uid between " + FIRST_UID + " and " + LAST_UID);
          }
        }
        gid = uid;
        uids.add(uid);
        gids.add(gid);
        assigned.put(u.name(), uid);
        String home = "/" + home(u);
        passwd.add(new String[] {u.name(), "x", Long.toString(uid), Long.toString(gid), "", home, shell});
        group.add(new String[] {u.name(), "x", Long.toString(gid), ""});
        if (gshadow != null) gshadow.add(new String[] {u.name(), "!", "", ""});
        shadow.add(new String[] {u.name(), "*", "", "0", "99999", "7", "", "", ""});
        if (!seenDirs.contains("var/home")) newEntries.add(new TreeEntry.Directory("var/home", Metadata.of(0755, 0, 0, 0)));
        newEntries.add(new TreeEntry.Directory(home(u), Metadata.of(0700, uid, gid, 0)));
      }
      if (u.password().isPresent()) {
        String[] s = find(shadow, u.name());
        if (s == null) throw new TreeException("etc/shadow", "has no line for user '" + u.name() + "'");
        s[1] = u.password().get();
      }
      for (String g : u.groups()) {
        String[] line = find(group, g);
        if (line == null) {
          throw new TreeException("etc/group", "group '" + g + "' of user '" + u.name() + "' does not exist in the image");
        }
        addMember(line, 3, u.name());
        String[] gs = gshadow == null ? null : find(gshadow, g);
        if (gs != null) addMember(gs, 3, u.name());
      }
      if (u.key().isPresent()) {
        String keys = keysPath(u);
        String ssh = home(u) + "/.ssh";
        newEntries.add(new TreeEntry.Directory(ssh, Metadata.of(0700, uid, gid, 0)));
        String before = text(keys);
        String body = before == null ? "" : before.endsWith("\n") || before.isEmpty() ? before : before + "\n";
        out.put(keys, body + u.key().get() + "\n");
        if (held.get(keys) == null) {
          newEntries.add(new TreeEntry.RegularFile(keys, Metadata.of(0600, uid, gid, 0), 0));
        }
      }
    }
    out.put("etc/passwd", join(passwd));
    out.put("etc/group", join(group));
    out.put("etc/shadow", join(shadow));
    if (gshadow != null) out.put("etc/gshadow", join(gshadow));
  }

  private static void addMember(String[] line, int index, String name) {
    String members = line.length > index ? line[index] : "";
    Set<String> set = new LinkedHashSet<>(members.isEmpty() ? List.of() : List.of(members.split(",")));
    set.add(name);
    line[index] = String.join(",", set);
  }

  private static String[] byNumber(List<String[]> lines, long id) {
    for (String[] l : lines) if (l.length > 2 && number(l[2]) == id) return l;
    return null;
  }

  private static String[] find(List<String[]> lines, String name) {
    for (String[] l : lines) if (l.length > 0 && l[0].equals(name)) return l;
    return null;
  }

  private static List<String[]> fields(String text) {
    List<String[]> out = new ArrayList<>();
    for (String line : text.split("\n")) {
      if (line.isEmpty()) continue;
      String[] f = line.split(":", -1);
      out.add(f.length >= 4 ? f : java.util.Arrays.copyOf(f, 4));
    }
    for (String[] f : out) for (int i = 0; i < f.length; i++) if (f[i] == null) f[i] = "";
    return out;
  }

  private static long number(String s) {
    try {
      return Long.parseLong(s.trim());
    } catch (NumberFormatException e) {
      return -1;
    }
  }

  private static String join(List<String[]> lines) {
    StringBuilder b = new StringBuilder();
    for (String[] l : lines) b.append(String.join(":", l)).append('\n');
    return b.toString();
  }
}

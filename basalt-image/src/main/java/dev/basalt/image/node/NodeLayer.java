package dev.basalt.image.node;

import dev.basalt.fs.tree.Metadata;
import dev.basalt.fs.tree.TreeEntry;
import dev.basalt.fs.tree.TreePaths;
import dev.basalt.fs.tree.TreeSink;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Stream;

/**
 * The Basalt node layer (ARCHITECTURE.md §6): what Basalt adds to every OS image so that a machine
 * boots from a read-only root, assesses its boots and updates itself.
 *
 * <ul>
 *   <li>{@code /usr/lib/basalt/preinit} — PID 1 before systemd: /var, /etc overlay, /tmp;
 *   <li>{@code basalt-health.service}, {@code basalt-bless.service},
 *       {@code basalt-health-failed.service} and their scripts — health checks gate
 *       {@code boot-complete.target}; the boot entry is blessed after it, a failed required check
 *       reboots to spend a try; default checks in {@code /usr/lib/basalt/health.d};
 *   <li>a systemd watchdog drop-in ({@code system.conf.d/50-basalt-watchdog.conf});
 *   <li>optionally the agent: a jlinked runtime in {@code /usr/lib/basalt/runtime} (see
 *       {@link AgentRuntime}) and its jars in {@code /usr/lib/basalt/lib}.
 * </ul>
 *
 * <p>The layer is deterministic: entries come sorted by path, owned by root, with one fixed
 * mtime, and the same inputs give the same entries and bytes.
 */
public final class NodeLayer {
  /** Where the layer's own files live in the image. */
  public static final String HOME = "usr/lib/basalt";
  public static final String RUNTIME_DIR = HOME + "/runtime";
  public static final String JAR_DIR = HOME + "/lib";

  private static final String RESOURCES = "/dev/basalt/image/node/";
  private static final String INDEX = "/dev/basalt/image/node.index";

  private final TreeMap<String, Item> items;

  /** One entry plus where its bytes come from (a resource, a file, or none). */
  private record Item(TreeEntry entry, String resource, Path file) {}

  private NodeLayer(TreeMap<String, Item> items) {
    this.items = items;
  }

  public static Builder builder() {
    return new Builder();
  }

  /** Options of the layer; every option is checked when set or in {@link #build()}. */
  public static final class Builder {
    private final List<Path> jars = new ArrayList<>();
    private Path runtime;
    private long mtime;

    private Builder() {}

    /** The agent's jars, installed as {@code /usr/lib/basalt/lib/<file name>}. */
    public Builder agentJars(List<Path> jarFiles) {
      for (Path jar : jarFiles) {
        Objects.requireNonNull(jar, "jar");
        if (!jar.getFileName().toString().endsWith(".jar")) {
          throw new IllegalArgumentException("agent jar must end in .jar: " + jar);
        }
        jars.add(jar);
      }
      return this;
    }

    /** A Java runtime image (e.g. from {@link AgentRuntime#build()}), installed as {@code /usr/lib/basalt/runtime}. */
    public Builder runtime(Path runtimeDir) {
      this.runtime = Objects.requireNonNull(runtimeDir, "runtimeDir");
      return this;
    }

    /** The mtime of every entry, seconds since the epoch (e.g. SOURCE_DATE_EPOCH); default 0. */
    public Builder mtime(long epochSeconds) {
      if (epochSeconds < 0) throw new IllegalArgumentException("mtime must not be negative: " + epochSeconds);
      this.mtime = epochSeconds;
      return this;
    }

    /**
     * Collects the layer's entries.
     *
     * @throws IOException when a jar or the runtime is missing or not what it should be; the
     *     message names the path
     */
    public NodeLayer build() throws IOException {
      TreeMap<String, Item> items = new TreeMap<>(dev.basalt.oci.merge.LayerWriter.PATH_ORDER);
      Adder add = new Adder(items, mtime);
      for (String[] line : index()) {
        if (line[0].equals("f")) {
          add.file(line[2], Integer.parseInt(line[1], 8), RESOURCES + line[2], null, resourceSize(line[2]));
        } else {
          add.put(new TreeEntry.Symlink(line[1], add.meta(0777), line[2]), null, null);
        }
      }
      Set<String> names = new HashSet<>();
      for (Path jar : jars) {
        if (!Files.isRegularFile(jar)) throw new IOException("agent jar not found or not a regular file: " + jar);
        String name = jar.getFileName().toString();
        if (!names.add(name)) throw new IOException("two agent jars named " + name + ": " + jar);
        add.file(JAR_DIR + "/" + name, 0644, null, jar, Files.size(jar));
      }
      if (runtime != null) addRuntime(add, runtime);
      return new NodeLayer(add.withParents());
    }

    private static void addRuntime(Adder add, Path runtime) throws IOException {
      Path java = runtime.resolve("bin/java");
      if (!Files.isDirectory(runtime) || !Files.isExecutable(java) || !Files.isRegularFile(runtime.resolve("lib/modules"))) {
        throw new IOException("not a Java runtime image (needs bin/java and lib/modules): " + runtime);
      }
      List<Path> paths;
      try (Stream<Path> s = Files.walk(runtime)) {
        paths = s.filter(p -> !p.equals(runtime)).toList();
      }
      for (Path p : paths) {
        String rel = RUNTIME_DIR + "/" + runtime.relativize(p).toString().replace('\\', '/');
        if (Files.isSymbolicLink(p)) {
          Path target = Files.readSymbolicLink(p);
          if (target.isAbsolute() || !p.getParent().resolve(target).normalize().startsWith(runtime)) {
            throw new IOException("symlink leaves the runtime image: " + p + " -> " + target);
          }
          add.put(new TreeEntry.Symlink(rel, add.meta(0777), target.toString()), null, null);
        } else if (Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)) {
          add.put(new TreeEntry.Directory(rel, add.meta(0755)), null, null);
        } else if (Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS)) {
          // Normalized modes: only "executable or not" carries meaning in a runtime image.
          boolean exec = Files.getPosixFilePermissions(p, LinkOption.NOFOLLOW_LINKS).contains(PosixFilePermission.OWNER_EXECUTE);
          add.file(rel, exec ? 0755 : 0644, null, p, Files.size(p));
        } else {
          throw new IOException("unexpected file type in the runtime image: " + p);
        }
      }
    }
  }

  private static final class Adder {
    private final TreeMap<String, Item> items;
    private final long mtime;

    Adder(TreeMap<String, Item> items, long mtime) {
      this.items = items;
      this.mtime = mtime;
    }

    Metadata meta(int mode) {
      return Metadata.of(mode, 0, 0, mtime);
    }

    void file(String path, int mode, String resource, Path file, long size) throws IOException {
      put(new TreeEntry.RegularFile(path, meta(mode), size), resource, file);
    }

    void put(TreeEntry e, String resource, Path file) throws IOException {
      if (items.putIfAbsent(e.path(), new Item(e, resource, file)) != null) {
        throw new IOException("node layer path defined twice: /" + e.path());
      }
    }

    TreeMap<String, Item> withParents() throws IOException {
      for (String path : new ArrayList<>(items.keySet())) {
        for (String p = TreePaths.parent(path); ; p = TreePaths.parent(p)) {
          items.putIfAbsent(p, new Item(new TreeEntry.Directory(p, meta(0755)), null, null));
          if (p.isEmpty()) break;
        }
      }
      return items;
    }
  }

  /** The index lines, split: {@code [f, mode, path]} or {@code [l, path, target]}. */
  private static List<String[]> index() throws IOException {
    List<String[]> lines = new ArrayList<>();
    try (InputStream in = NodeLayer.class.getResourceAsStream(INDEX)) {
      if (in == null) throw new IOException("resource " + INDEX + " missing from the classpath");
      BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8));
      int n = 0;
      for (String line; (line = r.readLine()) != null; ) {
        n++;
        if (line.isBlank() || line.startsWith("#")) continue;
        String[] f = line.trim().split("\\s+");
        boolean ok = f.length == 3 && (f[0].equals("l") || (f[0].equals("f") && f[1].matches("0[0-7]{3,4}")));
        if (!ok) throw new IOException(INDEX + " line " + n + ": expected 'f MODE PATH' or 'l PATH TARGET': " + line);
        lines.add(f);
      }
    }
    return lines;
  }

  private static long resourceSize(String path) throws IOException {
    try (InputStream in = open(path)) {
      return in.transferTo(java.io.OutputStream.nullOutputStream());
    }
  }

  private static InputStream open(String path) throws IOException {
    InputStream in = NodeLayer.class.getResourceAsStream(RESOURCES + path);
    if (in == null) throw new IOException("node layer resource missing from the classpath: " + RESOURCES + path);
    return in;
  }

  /** The layer's entries sorted by path, directories included (root {@code ""} first). */
  public List<TreeEntry> entries() {
    return Collections.unmodifiableList(items.values().stream().map(Item::entry).toList());
  }

  /** Total size of the regular files' content, in bytes. */
  public long contentBytes() {
    return items.values().stream().map(Item::entry)
        .mapToLong(e -> e instanceof TreeEntry.RegularFile f ? f.size() : 0).sum();
  }

  /**
   * Feeds every entry, in {@link dev.basalt.oci.merge.LayerWriter#PATH_ORDER} (parents before children), to {@code sink}. Does not call {@link TreeSink#finish()}:
   * the layer may be one part of a larger tree.
   *
   * @throws IOException from the sink, or when a jar or runtime file changed size since
   *     {@link Builder#build()}
   */
  public void writeTo(TreeSink sink) throws IOException {
    for (Item item : items.values()) {
      if (item.entry() instanceof TreeEntry.RegularFile f) {
        try (InputStream in = item.resource() != null ? NodeLayer.class.getResourceAsStream(item.resource())
            : Files.newInputStream(item.file())) {
          if (in == null) throw new IOException("node layer resource vanished: " + item.resource());
          if (item.file() != null && Files.size(item.file()) != f.size()) {
            throw new IOException("file changed size since the layer was built: " + item.file());
          }
          sink.add(f, in);
        }
      } else {
        sink.add(item.entry(), null);
      }
    }
  }
}

package dev.basalt.image.node;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * The Java runtime the node agent runs on, so that an OS image needs no Java of its own: a
 * {@code jlink} image of a JDK with just the agent's modules, built once into a cache directory
 * keyed by the JDK (its {@code release} file), the module list and the jlink options.
 *
 * <p>jlink output is reproducible: the same JDK and modules give the same bytes. Measured with
 * Temurin 25.0.3 and {@link #DEFAULT_MODULES}: 48 MB (libjvm.so 30 MB, lib/modules 17 MB), 9 s.
 */
public final class AgentRuntime {

  /**
   * What the agent needs: HTTP client for registries and the fleet (java.net.http), TLS with EC
   * keys, logging, XML for logback's configuration, JNDI (java.naming) for TLS host names, and
   * jdk.unsupported for libraries that use sun.misc.Unsafe. Modules the JDK lacks (jdk.crypto.ec
   * is folded into java.base in newer JDKs) are dropped.
   */
  public static final List<String> DEFAULT_MODULES = List.of(
      "java.base", "java.logging", "java.naming", "java.net.http", "java.xml", "jdk.crypto.ec", "jdk.unsupported");

  private static final List<String> JLINK_OPTIONS = List.of(
      "--strip-debug", "--no-header-files", "--no-man-pages", "--compress=zip-6");

  private final Path javaHome;
  private final List<String> modules;
  private final Path cacheDir;

  private AgentRuntime(Path javaHome, List<String> modules, Path cacheDir) {
    this.javaHome = javaHome;
    this.modules = modules;
    this.cacheDir = cacheDir;
  }

  public static Builder builder() {
    return new Builder();
  }

  /** Options; defaults: the running JDK, {@link #DEFAULT_MODULES}, {@code ~/.cache/basalt/runtimes}. */
  public static final class Builder {
    private Path javaHome = Path.of(System.getProperty("java.home"));
    private final Set<String> modules = new LinkedHashSet<>(DEFAULT_MODULES);
    private Path cacheDir;

    private Builder() {}

    /** The JDK to link from; it must have {@code bin/jlink}. */
    public Builder javaHome(Path home) {
      this.javaHome = Objects.requireNonNull(home, "javaHome");
      return this;
    }

    /** Replaces the module list; java.base is always included. */
    public Builder modules(List<String> names) {
      modules.clear();
      modules.add("java.base");
      for (String m : names) {
        if (m == null || !m.matches("[A-Za-z_][\\w]*(\\.[A-Za-z_][\\w]*)*")) {
          throw new IllegalArgumentException("not a module name: '" + m + "'");
        }
        modules.add(m);
      }
      return this;
    }

    public Builder cacheDir(Path dir) {
      this.cacheDir = Objects.requireNonNull(dir, "cacheDir");
      return this;
    }

    public AgentRuntime build() {
      Path dir = cacheDir;
      if (dir == null) {
        String xdg = System.getenv("XDG_CACHE_HOME");
        Path base = xdg != null && !xdg.isBlank() ? Path.of(xdg) : Path.of(System.getProperty("user.home"), ".cache");
        dir = base.resolve("basalt").resolve("runtimes");
      }
      return new AgentRuntime(javaHome, List.copyOf(modules), dir);
    }
  }

  /** The modules asked for, in order. */
  public List<String> modules() {
    return modules;
  }

  /**
   * Returns the runtime image directory, linking it first when the cache does not have it. A
   * build goes to a temporary directory renamed into place when complete, so the cache never
   * holds a partial runtime and concurrent builders do not clash.
   *
   * @throws IOException when the JDK has no jlink, jlink fails (its output is in the message) or
   *     the result does not run
   */
  public Path build() throws IOException {
    Path jlink = javaHome.resolve("bin/jlink");
    if (!Files.isExecutable(jlink)) {
      throw new IOException("no jlink in " + javaHome + " (a JDK, not a JRE, is needed to build the agent runtime)");
    }
    Path release = javaHome.resolve("release");
    if (!Files.isRegularFile(release)) throw new IOException("no 'release' file in the JDK " + javaHome);
    List<String> available = run(List.of(javaHome.resolve("bin/java").toString(), "--list-modules"), "java --list-modules")
        .lines().map(l -> l.replaceFirst("@.*$", "").trim()).filter(l -> !l.isEmpty()).toList();
    List<String> chosen = new ArrayList<>();
    for (String m : modules) {
      if (available.contains(m)) {
        chosen.add(m);
      } else if (!DEFAULT_MODULES.contains(m)) {
        throw new IOException("the JDK " + javaHome + " has no module " + m);
      }
    }
    String key = key(Files.readString(release), chosen);
    Path target = cacheDir.resolve(key);
    if (Files.isExecutable(target.resolve("bin/java"))) return target;

    Files.createDirectories(cacheDir);
    Path tmp = Files.createTempDirectory(cacheDir, key + ".tmp-");
    Path out = tmp.resolve("runtime");
    try {
      List<String> cmd = new ArrayList<>(List.of(jlink.toString(), "--add-modules", String.join(",", chosen)));
      cmd.addAll(JLINK_OPTIONS);
      cmd.addAll(List.of("--output", out.toString()));
      run(cmd, "jlink");
      String version = run(List.of(out.resolve("bin/java").toString(), "-version"), "the linked runtime's java -version");
      if (!version.contains("version")) throw new IOException("the linked runtime does not run: " + version);
      try {
        Files.move(out, target, StandardCopyOption.ATOMIC_MOVE);
      } catch (FileAlreadyExistsException | DirectoryNotEmptyException | AtomicMoveNotSupportedException raced) {
        if (!Files.isExecutable(target.resolve("bin/java"))) throw raced;
      }
      return target;
    } finally {
      deleteTree(tmp);
    }
  }

  /** Total size in bytes of the regular files under a runtime directory. */
  public static long size(Path runtime) throws IOException {
    try (Stream<Path> s = Files.walk(runtime)) {
      return s.filter(Files::isRegularFile).mapToLong(p -> {
        try {
          return Files.size(p);
        } catch (IOException e) {
          throw new java.io.UncheckedIOException(e);
        }
      }).sum();
    }
  }

  private static String key(String release, List<String> modules) {
    try {
      MessageDigest sha = MessageDigest.getInstance("SHA-256");
      sha.update(release.getBytes(StandardCharsets.UTF_8));
      sha.update(("\0" + String.join(",", modules) + "\0" + String.join(" ", JLINK_OPTIONS)).getBytes(StandardCharsets.UTF_8));
      String version = release.lines().filter(l -> l.startsWith("JAVA_VERSION="))
          .map(l -> l.substring(13).replace("\"", "")).findFirst().orElse("unknown");
      return "jdk-" + version.replaceAll("[^\\w.+-]", "_") + "-" + HexFormat.of().formatHex(sha.digest(), 0, 8);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  private static String run(List<String> cmd, String what) throws IOException {
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    String out;
    try (var in = p.getInputStream()) {
      out = new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
    try {
      if (!p.waitFor(10, TimeUnit.MINUTES)) {
        p.destroyForcibly();
        throw new IOException(what + " timed out");
      }
    } catch (InterruptedException e) {
      p.destroyForcibly();
      Thread.currentThread().interrupt();
      throw new IOException(what + " interrupted", e);
    }
    if (p.exitValue() != 0) throw new IOException(what + " failed (exit " + p.exitValue() + "): " + out.strip());
    return out;
  }

  private static void deleteTree(Path dir) throws IOException {
    if (!Files.exists(dir)) return;
    try (Stream<Path> s = Files.walk(dir)) {
      for (Path p : s.sorted(Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
    }
  }
}

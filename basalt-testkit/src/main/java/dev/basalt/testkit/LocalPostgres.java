package dev.basalt.testkit;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.UserPrincipalLookupService;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;

/**
 * A real PostgreSQL server for tests, from Debian's {@code postgresql} package ({@code /usr/lib/postgresql/<v>/bin}).
 * PostgreSQL refuses to run as root, so under root the server runs as the {@code postgres} user (via {@code runuser}).
 * Listens on 127.0.0.1 on a free port, trust authentication for user {@code basalt}, durability off (tests only).
 * {@link #shared()} starts one per JVM; {@link #createDatabase()} gives each test its own database.
 */
public final class LocalPostgres implements AutoCloseable {
  /** The superuser tests connect as (no password). */
  public static final String USER = "basalt";
  private static LocalPostgres shared;
  private static final AtomicInteger DATABASES = new AtomicInteger();

  private final Path bin;
  private final Path dir;
  private final int port;
  private final boolean asPostgres;

  private LocalPostgres(Path bin, Path dir, int port, boolean asPostgres) {
    this.bin = bin;
    this.dir = dir;
    this.port = port;
    this.asPostgres = asPostgres;
  }

  /** The server shared by every test of this JVM (stopped at JVM exit). */
  public static synchronized LocalPostgres shared() {
    if (shared == null) {
      shared = start();
      LocalPostgres s = shared;
      Runtime.getRuntime().addShutdownHook(new Thread(s::close));
    }
    return shared;
  }

  /** The bin directory of the newest installed PostgreSQL, or an AssertionError saying what to install. */
  public static Path binDir() {
    Path root = Path.of("/usr/lib/postgresql");
    try (Stream<Path> s = Files.isDirectory(root) ? Files.list(root) : Stream.empty()) {
      return s.map(p -> p.resolve("bin")).filter(p -> Files.isExecutable(p.resolve("initdb")))
          .max(Comparator.comparing(p -> Integer.parseInt(p.getParent().getFileName().toString().replaceAll("\\D", "0"))))
          .orElseThrow(() -> new AssertionError("PostgreSQL server binaries are not installed (/usr/lib/postgresql/*/bin/initdb);"
              + " apt-get install postgresql"));
    } catch (IOException e) {
      throw new AssertionError("cannot list " + root + ": " + e, e);
    }
  }

  /** Starts a new server in a fresh temporary directory. */
  public static LocalPostgres start() {
    Path bin = binDir();
    boolean root = Tools.isRoot();
    if (root) Tools.require("runuser");
    try {
      Path dir = Files.createTempDirectory("basalt-pg");
      if (root) {
        UserPrincipalLookupService users = dir.getFileSystem().getUserPrincipalLookupService();
        Files.setOwner(dir, users.lookupPrincipalByName("postgres"));
      }
      int port;
      try (ServerSocket s = new ServerSocket(0)) {
        port = s.getLocalPort();
      }
      LocalPostgres pg = new LocalPostgres(bin, dir, port, root);
      pg.asServerUser(bin.resolve("initdb").toString(), "-D", dir.resolve("data").toString(), "-U", USER, "-A", "trust",
          "-E", "UTF8", "--locale=C", "--no-sync");
      pg.asServerUser(bin.resolve("pg_ctl").toString(), "-D", dir.resolve("data").toString(), "-l", dir.resolve("log").toString(),
          "-w", "-t", "60", "-o", "-p " + port + " -k " + dir + " -c listen_addresses=127.0.0.1 -c fsync=off"
              + " -c synchronous_commit=off -c full_page_writes=off -c max_connections=200", "start");
      return pg;
    } catch (IOException e) {
      throw new AssertionError("cannot start PostgreSQL: " + e, e);
    }
  }

  private String asServerUser(String... command) {
    List<String> cmd = new ArrayList<>();
    if (asPostgres) cmd.addAll(List.of("runuser", "-u", "postgres", "--"));
    cmd.addAll(List.of(command));
    Tools.Result r = Tools.run(cmd, dir, 120);
    if (r.exitCode() != 0) {
      String log = "";
      try {
        Path l = dir.resolve("log");
        if (Files.exists(l)) log = "\nserver log:\n" + Files.readString(l);
      } catch (IOException ignored) {
        // the command's own output is reported anyway
      }
      throw new AssertionError("command failed (exit " + r.exitCode() + "): " + String.join(" ", cmd)
          + "\nstdout:\n" + r.stdout() + "\nstderr:\n" + r.stderr() + log);
    }
    return r.stdout();
  }

  public int port() {
    return port;
  }

  /** JDBC URL of {@code database}. */
  public String jdbcUrl(String database) {
    return "jdbc:postgresql://127.0.0.1:" + port + "/" + database;
  }

  /** Creates a new empty database and returns its name. */
  public String createDatabase() {
    String name = "t" + ProcessHandle.current().pid() + "_" + DATABASES.incrementAndGet();
    List<String> cmd = List.of(bin.resolve("psql").toString(), "-h", "127.0.0.1", "-p", Integer.toString(port), "-U", USER,
        "-d", "postgres", "-v", "ON_ERROR_STOP=1", "-q", "-c", "CREATE DATABASE " + name);
    Tools.run(cmd, null, 60).requireSuccess(cmd);
    return name;
  }

  /** Stops the server at once and deletes its files. */
  @Override
  public void close() {
    try {
      asServerUser(bin.resolve("pg_ctl").toString(), "-D", dir.resolve("data").toString(), "-m", "immediate", "-w", "stop");
    } catch (AssertionError e) {
      // already stopped
    }
    try (Stream<Path> s = Files.walk(dir)) {
      s.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException ignored) {
      // temp files only
    }
  }
}

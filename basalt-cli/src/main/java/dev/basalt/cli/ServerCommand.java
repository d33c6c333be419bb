package dev.basalt.cli;

import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "server", mixinStandardHelpOptions = true,
    description = {"The fleet server: admin REST API, web UI, metrics on --port; the device API (mTLS) on --device-port.",
        "With no flags: an embedded SQLite database in the data dir, http://localhost:8080. On first start it prints",
        "a bootstrap admin token once (or registers the one in --admin-token-file). Stops cleanly on SIGTERM/SIGINT."})
final class ServerCommand implements Callable<Integer> {
  /** Classes that only the full installation has (server-lib): the node layer ships without them. */
  static final String SERVER_CLASS = "dev.basalt.fleet.server.FleetServer";
  static final String HTTP_CLASS = "io.helidon.webserver.WebServer";

  @Option(names = "--port", defaultValue = "8080", description = "Admin API and UI port (default ${DEFAULT-VALUE}).") int port;

  @Option(names = "--device-port", defaultValue = "8443", description = "Device API (TLS) port (default ${DEFAULT-VALUE}).") int devicePort;

  @Option(names = "--bind", defaultValue = "0.0.0.0", paramLabel = "ADDRESS", description = "Address both listeners bind (default ${DEFAULT-VALUE}).")
  String bind;

  @Option(names = "--data", paramLabel = "DIR",
      description = "State: SQLite database, ca.pem (default /var/lib/basalt/server as root, else ~/.local/share/basalt/server).")
  Path data;

  @Option(names = "--db", paramLabel = "JDBC_URL", description = "PostgreSQL instead of SQLite: jdbc:postgresql://host/db (password from $BASALT_DB_PASSWORD).")
  String db;

  @Option(names = "--db-user", paramLabel = "USER", description = "Database user (default: from the URL).") String dbUser;

  @Option(names = "--admin-token-file", paramLabel = "FILE", description = "Register the admin token in FILE instead of printing a new one.")
  Path adminTokenFile;

  @Option(names = "--public-url", paramLabel = "URL",
      description = "How devices reach the device port, e.g. https://fleet.example:8443 (its host goes into the server certificate).")
  URI publicUrl;

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() throws Exception {
    requireServerClasses();
    if (publicUrl != null && (!"https".equals(publicUrl.getScheme()) || publicUrl.getHost() == null)) {
      throw new CommandLine.ParameterException(spec.commandLine(), "--public-url must be https://HOST[:PORT], got " + publicUrl);
    }
    if (db != null && !db.startsWith("jdbc:postgresql:") && !db.startsWith("jdbc:sqlite:")) {
      throw new CommandLine.ParameterException(spec.commandLine(), "--db must be a jdbc:postgresql: (or jdbc:sqlite:) URL, got " + db);
    }
    if (adminTokenFile != null && !Files.isRegularFile(adminTokenFile)) {
      throw new CommandLine.ParameterException(spec.commandLine(), "--admin-token-file " + adminTokenFile + " does not exist");
    }
    return ServerRunner.run(this);
  }

  /** Fails with a clear message where the fleet server's jars are absent (a node: the agent ships without them). */
  static void requireServerClasses() {
    for (String c : new String[] {SERVER_CLASS, HTTP_CLASS}) {
      try {
        Class.forName(c, false, ServerCommand.class.getClassLoader());
      } catch (ClassNotFoundException | LinkageError e) {
        throw new IllegalStateException("the fleet server is not part of this installation (" + c + " is missing): "
            + "nodes carry the agent only; run 'basalt server' from a full Basalt installation");
      }
    }
  }

  Path dataDir() {
    if (data != null) return data;
    String home = System.getProperty("user.home");
    boolean root = "root".equals(System.getProperty("user.name"));
    return root ? Path.of("/var/lib/basalt/server") : Path.of(home, ".local/share/basalt/server");
  }
}

package dev.basalt.testkit;

import java.io.IOException;
import java.net.HttpURLConnection;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;

/**
 * The CNCF distribution registry ({@code docker-registry}, Debian) on a free loopback port, storing
 * in a temporary directory. Optional htpasswd basic auth. Close to stop it.
 */
public final class LocalRegistry implements AutoCloseable {
  private final Process process;
  private final int port;
  private final Path root;

  private LocalRegistry(Process process, int port, Path root) {
    this.process = process;
    this.port = port;
    this.root = root;
  }

  public static LocalRegistry start() throws IOException {
    return start(null);
  }

  /**
   * @param htpasswd bcrypt htpasswd file content (e.g. from {@code htpasswd -nbB}), or null for no auth
   */
  public static LocalRegistry start(String htpasswd) throws IOException {
    Path binary = Tools.require("docker-registry");
    Path root = Files.createTempDirectory("basalt-registry");
    int port;
    try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      port = s.getLocalPort();
    }
    String auth = "";
    if (htpasswd != null) {
      Files.writeString(root.resolve("htpasswd"), htpasswd);
      auth = "auth:\n  htpasswd:\n    realm: basalt-test\n    path: " + root.resolve("htpasswd") + "\n";
    }
    Path config = root.resolve("config.yml");
    Files.writeString(config, """
        version: 0.1
        log:
          level: warn
        storage:
          filesystem:
            rootdirectory: %s
          delete:
            enabled: true
        http:
          addr: 127.0.0.1:%d
        %s""".formatted(root.resolve("data"), port, auth));
    Process p = new ProcessBuilder(binary.toString(), "serve", config.toString())
        .redirectErrorStream(true).redirectOutput(root.resolve("registry.log").toFile()).start();
    LocalRegistry r = new LocalRegistry(p, port, root);
    Instant deadline = Instant.now().plus(Duration.ofSeconds(20));
    while (Instant.now().isBefore(deadline)) {
      if (!p.isAlive()) {
        throw new IOException("docker-registry exited: " + Files.readString(root.resolve("registry.log")));
      }
      try {
        HttpURLConnection c = (HttpURLConnection) URI.create("http://127.0.0.1:" + port + "/v2/").toURL().openConnection();
        c.setConnectTimeout(500);
        int code = c.getResponseCode();
        if (code == 200 || code == 401) return r;
      } catch (IOException notYet) {
        // still starting
      }
      try {
        Thread.sleep(100);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        break;
      }
    }
    r.close();
    throw new IOException("docker-registry did not start on port " + port);
  }

  /** {@code 127.0.0.1:PORT} */
  public String hostPort() {
    return "127.0.0.1:" + port;
  }

  public int port() {
    return port;
  }

  /** The registry's storage directory, for tests that corrupt blobs on purpose. */
  public Path storage() {
    return root.resolve("data");
  }

  @Override
  public void close() {
    process.destroy();
    try {
      process.waitFor();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    try (var s = Files.walk(root)) {
      s.sorted(java.util.Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
    } catch (IOException ignored) {
      // best effort
    }
  }
}

package dev.basalt.cli;

import dev.basalt.fleet.server.FleetServer;
import java.util.List;
import java.util.concurrent.CountDownLatch;

/** Runs the fleet server; the only class of the CLI that links against basalt-fleet-server (see ServerCommand). */
final class ServerRunner {
  private ServerRunner() {}

  static int run(ServerCommand c) throws InterruptedException {
    FleetServer.Builder b = FleetServer.builder().dataDir(c.dataDir()).bindAddress(c.bind).httpPort(c.port).devicePort(c.devicePort);
    if (c.db != null) b.database(c.db, c.dbUser, System.getenv("BASALT_DB_PASSWORD"));
    if (c.adminTokenFile != null) b.adminTokenFile(c.adminTokenFile);
    if (c.publicUrl != null) b.deviceHosts(List.of(c.publicUrl.getHost(), "localhost", "127.0.0.1"));
    FleetServer server = b.build().start();
    CountDownLatch stopped = new CountDownLatch(1);
    Thread hook = new Thread(() -> {
      System.err.println("basalt server: stopping");
      server.stop();
      stopped.countDown();
    }, "basalt-server-shutdown");
    Runtime.getRuntime().addShutdownHook(hook);
    String host = c.bind.equals("0.0.0.0") ? "localhost" : c.bind;
    System.out.println("basalt server: admin API and UI at http://" + host + ":" + server.httpPort()
        + ", devices at https://" + (c.publicUrl != null ? c.publicUrl.getHost() : host) + ":" + server.devicePort()
        + ", data in " + c.dataDir() + " (fleet CA: " + c.dataDir().resolve("ca.pem") + ")");
    System.out.flush();
    stopped.await();
    return 0;
  }
}

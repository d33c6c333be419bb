package dev.basalt.fleet.server.web;

import dev.basalt.api.fleet.AdminTokenRequest;
import dev.basalt.api.fleet.EnrollmentTokenRequest;
import dev.basalt.fleet.client.AdminClient;
import dev.basalt.fleet.client.DeviceClient;
import dev.basalt.fleet.server.FleetServer;
import dev.basalt.fleet.server.store.Database;
import dev.basalt.fleet.server.store.Store;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.URI;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** A fleet server on SQLite in a temp dir, its admin client, and a second handle on its database for test writes. */
final class UiFleet implements AutoCloseable {
  final FleetServer server;
  final AdminClient admin;
  final String adminToken;
  final Path dir;
  private Database db;

  UiFleet(Path dir) {
    this.dir = dir;
    server = FleetServer.builder().dataDir(dir.resolve("server")).bindAddress("127.0.0.1").httpPort(0).devicePort(0)
        .deviceHosts(List.of("localhost", "127.0.0.1")).console(new PrintStream(new ByteArrayOutputStream(), true))
        .controllerInterval(Duration.ofMillis(200)).enrollRetryAfterSeconds(1).build().start();
    adminToken = server.bootstrapAdminToken().orElseThrow();
    admin = new AdminClient(URI.create(base()), adminToken);
  }

  String base() {
    return "http://127.0.0.1:" + server.httpPort();
  }

  /** A new admin token with these scopes. */
  String token(String name, String... scopes) throws Exception {
    return admin.createAdminToken(new AdminTokenRequest(name, Set.of(scopes), null)).token();
  }

  String enrollmentToken(Map<String, String> labels, String autoApprove) throws Exception {
    return admin.createEnrollmentToken(new EnrollmentTokenRequest("ui-test", labels, autoApprove, null, 0)).token();
  }

  DeviceClient.Builder device(String name, String enrollmentToken) {
    return DeviceClient.builder().server(URI.create("https://localhost:" + server.devicePort())).stateDir(dir.resolve("dev-" + name.hashCode()))
        .caCertificate(server.caCertificatePem()).enrollmentToken(enrollmentToken).name(name)
        .retry(Duration.ofMillis(50), Duration.ofMillis(300)).pollJitter(Duration.ZERO);
  }

  /** The server's own database, opened a second time: what another replica or the controller would write. */
  synchronized Store store() {
    if (db == null) db = Database.sqlite(dir.resolve("server"));
    return new Store(db, Clock.systemUTC());
  }

  @Override
  public synchronized void close() {
    if (db != null) db.close();
    server.close();
  }
}

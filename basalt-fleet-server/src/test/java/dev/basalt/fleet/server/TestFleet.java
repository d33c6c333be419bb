package dev.basalt.fleet.server;

import dev.basalt.api.fleet.EnrollmentTokenInfo;
import dev.basalt.api.fleet.EnrollmentTokenRequest;
import dev.basalt.fleet.client.AdminClient;
import dev.basalt.fleet.client.DeviceClient;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.function.Consumer;

/** A running fleet server on SQLite (in a temp dir) or on the shared test PostgreSQL, with an admin client. */
final class TestFleet implements AutoCloseable {
  enum Db { SQLITE, POSTGRESQL }

  final FleetServer server;
  final AdminClient admin;
  final String adminToken;
  final ByteArrayOutputStream console = new ByteArrayOutputStream();
  final Path dir;

  TestFleet(Db db, Path dir, Consumer<FleetServer.Builder> options) {
    this.dir = dir;
    FleetServer.Builder b = FleetServer.builder().dataDir(dir.resolve("server")).bindAddress("127.0.0.1").httpPort(0).devicePort(0)
        .deviceHosts(java.util.List.of("localhost", "127.0.0.1")).console(new PrintStream(console, true))
        .controllerInterval(Duration.ofMillis(200)).enrollRetryAfterSeconds(1);
    if (db == Db.POSTGRESQL) {
      TestPostgres.Database pg = TestPostgres.freshDatabase();
      b.database(pg.url(), pg.user(), null);
    }
    options.accept(b);
    server = b.build().start();
    adminToken = server.bootstrapAdminToken().orElseThrow();
    admin = new AdminClient(URI.create("http://127.0.0.1:" + server.httpPort()), adminToken);
  }

  TestFleet(Db db, Path dir) {
    this(db, dir, b -> {});
  }

  URI deviceUri() {
    return URI.create("https://localhost:" + server.devicePort());
  }

  URI httpUri(String path) {
    return URI.create("http://127.0.0.1:" + server.httpPort() + path);
  }

  EnrollmentTokenInfo token(Map<String, String> labels, String autoApprove) throws IOException {
    return admin.createEnrollmentToken(new EnrollmentTokenRequest("test-image", labels, autoApprove, null, 0));
  }

  DeviceClient.Builder device(String name, String token) {
    return DeviceClient.builder().server(deviceUri()).stateDir(dir.resolve("dev-" + name)).caCertificate(server.caCertificatePem())
        .enrollmentToken(token).name(name).retry(Duration.ofMillis(50), Duration.ofMillis(500)).pollJitter(Duration.ZERO);
  }

  /** A device enrolled and approved (auto-approve token). */
  DeviceClient activeDevice(String name, Map<String, String> labels) throws Exception {
    EnrollmentTokenInfo t = token(labels, "");
    DeviceClient c = device(name, t.token()).build();
    c.enroll(Duration.ofSeconds(20));
    return c;
  }

  @Override
  public void close() {
    server.close();
  }
}

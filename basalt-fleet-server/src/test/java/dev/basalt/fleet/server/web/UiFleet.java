package dev.basalt.fleet.server.web;

import dev.basalt.api.fleet.AdminTokenRequest;
import dev.basalt.api.fleet.EnrollmentTokenRequest;
import dev.basalt.fleet.client.AdminClient;
import dev.basalt.fleet.client.DeviceClient;
import dev.basalt.fleet.client.simulate.Simulator;
import dev.basalt.fleet.server.FleetServer;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** A fleet server on SQLite in a temp dir and its admin client. */
final class UiFleet implements AutoCloseable {
  final FleetServer server;
  final AdminClient admin;
  final String adminToken;
  final Path dir;

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

  /** {@code n} simulated devices enrolling with {@code enrollmentToken}, following their desired state at once. */
  Simulator.Builder simulator(String enrollmentToken, int n) {
    return Simulator.builder().server(URI.create("https://localhost:" + server.devicePort())).caCertificate(server.caCertificatePem())
        .enrollmentToken(enrollmentToken).devices(n).timing(Duration.ZERO, Duration.ZERO).pollWait(Duration.ofSeconds(5));
  }

  @Override
  public void close() {
    server.close();
  }
}

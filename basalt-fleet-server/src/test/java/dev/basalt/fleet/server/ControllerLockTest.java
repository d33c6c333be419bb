package dev.basalt.fleet.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.basalt.api.fleet.FleetSpec;
import dev.basalt.fleet.client.AdminClient;
import dev.basalt.fleet.client.DeviceClient;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Two server replicas on one PostgreSQL: one controller at a time, and the other takes over when it stops. */
class ControllerLockTest {
  static final String D1 = "sha256:" + "1a".repeat(32);
  static final String D2 = "sha256:" + "2b".repeat(32);

  @TempDir Path dir;

  static void await(BooleanSupplier cond, String what) throws InterruptedException {
    long end = System.nanoTime() + Duration.ofSeconds(15).toNanos();
    while (!cond.getAsBoolean()) {
      if (System.nanoTime() > end) throw new AssertionError("timed out waiting until " + what);
      Thread.sleep(20);
    }
  }

  @Test
  void onlyOneReplicaLeadsAndTheOtherTakesOver() throws Exception {
    TestPostgres.Database pg = TestPostgres.freshDatabase();
    FleetServer first = replica(pg, dir.resolve("r1"));
    FleetServer second = null;
    try {
      await(first::isControllerLeader, "the first replica leads");
      second = replica(pg, dir.resolve("r2"));
      Thread.sleep(600); // several controller ticks of the second replica
      assertThat(first.isControllerLeader()).isTrue();
      assertThat(second.isControllerLeader()).as("second replica must not lead while the first holds the lock").isFalse();
      assertThat(second.reconcileNow()).as("a follower's pass does nothing").isEmpty();
      assertThat(second.caCertificatePem()).as("replicas share the CA").isEqualTo(first.caCertificatePem());
      assertThat(second.bootstrapAdminToken()).as("the bootstrap token is made once per database").isEmpty();

      String token = first.bootstrapAdminToken().orElseThrow();
      AdminClient viaSecond = new AdminClient(URI.create("http://127.0.0.1:" + second.httpPort()), token);
      var et = viaSecond.createEnrollmentToken(new dev.basalt.api.fleet.EnrollmentTokenRequest("img", Map.of("site", "x"), "", null, 0));
      DeviceClient dev = DeviceClient.builder().server(URI.create("https://localhost:" + second.devicePort())).stateDir(dir.resolve("dev"))
          .caCertificate(second.caCertificatePem()).enrollmentToken(et.token()).retry(Duration.ofMillis(50), Duration.ofMillis(200)).build();
      dev.enroll(Duration.ofSeconds(10));
      viaSecond.createFleet(new FleetSpec("x", "site=x", "r.example/os", D1, null));
      String id = dev.deviceId().orElseThrow();
      await(() -> digest(viaSecond, id, D1), "the leading first replica assigns the target");

      first.close();
      FleetServer s2 = second;
      await(s2::isControllerLeader, "the second replica takes over");
      viaSecond.updateFleet(new FleetSpec("x", "site=x", "r.example/os", D2, null));
      await(() -> digest(viaSecond, id, D2), "the second replica, now leading, assigns the new target");
    } finally {
      first.close();
      if (second != null) second.close();
    }
  }

  static boolean digest(AdminClient a, String id, String digest) {
    try {
      return digest.equals(a.device(id).desired().digest());
    } catch (Exception e) {
      return false;
    }
  }

  static FleetServer replica(TestPostgres.Database pg, Path dir) {
    return FleetServer.builder().dataDir(dir).bindAddress("127.0.0.1").httpPort(0).devicePort(0)
        .deviceHosts(java.util.List.of("localhost")).database(pg.url(), pg.user(), null)
        .console(new java.io.PrintStream(java.io.OutputStream.nullOutputStream()))
        .controllerInterval(Duration.ofMillis(100)).build().start();
  }
}

package dev.basalt.fleet.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.basalt.api.fleet.FleetSpec;
import dev.basalt.api.fleet.RolloutEventInfo;
import dev.basalt.api.fleet.RolloutInfo;
import dev.basalt.api.fleet.RolloutRequest;
import dev.basalt.fleet.client.AdminClient;
import dev.basalt.fleet.client.simulate.Simulator;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Two replicas on one PostgreSQL: only the controller lock holder steps rollouts, so every event is written once. */
class RolloutReplicasTest {
  static final String D1 = "sha256:" + "1a".repeat(32);
  static final String D2 = "sha256:" + "2b".repeat(32);

  @TempDir Path dir;

  @Test
  void onlyTheLockHolderStepsAndNoEventIsWrittenTwice() throws Exception {
    TestPostgres.Database pg = TestPostgres.freshDatabase();
    try (FleetServer first = ControllerLockTest.replica(pg, dir.resolve("r1"))) {
      ControllerLockTest.await(first::isControllerLeader, "the first replica leads");
      try (FleetServer second = ControllerLockTest.replica(pg, dir.resolve("r2"))) {
        AdminClient viaSecond = new AdminClient(URI.create("http://127.0.0.1:" + second.httpPort()), first.bootstrapAdminToken().orElseThrow());
        // devices talk to the follower only
        try (Simulator sim = RolloutFleetTest.simulator(viaSecond, URI.create("https://localhost:" + second.devicePort()),
            second.caCertificatePem(), 20, i -> Map.of("site", "s" + (i % 2)), D1).build()) {
          sim.enroll();
          sim.start();
          viaSecond.createFleet(new FleetSpec("x", "sim=yes", "r.example/os@" + D1, null, null));
          ControllerLockTest.await(() -> sim.bootedCounts().getOrDefault(D1, 0) == 20, "all devices run " + D1);
          RolloutInfo r = viaSecond.startRollout("x", new RolloutRequest("r.example/os", D2,
              Map.of("batches", List.of("25%", "100%"), "soak", "PT0S", "budgets", List.of(Map.of("labelKey", "site", "maxUnavailable", "2")))));
          // the follower's passes race the leader's all along: they must do nothing
          long end = System.nanoTime() + Duration.ofSeconds(60).toNanos();
          while (!viaSecond.rollout(r.id()).phase().equals("SUCCEEDED")) {
            assertThat(second.reconcileNow()).isEmpty();
            assertThat(second.isControllerLeader()).isFalse();
            assertThat(System.nanoTime()).as("rollout finished in time").isLessThan(end);
            Thread.sleep(10);
          }
          assertThat(first.isControllerLeader()).isTrue();
          assertThat(sim.bootedCounts()).containsExactly(Map.entry(D2, 20));
          List<RolloutEventInfo> events = viaSecond.rolloutEvents(r.id());
          for (int i = 0; i < events.size(); i++) assertThat(events.get(i).seq()).isEqualTo(i + 1);
          Map<String, Long> perDevice = events.stream().filter(e -> e.type().equals("DEVICE_SUCCEEDED"))
              .collect(Collectors.groupingBy(RolloutEventInfo::deviceId, Collectors.counting()));
          assertThat(perDevice).hasSize(20).allSatisfy((id, n) -> assertThat(n).as(id).isEqualTo(1));
          assertThat(events.stream().filter(e -> e.type().equals("REBOOT_RELEASED")).count()).isEqualTo(20);
          assertThat(events.stream().filter(e -> e.type().equals("SUCCEEDED")).count()).isEqualTo(1);
        }
      }
    }
  }
}

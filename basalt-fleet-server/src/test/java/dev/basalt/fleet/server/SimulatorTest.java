package dev.basalt.fleet.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.basalt.api.fleet.DeviceInfo;
import dev.basalt.api.fleet.DeviceState;
import dev.basalt.api.fleet.FleetSpec;
import dev.basalt.fleet.client.simulate.Simulator;
import dev.basalt.fleet.client.simulate.Stats;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The device simulator against a real server (SQLite): enrollment, identity cache, following a target, failures. */
class SimulatorTest {
  static final String V1 = Simulator.digestOf("v1");
  @TempDir Path dir;
  TestFleet fleet;

  @BeforeEach
  void start() {
    fleet = new TestFleet(TestFleet.Db.SQLITE, dir);
  }

  @AfterEach
  void stop() {
    fleet.close();
  }

  private Simulator.Builder sim(String token, int n) {
    return Simulator.builder().server(fleet.deviceUri()).caCertificate(fleet.server.caCertificatePem()).enrollmentToken(token)
        .devices(n).identities(dir.resolve("ids")).timing(Duration.ofMillis(20), Duration.ofMillis(20)).pollWait(Duration.ofSeconds(5));
  }

  @Test
  void devicesFollowTheTargetAndTheFailingOnesFallBackAndReportIt() throws Exception {
    String token = fleet.token(Map.of("site", "sim"), "").token();
    try (Simulator s = sim(token, 24).failureRate(0.25).seed(7).build()) {
      assertThat(s.enroll()).isEqualTo(24);
      s.start();
      fleet.admin.createFleet(new FleetSpec("sim", "site=sim", "r.example/os@" + V1, null, null));
      assertThat(s.awaitBooted(V1, Duration.ofSeconds(30))).isTrue();
      int failed = s.failedCount(V1);
      assertThat(failed).as("a quarter of 24 fail, give or take").isBetween(1, 15);
      assertThat(s.bootedCounts()).containsEntry(V1, 24 - failed);
      // the server heard it all: booted digests and the fallbacks' failed digests
      long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
      List<DeviceInfo> ds;
      do {
        Thread.sleep(50);
        ds = fleet.admin.devices(DeviceState.ACTIVE, null, null);
      } while (ds.stream().filter(d -> V1.equals(d.bootedDigest())).count() != 24 - failed && System.nanoTime() < deadline);
      assertThat(ds).hasSize(24);
      assertThat(ds.stream().filter(d -> V1.equals(d.bootedDigest()))).hasSize(24 - failed);
      assertThat(ds.stream().filter(d -> d.failedDigests().contains(V1))).hasSize(failed)
          .allSatisfy(d -> assertThat(d.lastError()).contains("failed its boot trial"));
      Stats st = s.stats();
      assertThat(st.errors()).isZero();
      assertThat(st.operations()).isGreaterThanOrEqualTo(24 * 2);
    }
    // the same seed fails the same devices; the cache spares the enrollments
    try (Simulator again = sim(token, 24).failureRate(0.25).seed(7).build()) {
      assertThat(again.enroll()).isZero();
      assertThat(fleet.admin.devices(null, null, null)).hasSize(24);
    }
  }

  @Test
  void pendingDevicesAreApprovedWithTheAdminTokenAndCheckInsAreMeasured() throws Exception {
    String token = fleet.token(Map.of(), null).token(); // no auto-approve
    try (Simulator s = sim(token, 5).approveWith(fleet.admin).build()) {
      assertThat(s.enroll()).isEqualTo(5);
      assertThat(fleet.admin.devices(DeviceState.ACTIVE, null, null)).extracting(DeviceInfo::id)
          .containsExactlyInAnyOrderElementsOf(s.deviceIds());
      Stats st = s.checkIns(Duration.ofMillis(1500), 4);
      assertThat(st.operations()).isPositive();
      assertThat(st.errors()).isZero();
      assertThat(st.p99Millis()).isGreaterThanOrEqualTo(st.p50Millis()).isPositive();
    }
  }

  @Test
  void aPendingDeviceWithoutApprovalTimesOutNamingIt() throws Exception {
    String token = fleet.token(Map.of(), null).token();
    try (Simulator s = sim(token, 1).enrollment(1, Duration.ofMillis(500)).build()) {
      assertThatThrownBy(s::enroll).hasMessageContaining("sim-000000").hasMessageContaining("still pending approval");
    }
    assertThatThrownBy(() -> Simulator.builder().server(URI.create("http://x:1"))).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("https://host:port");
  }
}

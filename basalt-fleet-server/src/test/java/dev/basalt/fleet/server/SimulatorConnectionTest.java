package dev.basalt.fleet.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.basalt.api.fleet.DeviceInfo;
import dev.basalt.fleet.client.simulate.Simulator;
import dev.basalt.fleet.client.simulate.Stats;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** The simulator's check-in benchmark over each kind of connection, against a real server (SQLite). */
class SimulatorConnectionTest {
  @TempDir Path dir;
  TestFleet fleet;
  String token;

  @BeforeEach
  void start() throws Exception {
    fleet = new TestFleet(TestFleet.Db.SQLITE, dir);
    token = fleet.token(Map.of("site", "sim"), "").token();
  }

  @AfterEach
  void stop() {
    fleet.close();
  }

  private Simulator simulator(int devices) throws Exception {
    return Simulator.builder().server(fleet.deviceUri()).caCertificate(fleet.server.caCertificatePem()).enrollmentToken(token)
        .devices(devices).identities(dir.resolve("ids")).build();
  }

  @ParameterizedTest
  @EnumSource(Simulator.Connection.class)
  void everyKindOfConnectionChecksInWithTheDevicesCertificate(Simulator.Connection connection) throws Exception {
    try (Simulator s = simulator(6)) {
      s.enroll();
      // fewer devices than workers: two workers may draw the same device at once
      Stats st = s.checkIns(Duration.ofMillis(1200), 8, connection);
      assertThat(st.errors()).isZero();
      assertThat(st.operations()).isGreaterThan(6);
      assertThat(st.requests()).as("a poll and a report each").isEqualTo(2 * st.operations());
      assertThat(s.openConnections()).isEqualTo(connection == Simulator.Connection.KEEP_ALIVE ? 6 : 0);
      // the reports reached the server, each device under its own identity
      assertThat(fleet.admin.devices(null, null, null)).hasSize(6).allSatisfy(d -> assertThat(d.lastSeen()).isNotNull())
          .extracting(DeviceInfo::id).containsExactlyInAnyOrderElementsOf(s.deviceIds());
    }
  }

  @Test
  void checkInEachVisitsEveryDeviceOnceAndKeepAliveKeepsTheirConnections() throws Exception {
    try (Simulator s = simulator(5)) {
      s.enroll();
      Stats warm = s.checkInEach(3, Simulator.Connection.KEEP_ALIVE);
      assertThat(warm.operations()).isEqualTo(5);
      assertThat(warm.errors()).isZero();
      assertThat(s.openConnections()).isEqualTo(5);
      assertThatThrownBy(() -> s.checkInEach(0, Simulator.Connection.FULL_HANDSHAKE)).hasMessageContaining("concurrency must be >= 1");
    }
    assertThatThrownBy(() -> simulator(1).checkIns(Duration.ofSeconds(1), 1, Simulator.Connection.RESUMED))
        .hasMessageContaining("enroll() first");
  }
}

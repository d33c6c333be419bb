package dev.basalt.fleet.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.basalt.api.Deployment;
import dev.basalt.api.Health;
import dev.basalt.api.NodeStatus;
import dev.basalt.api.UpdatePhase;
import dev.basalt.api.fleet.DesiredState;
import dev.basalt.api.fleet.DeviceInfo;
import dev.basalt.api.fleet.DeviceState;
import dev.basalt.api.fleet.FleetSpec;
import dev.basalt.fleet.client.DeviceClient;
import dev.basalt.fleet.client.FleetClientException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.Parameter;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.EnumSource;

/** A device's life end to end over real HTTP/TLS through {@link DeviceClient}, on SQLite and PostgreSQL. */
@ParameterizedClass
@EnumSource(TestFleet.Db.class)
class DeviceLifecycleTest {
  static final String D1 = "sha256:" + "1a".repeat(32);
  static final String D2 = "sha256:" + "2b".repeat(32);

  @Parameter TestFleet.Db db;
  @TempDir Path dir;
  TestFleet fleet;

  @BeforeEach
  void start() {
    fleet = new TestFleet(db, dir);
  }

  @AfterEach
  void stop() {
    fleet.close();
  }

  static NodeStatus status(String digest, Health h) {
    Deployment booted = new Deployment("r.example/os:1", digest, "ab".repeat(32), "b", 2, Instant.parse("2026-01-01T00:00:00Z"), h);
    return new NodeStatus(booted, null, null, List.of(D2), UpdatePhase.IDLE, null);
  }

  @Test
  void enrollsPendingUntilApprovedThenPollsAndReports() throws Exception {
    var token = fleet.token(Map.of("site", "lab"), null);
    DeviceClient c = fleet.device("kiosk-1", token.token()).labels(Map.of("role", "kiosk", "site", "spoofed")).build();
    CompletableFuture<String> enrolled = CompletableFuture.supplyAsync(() -> {
      try {
        return c.enroll(Duration.ofSeconds(30));
      } catch (Exception e) {
        throw new RuntimeException(e);
      }
    });
    DeviceInfo pending = awaitOne(DeviceState.PENDING);
    assertThat(pending.name()).isEqualTo("kiosk-1");
    assertThat(pending.labels()).as("token labels override the device's claims").containsExactlyInAnyOrderEntriesOf(Map.of("role", "kiosk", "site", "lab"));
    assertThat(enrolled).isNotDone();
    assertThat(c.isEnrolled()).isFalse();

    DeviceInfo approved = fleet.admin.approve(pending.id());
    assertThat(approved.state()).isEqualTo(DeviceState.ACTIVE);
    assertThat(enrolled.get(20, TimeUnit.SECONDS)).isEqualTo(pending.id());
    assertThat(c.isEnrolled()).isTrue();
    assertThat(c.certificate().orElseThrow().getSubjectX500Principal().getName()).contains("CN=" + pending.id());
    Path state = dir.resolve("dev-kiosk-1");
    for (String f : List.of("device.key", "device.crt", "ca.crt", "device.id")) {
      assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(state.resolve(f)))).as(f).isEqualTo("rw-------");
    }
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(state))).isEqualTo("rwx------");

    DesiredState none = c.pollDesired(null, Duration.ZERO).orElseThrow();
    assertThat(none.digest()).isNull();
    fleet.admin.createFleet(new FleetSpec("lab", "site=lab", "r.example/os@" + D1, null, null));
    DesiredState d = c.awaitDesired(none.etag());
    assertThat(d.digest()).isEqualTo(D1);
    assertThat(d.imageRef()).isEqualTo("r.example/os");
    assertThat(d.fleet()).isEqualTo("lab");
    assertThat(d.revision()).isGreaterThan(none.revision());

    c.report(new dev.basalt.api.fleet.StatusReport(status(D1, Health.HEALTHY), 12345));
    DeviceInfo seen = fleet.admin.device(pending.id());
    assertThat(seen.bootedDigest()).isEqualTo(D1);
    assertThat(seen.slot()).isEqualTo("b");
    assertThat(seen.health()).isEqualTo(Health.HEALTHY);
    assertThat(seen.updatePhase()).isEqualTo(UpdatePhase.IDLE);
    assertThat(seen.failedDigests()).containsExactly(D2);
    assertThat(seen.bytesDownloaded()).isEqualTo(12345);
    assertThat(seen.lastSeen()).isNotNull();
    assertThat(seen.fleet()).isEqualTo("lab");
    assertThat(fleet.admin.fleet("lab").members()).isEqualTo(1);
  }

  DeviceInfo awaitOne(DeviceState state) throws Exception {
    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
    while (System.nanoTime() < end) {
      List<DeviceInfo> l = fleet.admin.devices(state, null, null);
      if (!l.isEmpty()) return l.getFirst();
      Thread.sleep(20);
    }
    throw new AssertionError("no " + state.wireName() + " device appeared");
  }

  @Test
  void autoApproveRuleApprovesMatchingDevicesOnly() throws Exception {
    var auto = fleet.token(Map.of("site", "lab"), "site=lab");
    DeviceClient a = fleet.device("auto", auto.token()).build();
    assertThat(a.enroll(Duration.ofSeconds(5))).startsWith("d-");
    assertThat(fleet.admin.device(a.deviceId().orElseThrow()).state()).isEqualTo(DeviceState.ACTIVE);

    var manual = fleet.token(Map.of("site", "shop"), "site=lab");
    DeviceClient m = fleet.device("manual", manual.token()).labels(Map.of("site", "lab")).build();
    assertThatThrownBy(() -> m.enroll(Duration.ofMillis(1500))).isInstanceOf(FleetClientException.class).hasMessageContaining("pending");
    assertThat(fleet.admin.device(m.deviceId().orElseThrow()).state()).isEqualTo(DeviceState.PENDING);
  }

  @Test
  void renewedCertificateReplacesTheOldOneAtOnce() throws Exception {
    DeviceClient c = fleet.activeDevice("rot", Map.of());
    Path state = dir.resolve("dev-rot");
    Path old = dir.resolve("old-rot");
    Files.createDirectories(old);
    for (String f : List.of("device.key", "device.crt", "ca.crt", "device.id")) Files.copy(state.resolve(f), old.resolve(f));
    String oldSerial = c.certificate().orElseThrow().getSerialNumber().toString(16);
    assertThat(c.renewalDue()).isFalse();

    c.renew();
    String newSerial = c.certificate().orElseThrow().getSerialNumber().toString(16);
    assertThat(newSerial).isNotEqualTo(oldSerial);
    assertThat(fleet.admin.device(c.deviceId().orElseThrow()).certificateSerial()).isEqualTo(newSerial);
    assertThat(c.pollDesired(null, Duration.ZERO)).isPresent();
    DeviceClient stale = DeviceClient.builder().server(fleet.deviceUri()).stateDir(old).build();
    assertThatThrownBy(() -> stale.pollDesired(null, Duration.ZERO)).isInstanceOf(FleetClientException.class)
        .satisfies(e -> assertThat(((FleetClientException) e).status()).isEqualTo(403));
    // a restarted client reads the renewed identity from its directory
    DeviceClient again = DeviceClient.builder().server(fleet.deviceUri()).stateDir(state).build();
    assertThat(again.isEnrolled()).isTrue();
    assertThat(again.pollDesired(null, Duration.ZERO)).isPresent();
  }

  @Test
  void revokedCertificateIsRefusedAtOnceEvenInAWaitingPoll() throws Exception {
    DeviceClient c = fleet.activeDevice("rev", Map.of());
    DesiredState d = c.pollDesired(null, Duration.ZERO).orElseThrow();
    CompletableFuture<Object> waiting = CompletableFuture.supplyAsync(() -> {
      try {
        return c.pollDesired(d.etag(), Duration.ofSeconds(20));
      } catch (FleetClientException e) {
        return e;
      }
    });
    Thread.sleep(300);
    long t0 = System.nanoTime();
    fleet.admin.revoke(c.deviceId().orElseThrow());
    Object r = waiting.get(10, TimeUnit.SECONDS);
    assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(Duration.ofSeconds(3));
    assertThat(r).isInstanceOf(FleetClientException.class);
    assertThat(((FleetClientException) r).status()).isEqualTo(403);
    assertThatThrownBy(() -> c.report(new dev.basalt.api.fleet.StatusReport(status(D1, Health.HEALTHY), 0)))
        .isInstanceOf(FleetClientException.class).hasMessageContaining("403");
    assertThatThrownBy(c::renew).isInstanceOf(FleetClientException.class).hasMessageContaining("403");
  }

  @Test
  void decommissionedDeviceIsGone() throws Exception {
    DeviceClient c = fleet.activeDevice("gone", Map.of("site", "lab"));
    String id = c.deviceId().orElseThrow();
    fleet.admin.decommission(id);
    assertThatThrownBy(() -> fleet.admin.device(id)).isInstanceOf(FleetClientException.class)
        .satisfies(e -> assertThat(((FleetClientException) e).status()).isEqualTo(410));
    assertThat(fleet.admin.devices(null, null, null)).extracting(DeviceInfo::id).doesNotContain(id);
    assertThat(fleet.admin.devices(DeviceState.DECOMMISSIONED, null, null)).extracting(DeviceInfo::id).containsExactly(id);
    assertThatThrownBy(() -> c.pollDesired(null, Duration.ZERO)).isInstanceOf(FleetClientException.class).hasMessageContaining("403");
  }
}

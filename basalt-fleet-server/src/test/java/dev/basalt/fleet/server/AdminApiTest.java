package dev.basalt.fleet.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.basalt.api.fleet.AdminTokenRequest;
import dev.basalt.api.fleet.AuditEntry;
import dev.basalt.api.fleet.DeviceInfo;
import dev.basalt.api.fleet.DeviceUpdate;
import dev.basalt.api.fleet.FleetSpec;
import dev.basalt.fleet.client.DeviceClient;
import dev.basalt.fleet.client.FleetClientException;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.Parameter;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.EnumSource;

/** Fleets and membership, the audit log, OpenAPI and metrics, on SQLite and PostgreSQL. */
@ParameterizedClass
@EnumSource(TestFleet.Db.class)
class AdminApiTest {
  static final String D1 = "sha256:" + "1a".repeat(32);

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

  @Test
  void membershipFollowsLabelsAndSelectorsAndTwoFleetsIsAConflict() throws Exception {
    DeviceClient a = fleet.activeDevice("a", Map.of("site", "lab", "tier", "canary"));
    DeviceClient b = fleet.activeDevice("b", Map.of("site", "lab"));
    String idA = a.deviceId().orElseThrow();
    String idB = b.deviceId().orElseThrow();
    fleet.admin.createFleet(new FleetSpec("canary", "site=lab,tier in (canary)", "r.example/os", D1, null));
    FleetClientException e = org.junit.jupiter.api.Assertions.assertThrows(FleetClientException.class,
        () -> fleet.admin.createFleet(new FleetSpec("lab", "site=lab", "r.example/os", D1, null)));
    assertThat(e.status()).isEqualTo(409);
    assertThat(e.getMessage()).contains(idA).contains("canary and lab");
    assertThat(fleet.admin.fleets()).extracting(f -> f.spec().name()).containsExactly("canary");
    fleet.admin.createFleet(new FleetSpec("lab", "site=lab,tier notin (canary)", "r.example/os", D1, null));
    fleet.server.reconcileNow();
    assertThat(fleet.admin.fleetDevices("canary")).extracting(DeviceInfo::id).containsExactly(idA);
    assertThat(fleet.admin.fleetDevices("lab")).extracting(DeviceInfo::id).containsExactly(idB);
    assertThat(fleet.admin.device(idB).desired().digest()).isEqualTo(D1);

    // relabel b into canary: membership and desired state follow
    fleet.admin.updateDevice(idB, new DeviceUpdate(null, Map.of("site", "lab", "tier", "canary")));
    fleet.server.reconcileNow();
    assertThat(fleet.admin.fleetDevices("canary")).extracting(DeviceInfo::id).containsExactlyInAnyOrder(idA, idB);
    assertThat(fleet.admin.device(idB).desired().fleet()).isEqualTo("canary");
    // a selector change that would overlap is refused and changes nothing
    assertThatThrownBy(() -> fleet.admin.updateFleet(new FleetSpec("lab", "site=lab", "r.example/os", D1, null)))
        .isInstanceOf(FleetClientException.class).hasMessageContaining("409");
    assertThat(fleet.admin.fleet("lab").spec().selector()).isEqualTo("site=lab,tier notin (canary)");
    // leaving every fleet clears the assignment
    fleet.admin.updateDevice(idB, new DeviceUpdate("renamed", Map.of("site", "elsewhere")));
    fleet.server.reconcileNow();
    DeviceInfo moved = fleet.admin.device(idB);
    assertThat(moved.name()).isEqualTo("renamed");
    assertThat(moved.fleet()).isNull();
    assertThat(moved.desired().digest()).isNull();
    assertThat(fleet.admin.devices(null, null, "site=elsewhere")).extracting(DeviceInfo::id).containsExactly(idB);
    fleet.admin.deleteFleet("canary");
    assertThatThrownBy(() -> fleet.admin.fleet("canary")).hasMessageContaining("404");
  }

  @Test
  void everyChangeWritesOneAuditRowWithoutSecrets() throws Exception {
    List<String> secrets = new ArrayList<>(List.of(fleet.adminToken));
    var et = fleet.token(Map.of("site", "lab"), null);
    secrets.add(et.token());
    DeviceClient c = fleet.device("aud", et.token()).build();
    try {
      c.enroll(java.time.Duration.ofMillis(300));
    } catch (FleetClientException pending) {
      // approved below
    }
    String id = c.deviceId().orElseThrow();
    fleet.admin.approve(id);
    fleet.admin.updateDevice(id, new DeviceUpdate("n", Map.of("site", "lab")));
    fleet.admin.createFleet(new FleetSpec("lab", "site=lab", "r.example/os", D1, null));
    fleet.admin.updateFleet(new FleetSpec("lab", "site=lab", null, null, Map.of("batches", List.of("all"))));
    var at = fleet.admin.createAdminToken(new AdminTokenRequest("ci", Set.of("fleet:read"), null));
    secrets.add(at.token());
    fleet.admin.revokeAdminToken(at.id());
    fleet.admin.revoke(id);
    fleet.admin.decommission(id);
    fleet.admin.deleteFleet("lab");
    fleet.admin.revokeEnrollmentToken(et.id());
    List<AuditEntry> log = new ArrayList<>(fleet.admin.audit(100, 0));
    Collections.reverse(log);
    assertThat(log).extracting(AuditEntry::action).containsExactly("admin-token.create", "enrollment-token.create",
        "device.enroll", "device.approve", "device.update", "fleet.create", "fleet.update", "admin-token.create",
        "admin-token.revoke", "device.revoke", "device.decommission", "fleet.delete", "enrollment-token.revoke");
    assertThat(log.get(0).actor()).isEqualTo("system");
    assertThat(log.get(3).actor()).isEqualTo("token:bootstrap");
    assertThat(log.get(3).object()).isEqualTo("device:" + id);
    assertThat(log.get(2).actor()).isEqualTo("enrollment-token:test-image");
    String all = log.toString();
    for (String s : secrets) assertThat(all).doesNotContain(s);
    assertThat(fleet.admin.audit(2, log.get(5).id())).extracting(AuditEntry::action).containsExactly("device.update", "device.approve");
  }

  @Test
  void openApiDocumentsEveryRegisteredRoute() throws Exception {
    HttpResponse<String> r = Raw.send(Raw.plain(), "GET", fleet.httpUri("/openapi"), null, null);
    assertThat(r.statusCode()).isEqualTo(200);
    Map<String, Set<String>> documented = new java.util.HashMap<>();
    String path = null;
    for (String line : r.body().split("\n")) {
      Matcher p = Pattern.compile("^  (/\\S*):\\s*$").matcher(line);
      Matcher m = Pattern.compile("^    (get|post|put|patch|delete):.*$").matcher(line);
      if (p.matches()) path = p.group(1);
      else if (!line.startsWith(" ")) path = null;
      else if (m.matches() && path != null) documented.computeIfAbsent(path, k -> new java.util.HashSet<>()).add(m.group(1).toUpperCase());
    }
    assertThat(fleet.server.routes()).hasSizeGreaterThan(20);
    for (String route : fleet.server.routes()) {
      String[] mp = route.split(" ", 2);
      assertThat(documented.getOrDefault(mp[1], Set.of())).as("OpenAPI documents %s", route).contains(mp[0]);
    }
    int documentedCount = documented.values().stream().mapToInt(Set::size).sum();
    assertThat(documentedCount).as("nothing documented that is not served").isEqualTo(fleet.server.routes().size());
  }

  @Test
  void metricsCountCheckInsEnrollmentsDevicesAndLatency() throws Exception {
    DeviceClient c = fleet.activeDevice("m", Map.of());
    c.pollDesired(null, java.time.Duration.ZERO);
    c.report(new dev.basalt.api.fleet.StatusReport(DeviceLifecycleTest.status(D1, dev.basalt.api.Health.HEALTHY), 5));
    HttpResponse<String> r = Raw.send(Raw.plain(), "GET", fleet.httpUri("/metrics"), null, null);
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.headers().firstValue("Content-Type").orElseThrow()).startsWith("text/plain; version=0.0.4");
    assertThat(r.body()).contains("basalt_fleet_checkins_total 1\n", "basalt_fleet_status_reports_total 1\n",
        "basalt_fleet_enrollments_total{result=\"approved\"} 1\n", "basalt_fleet_devices{state=\"active\"} 1\n",
        "basalt_fleet_devices{state=\"pending\"} 0\n",
        "basalt_fleet_http_request_duration_seconds_bucket{listener=\"device\",method=\"POST\",route=\"/device/v1/status\",code=\"204\",le=\"+Inf\"} 1\n",
        "basalt_fleet_http_request_duration_seconds_count{listener=\"http\",method=\"POST\",route=\"/api/v1/enrollment-tokens\",code=\"201\"} 1\n");
    HttpResponse<String> h = Raw.send(Raw.plain(), "GET", fleet.httpUri("/healthz"), null, null);
    assertThat(h.body()).contains("\"status\":\"ok\"").contains("\"controller\":true");
  }
}

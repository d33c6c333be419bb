package dev.basalt.fleet.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.basalt.api.fleet.AdminTokenRequest;
import dev.basalt.api.fleet.AuditEntry;
import dev.basalt.api.fleet.DeviceInfo;
import dev.basalt.api.fleet.FleetSpec;
import dev.basalt.api.fleet.RolloutEventInfo;
import dev.basalt.api.fleet.RolloutInfo;
import dev.basalt.api.fleet.RolloutRequest;
import dev.basalt.fleet.client.AdminClient;
import dev.basalt.fleet.client.FleetClientException;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.Parameter;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.EnumSource;

/** The rollout routes: errors, scopes, audit, and starting rollouts by setting a target, on SQLite and PostgreSQL. */
@ParameterizedClass
@EnumSource(TestFleet.Db.class)
class RolloutApiTest {
  static final String D1 = "sha256:" + "1a".repeat(32);
  static final String D2 = "sha256:" + "2b".repeat(32);
  static final String D3 = "sha256:" + "3c".repeat(32);
  /** Long soak: the rollouts here never finish by themselves. */
  static final Map<String, Object> SLOW = Map.of("batches", List.of("50%", "100%"), "soak", "PT1H");

  @Parameter TestFleet.Db db;
  @TempDir Path dir;
  TestFleet fleet;
  List<String> devices = new ArrayList<>();

  @BeforeEach
  void start() throws Exception {
    fleet = new TestFleet(db, dir, b -> b.controllerInterval(java.time.Duration.ofMillis(50)));
    for (int i = 0; i < 3; i++) devices.add(fleet.activeDevice("d" + i, Map.of("site", "lab")).deviceId().orElseThrow());
    fleet.admin.createFleet(new FleetSpec("lab", "site=lab", "r.example/os@" + D1, null, null));
    fleet.server.reconcileNow();
  }

  @AfterEach
  void stop() {
    fleet.close();
  }

  static FleetClientException fails(int status, Executable call, String... messageParts) {
    FleetClientException e = assertThrows(FleetClientException.class, call);
    assertThat(e.status()).as(e.getMessage()).isEqualTo(status);
    for (String p : messageParts) assertThat(e.getMessage()).contains(p);
    return e;
  }

  @Test
  void startListReadAndEventsAfterSeq() throws Exception {
    RolloutInfo r = fleet.admin.startRollout("lab", new RolloutRequest("r.example/os@" + D2, null, SLOW));
    assertThat(r.phase()).isEqualTo("RUNNING");
    assertThat(r.active()).isTrue();
    assertThat(r.targetRef()).isEqualTo("r.example/os");
    assertThat(r.targetDigest()).isEqualTo(D2);
    assertThat(r.previousDigest()).isEqualTo(D1);
    assertThat(r.createdBy()).isEqualTo("token:bootstrap");
    assertThat(r.waves()).extracting(RolloutInfo.Wave::devices).containsExactly(2, 1);
    assertThat(r.policy()).containsEntry("soak", "PT1H");
    fleet.server.reconcileNow();
    RolloutInfo now = fleet.admin.rollout(r.id());
    assertThat(now.releasedWaves()).isEqualTo(1);
    assertThat(now.waves().get(0).stages()).containsExactly(Map.entry("DOWNLOADING", 2));
    // the released devices' desired states: the new digest, download only
    long downloading = devices.stream().map(this::device).filter(d -> D2.equals(d.desired().digest()) && !d.desired().rebootAllowed()).count();
    assertThat(downloading).isEqualTo(2);
    assertThat(fleet.admin.rollouts("lab")).extracting(RolloutInfo::id).containsExactly(r.id());

    List<RolloutEventInfo> all = fleet.admin.rolloutEvents(r.id());
    assertThat(all).extracting(RolloutEventInfo::type).startsWith("PLANNED", "STARTED", "WAVE_STARTED");
    assertThat(all).extracting(RolloutEventInfo::seq).containsExactly(java.util.stream.LongStream.rangeClosed(1, all.size()).boxed().toArray(Long[]::new));
    assertThat(fleet.admin.rolloutEvents(r.id(), 2, 1000)).extracting(RolloutEventInfo::seq).allMatch(s -> s > 2).hasSize(all.size() - 2);
    assertThat(fleet.admin.rolloutEvents(r.id(), 1, 1)).extracting(RolloutEventInfo::seq).containsExactly(2L);
    assertThat(fleet.admin.rolloutEvents(r.id(), all.getLast().seq(), 1000)).isEmpty();
    HttpResponse<String> bad = Raw.send(Raw.plain(), "GET", fleet.httpUri("/api/v1/rollouts/" + r.id() + "/events?after=-1"), fleet.adminToken, null);
    assertThat(bad.statusCode()).isEqualTo(400);
    assertThat(bad.body()).contains("after must be an event seq >= 0, got '-1'");
  }

  DeviceInfo device(String id) {
    try {
      return fleet.admin.device(id);
    } catch (FleetClientException e) {
      throw new AssertionError(e);
    }
  }

  @Test
  void preciseErrors() throws Exception {
    fails(404, () -> fleet.admin.startRollout("nope", new RolloutRequest("r.example/os", D2, null)), "fleet nope does not exist");
    fails(404, () -> fleet.admin.rollouts("nope"), "fleet nope does not exist");
    fails(404, () -> fleet.admin.rollout("r-missing"), "rollout r-missing does not exist");
    fails(404, () -> fleet.admin.pauseRollout("r-missing", null), "rollout r-missing does not exist");
    fails(409, () -> fleet.admin.startRollout("lab", new RolloutRequest("r.example/os", D1, null)), "already has target " + D1);
    fails(400, () -> fleet.admin.startRollout("lab", new RolloutRequest("r.example/os", D2, Map.of("batches", List.of("50%")))),
        "invalid rollout policy", "the last batch must be \"100%\" or \"all\"");
    fleet.admin.createFleet(new FleetSpec("empty", "site=none", null, null, null));
    fails(409, () -> fleet.admin.startRollout("empty", new RolloutRequest("r.example/os", D2, null)), "fleet empty has no target yet");
    // bodies the typed client cannot send
    String base = "/api/v1/fleets/lab/rollouts";
    HttpResponse<String> noDigest = Raw.send(Raw.plain(), "POST", fleet.httpUri(base), fleet.adminToken, "{\"targetRef\":\"r.example/os:2\"}");
    assertThat(noDigest.statusCode()).isEqualTo(400);
    assertThat(noDigest.body()).contains("the target needs a digest");
    HttpResponse<String> unknown = Raw.send(Raw.plain(), "POST", fleet.httpUri(base), fleet.adminToken,
        "{\"targetRef\":\"r.example/os@" + D2 + "\",\"polcy\":{}}");
    assertThat(unknown.statusCode()).isEqualTo(400);
    assertThat(unknown.body()).contains("polcy");

    RolloutInfo r = fleet.admin.startRollout("lab", new RolloutRequest("r.example/os", D2, SLOW));
    fails(409, () -> fleet.admin.startRollout("lab", new RolloutRequest("r.example/os", D3, null)), "already has an active rollout " + r.id());
    fails(409, () -> fleet.admin.updateFleet(new FleetSpec("lab", "site=lab", "r.example/os@" + D3, null, null)),
        "has an active rollout " + r.id());
    fails(409, () -> fleet.admin.resumeRollout(r.id()), "cannot resume rollout " + r.id() + ": it is RUNNING");
    fails(400, () -> fleet.admin.approveRollout(r.id(), 7), "no wave 7, the plan has waves 0-1");
    HttpResponse<String> waveOnPause = Raw.send(Raw.plain(), "POST", fleet.httpUri("/api/v1/rollouts/" + r.id() + "/pause"),
        fleet.adminToken, "{\"wave\":1}");
    assertThat(waveOnPause.statusCode()).isEqualTo(400);
    assertThat(fleet.admin.pauseRollout(r.id(), "looking").phase()).isEqualTo("PAUSED");
    fails(409, () -> fleet.admin.pauseRollout(r.id(), null), "cannot pause rollout " + r.id() + ": it is PAUSED");
    assertThat(fleet.admin.resumeRollout(r.id()).phase()).isEqualTo("RUNNING");
    RolloutInfo aborted = fleet.admin.abortRollout(r.id(), "enough");
    assertThat(aborted.phase()).isEqualTo("ABORTED");
    assertThat(aborted.active()).isFalse();
    assertThat(aborted.reason()).isEqualTo("enough");
    fails(409, () -> fleet.admin.abortRollout(r.id(), null), "already ABORTED");
    fails(409, () -> fleet.admin.revertRollout(r.id(), null), "cannot revert rollout " + r.id() + ": it is ABORTED");
    // history stays; a new rollout may start
    RolloutInfo next = fleet.admin.startRollout("lab", new RolloutRequest("r.example/os", D3, SLOW));
    assertThat(fleet.admin.rollouts("lab")).extracting(RolloutInfo::id).containsExactly(next.id(), r.id());
  }

  @Test
  void scopesAndAudit() throws Exception {
    var ro = fleet.admin.createAdminToken(new AdminTokenRequest("viewer", Set.of("fleet:read"), null));
    AdminClient viewer = new AdminClient(fleet.httpUri(""), ro.token());
    fails(403, () -> viewer.startRollout("lab", new RolloutRequest("r.example/os", D2, null)), "lacks scope fleet:write");
    RolloutInfo r = fleet.admin.startRollout("lab", new RolloutRequest("r.example/os", D2, SLOW));
    assertThat(viewer.rollout(r.id()).id()).isEqualTo(r.id());
    assertThat(viewer.rollouts("lab")).hasSize(1);
    assertThat(viewer.rolloutEvents(r.id())).isNotEmpty();
    for (Executable act : List.<Executable>of(() -> viewer.pauseRollout(r.id(), null), () -> viewer.resumeRollout(r.id()),
        () -> viewer.approveRollout(r.id(), null), () -> viewer.revertRollout(r.id(), null), () -> viewer.abortRollout(r.id(), null))) {
      fails(403, act, "lacks scope fleet:write");
    }
    for (String path : List.of("/api/v1/fleets/lab/rollouts", "/api/v1/rollouts/" + r.id(), "/api/v1/rollouts/" + r.id() + "/events")) {
      assertThat(Raw.send(Raw.plain(), "GET", fleet.httpUri(path), null, null).statusCode()).as(path).isEqualTo(401);
    }
    fleet.admin.pauseRollout(r.id(), "maintenance");
    fleet.admin.revertRollout(r.id(), "bad build");
    assertThat(fleet.admin.rollout(r.id()).phase()).isIn("REVERTING", "REVERTED");
    List<AuditEntry> log = new ArrayList<>(fleet.admin.audit(100, 0));
    Collections.reverse(log);
    List<AuditEntry> rollout = log.stream().filter(e -> e.object().equals("rollout:" + r.id())).toList();
    assertThat(rollout).extracting(AuditEntry::action).containsExactly("rollout.start", "rollout.pause", "rollout.revert");
    assertThat(rollout).extracting(AuditEntry::actor).containsOnly("token:bootstrap");
    assertThat(rollout.get(0).details()).containsEntry("target", "r.example/os@" + D2).containsEntry("previous", "r.example/os@" + D1);
    assertThat(rollout.get(2).details()).containsEntry("reason", "bad build");
  }

  @Test
  void settingTheTargetOfAFleetWithAPolicyStartsARollout() throws Exception {
    fleet.admin.updateFleet(new FleetSpec("lab", "site=lab", "r.example/os@" + D1, null, SLOW));
    var f = fleet.admin.updateFleet(new FleetSpec("lab", "site=lab", "r.example/os@" + D2, null, SLOW));
    assertThat(f.spec().targetDigest()).as("the fleet keeps its target until the rollout succeeds").isEqualTo(D1);
    List<RolloutInfo> rs = fleet.admin.rollouts("lab");
    assertThat(rs).hasSize(1);
    assertThat(rs.getFirst().targetDigest()).isEqualTo(D2);
    assertThat(rs.getFirst().previousDigest()).isEqualTo(D1);
    fails(400, () -> fleet.admin.updateFleet(new FleetSpec("lab", "site=lab", "r.example/os@" + D1, null, Map.of("soak", "PT1H", "batches", List.of()))),
        "batches must not be empty");
    // without a policy a fleet's target is assigned at once (once no rollout is active)
    fleet.admin.abortRollout(rs.getFirst().id(), null);
    fleet.admin.updateFleet(new FleetSpec("lab", "site=lab", "r.example/os@" + D3, null, null));
    fleet.server.reconcileNow();
    assertThat(devices).allSatisfy(id -> {
      assertThat(device(id).desired().digest()).isEqualTo(D3);
      assertThat(device(id).desired().rebootAllowed()).isTrue();
    });
  }
}

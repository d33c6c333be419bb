package dev.basalt.fleet.server.rollout;

import static dev.basalt.fleet.server.rollout.FleetSim.NEW;
import static dev.basalt.fleet.server.rollout.FleetSim.NEW_IMAGE;
import static dev.basalt.fleet.server.rollout.FleetSim.OLD;
import static dev.basalt.fleet.server.rollout.FleetSim.OLD_IMAGE;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.basalt.api.Health;
import dev.basalt.api.UpdatePhase;
import dev.basalt.fleet.server.rollout.RolloutEvent.Type;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.function.Function;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import tools.jackson.databind.json.JsonMapper;

class RolloutEngineTest {
  private static final Instant T0 = Instant.parse("2025-06-01T10:00:00Z");
  private static final JsonMapper JSON = JsonMapper.builder().build();

  private final FleetSim.SimClock clock = new FleetSim.SimClock(T0);
  private final RolloutEngine engine = new RolloutEngine(clock);

  private static DeviceView old(String id, Map<String, String> labels) {
    return new DeviceView(id, labels, OLD, null, Health.HEALTHY, UpdatePhase.IDLE, Set.of(), T0, T0.minusSeconds(86400), true);
  }

  private static List<DeviceView> fleet(int n, Function<Integer, Map<String, String>> labels) {
    return IntStream.range(0, n).mapToObj(i -> old(String.format("d%04d", i), labels.apply(i))).toList();
  }

  private static DeviceView with(DeviceView v, String booted, String staged, Health h, Set<String> failed, Instant since) {
    return new DeviceView(v.id(), v.labels(), booted, staged, h, UpdatePhase.IDLE, failed, v.lastSeen(), since, v.online());
  }

  private static List<Integer> sizes(RolloutState s) {
    return s.waves().stream().map(List::size).toList();
  }

  @ParameterizedTest(name = "{0} devices, {1} canaries, batches {2} -> {3}")
  @CsvSource(delimiter = ';', value = {
      "1000; 0; 1%,10%,50%,100%; 10,90,400,500",
      "1000; 0; 10,100,all; 10,90,900",
      "50; 0; 1%,100%; 1,49",
      "5; 0; 10,all; 5,0",
      "1000; 20; 10%,100%; 20,98,882",
      "3; 3; all; 3,0"})
  void planCutsCumulativeBatchesAfterTheCanaries(int n, int canaries, String batches, String expected) {
    var b = RolloutPolicy.builder().batches(batches.split(","));
    if (canaries > 0) b.canary("ring", "canary");
    var policy = b.build();
    var s = engine.plan("r", NEW_IMAGE, OLD_IMAGE, policy, fleet(n, i -> i < canaries ? Map.of("ring", "canary") : Map.of())).next();
    assertThat(sizes(s)).map(String::valueOf).containsExactly(expected.split(","));
    assertThat(s.phase()).isEqualTo(RolloutPhase.PENDING);
    if (canaries > 0) assertThat(s.waves().getFirst()).allMatch(id -> Integer.parseInt(id.substring(1)) < canaries);
    for (List<String> w : s.waves()) assertThat(w).isSorted();
  }

  @Test
  void planIsTheSameBytesWhateverTheInputOrderAndDependsOnTheRolloutId() {
    var policy = RolloutPolicy.builder().batches("10%", "100%").build();
    var devices = new ArrayList<>(fleet(500, i -> Map.of("site", "s" + i % 3)));
    String a = JSON.writeValueAsString(engine.plan("r-1", NEW_IMAGE, OLD_IMAGE, policy, devices).next());
    Collections.shuffle(devices, new Random(4));
    String b = JSON.writeValueAsString(engine.plan("r-1", NEW_IMAGE, OLD_IMAGE, policy, devices).next());
    assertThat(b).isEqualTo(a);
    var other = engine.plan("r-2", NEW_IMAGE, OLD_IMAGE, policy, devices).next();
    var first = engine.plan("r-1", NEW_IMAGE, OLD_IMAGE, policy, devices).next();
    assertThat(other.waves().getFirst()).hasSize(50).isNotEqualTo(first.waves().getFirst());
  }

  @Test
  void planRejectsBadInputWithPreciseMessages() {
    var policy = RolloutPolicy.builder().canary("ring", "canary").build();
    var devices = fleet(3, i -> Map.of());
    assertThatThrownBy(() -> engine.plan("r", NEW_IMAGE, OLD_IMAGE, policy, devices))
        .hasMessage("rollout r: canary selector {ring=canary} matches none of the 3 devices");
    assertThatThrownBy(() -> engine.plan("r", NEW_IMAGE, NEW_IMAGE, RolloutPolicy.builder().build(), devices))
        .hasMessage("rollout r: target and previous are the same digest " + NEW);
    var twice = List.of(devices.get(0), devices.get(1), devices.get(0));
    assertThatThrownBy(() -> engine.plan("r", NEW_IMAGE, OLD_IMAGE, RolloutPolicy.builder().build(), twice))
        .hasMessage("devices: device id d0000 appears twice");
  }

  /** One wave, no soak, no download-first: a device succeeds as soon as it reports the new digest healthy. */
  private RolloutState releasedSingleWave(RolloutPolicy policy, List<DeviceView> devices) {
    var s = engine.plan("r", NEW_IMAGE, OLD_IMAGE, policy, devices).next();
    s = engine.start(s).next();
    var step = engine.step(s, policy, devices);
    assertThat(step.assignments()).hasSize(devices.size()).allSatisfy((id, a) -> assertThat(a).isEqualTo(new Assignment(
        NEW_IMAGE.imageRef(), NEW, true)));
    return step.next();
  }

  @ParameterizedTest(name = "{0} devices, success {1}, failure {2}: {3} ok, {4} failed -> {5}")
  @CsvSource({
      "10, 0.3, 0.5, 3, 0, SUCCEEDED",
      "10, 0.3, 0.5, 2, 0, RUNNING",
      "1, 0.5, 0.0, 1, 0, SUCCEEDED",
      "1, 0.5, 0.0, 0, 0, RUNNING",
      "10, 0.8, 0.2, 8, 2, SUCCEEDED",
      "10, 0.8, 0.2, 7, 3, PAUSED",
      "10, 1.0, 0.5, 9, 1, PAUSED",
      "10, 0.5, 0.0, 5, 1, PAUSED",
      "10, 0.5, 0.0, 0, 0, RUNNING",
      "3, 0.66, 0.4, 2, 1, SUCCEEDED"})
  void successAndFailureThresholdEdges(int n, double success, double failure, int ok, int failed, RolloutPhase expected) {
    var policy = RolloutPolicy.builder().soak(Duration.ZERO).successThreshold(success).failureThreshold(failure)
        .downloadFirst(false).build();
    var devices = fleet(n, i -> Map.of());
    var s = releasedSingleWave(policy, devices);
    var now = new ArrayList<DeviceView>();
    for (int i = 0; i < n; i++) {
      DeviceView v = devices.get(i);
      if (i < ok) v = with(v, NEW, null, Health.HEALTHY, Set.of(), T0);
      else if (i < ok + failed) v = with(v, OLD, null, Health.HEALTHY, Set.of(NEW), T0);
      now.add(v);
    }
    clock.now = T0.plusSeconds(60);
    var step = engine.step(s, policy, now);
    assertThat(step.next().phase()).isEqualTo(expected);
    assertThat(step.events()).filteredOn(e -> e.type() == Type.DEVICE_SUCCEEDED).hasSize(ok);
    assertThat(step.events()).filteredOn(e -> e.type() == Type.DEVICE_FAILED).hasSize(failed);
    // A device that failed and fell back gets the previous digest back; it runs it, so no reboot.
    for (int i = ok; i < ok + failed; i++) {
      assertThat(step.assignments().get(devices.get(i).id())).isEqualTo(new Assignment(OLD_IMAGE.imageRef(), OLD, false));
    }
  }

  @Test
  void approvalGateWaitsThenContinuesOnApprove() {
    var policy = RolloutPolicy.builder().batches("50%", "100%").soak(Duration.ofMinutes(5)).approvalBefore(1).build();
    var sim = new FleetSim(policy, T0);
    for (int i = 0; i < 20; i++) sim.add("d" + i, Map.of());
    sim.planAndStart("r-gate").runUntil(FleetSim.phase(RolloutPhase.WAITING_APPROVAL), 500);
    for (int i = 0; i < 100; i++) sim.tick();
    assertThat(sim.state.phase()).isEqualTo(RolloutPhase.WAITING_APPROVAL);
    assertThat(sim.state.releasedWaves()).isEqualTo(1);
    assertThat(sim.gotNew).hasSize(10).allMatch(id -> sim.state.devices().get(id).wave() == 0);
    assertThat(sim.events(Type.WAITING_APPROVAL)).singleElement().extracting(RolloutEvent::wave).isEqualTo(1);
    assertThatThrownBy(() -> engine.approve(sim.state, 0)).hasMessage("rollout r-gate: wave 0 was already released");
    assertThatThrownBy(() -> engine.approve(sim.state, 2)).hasMessage("rollout r-gate: no wave 2, the plan has waves 0-1");

    sim.apply(sim.engine.approve(sim.state));
    assertThat(sim.state.phase()).isEqualTo(RolloutPhase.RUNNING);
    sim.runUntil(FleetSim.phase(RolloutPhase.SUCCEEDED), 500);
    assertThat(sim.gotNew).hasSize(20);
    assertThat(sim.violations).isEmpty();
    assertThatThrownBy(() -> engine.approve(sim.state)).isInstanceOf(IllegalStateException.class)
        .hasMessage("rollout r-gate is SUCCEEDED, not waiting for an approval");
  }

  @Test
  void approvalAheadOfTimeAndAGateBeforeTheFirstWave() {
    var policy = RolloutPolicy.builder().batches("50%", "100%").soak(Duration.ZERO).approvalBefore(0).approvalBefore(1).build();
    var sim = new FleetSim(policy, T0);
    for (int i = 0; i < 4; i++) sim.add("d" + i, Map.of());
    sim.planAndStart("r");
    sim.tick();
    assertThat(sim.state.phase()).isEqualTo(RolloutPhase.WAITING_APPROVAL);
    assertThat(sim.gotNew).isEmpty();
    sim.apply(sim.engine.approve(sim.state, 1)); // ahead of time: wave 1 will not wait
    assertThat(sim.state.phase()).isEqualTo(RolloutPhase.WAITING_APPROVAL);
    sim.apply(sim.engine.approve(sim.state));
    sim.runUntil(FleetSim.phase(RolloutPhase.SUCCEEDED), 200);
    assertThat(sim.events(Type.WAITING_APPROVAL)).hasSize(1);
  }

  @Test
  void pauseHoldsEverythingResumeContinuesAbortEnds() {
    var policy = RolloutPolicy.builder().batches("25%", "100%").soak(Duration.ofMinutes(5)).budget("site", "1").build();
    var sim = new FleetSim(policy, T0);
    for (int i = 0; i < 40; i++) sim.add("d" + i, Map.of("site", "s" + i % 2));
    sim.planAndStart("r-pause");
    for (int i = 0; i < 3; i++) sim.tick();
    sim.apply(sim.engine.pause(sim.state, "operator: looking at logs"));
    assertThat(sim.state.phase()).isEqualTo(RolloutPhase.PAUSED);
    assertThat(sim.state.reason()).isEqualTo("operator: looking at logs");
    int released = sim.events(Type.REBOOT_RELEASED).size();
    int assigned = sim.gotNew.size();
    for (int i = 0; i < 100; i++) sim.tick();
    assertThat(sim.events(Type.REBOOT_RELEASED)).hasSize(released);
    assertThat(sim.gotNew).hasSize(assigned);
    assertThat(sim.state.releasedWaves()).isEqualTo(1);
    assertThatThrownBy(() -> engine.pause(sim.state, null)).isInstanceOf(IllegalStateException.class)
        .hasMessage("cannot pause rollout r-pause: it is PAUSED");

    sim.apply(sim.engine.resume(sim.state));
    sim.runUntil(s -> s.releasedWaves() == 2, 500);
    sim.apply(sim.engine.abort(sim.state, "enough"));
    assertThat(sim.state.phase()).isEqualTo(RolloutPhase.ABORTED);
    assertThat(sim.state.finishedAt()).isEqualTo(sim.clock.now);
    var before = sim.state;
    var step = engine.step(before, policy, sim.views());
    assertThat(step.next()).isSameAs(before);
    assertThat(step.events()).isEmpty();
    assertThat(step.assignments()).isEmpty();
    assertThatThrownBy(() -> engine.abort(before, null)).hasMessage("cannot abort rollout r-pause: it is already ABORTED");
    assertThatThrownBy(() -> engine.resume(before)).hasMessage("cannot resume rollout r-pause: it is ABORTED");
    assertThat(sim.violations).isEmpty();
  }

  @Test
  void resumeAfterAFailurePauseAcceptsTheFailedDevices() {
    var policy = RolloutPolicy.builder().batches("20%", "100%").soak(Duration.ofMinutes(5)).successThreshold(0.9)
        .failureThreshold(0.1).build();
    var sim = new FleetSim(policy, T0);
    for (int i = 0; i < 50; i++) sim.add(String.format("d%02d", i), Map.of());
    sim.planAndStart("r-resume");
    sim.state.waves().getFirst().stream().limit(3).forEach(id -> sim.devices.get(id).failsNew = true);
    sim.runUntil(FleetSim.phase(RolloutPhase.PAUSED), 300);
    sim.apply(sim.engine.resume(sim.state));
    assertThat(sim.log.getLast().counts()).containsEntry("acknowledgedFailures", 3);
    assertThat(sim.state.acknowledgedFailures()).isEqualTo(3);
    sim.runUntil(FleetSim.phase(RolloutPhase.SUCCEEDED), 500);
    assertThat(sim.events(Type.WAVE_SUCCEEDED).getFirst().counts()).containsEntry("devices", 7).containsEntry("failed", 0);
    assertThat(sim.violations).isEmpty();
  }

  @Test
  void aDeviceThatFailedTheDigestIsNeverOfferedItAgain() {
    var policy = RolloutPolicy.builder().batches("50%", "100%").soak(Duration.ofMinutes(5)).successThreshold(0.5)
        .failureThreshold(0.5).build();
    var sim = new FleetSim(policy, T0);
    for (int i = 0; i < 10; i++) sim.add("d" + i, Map.of());
    sim.devices.get("d3").failed.add(NEW); // failed it in an earlier attempt
    sim.devices.get("d7").failsNew = true; // fails it in this one
    sim.planAndStart("r-memory").runUntil(FleetSim.phase(RolloutPhase.SUCCEEDED), 500);
    assertThat(sim.gotNew).doesNotContain("d3");
    assertThat(sim.events(Type.DEVICE_SKIPPED)).singleElement().extracting(RolloutEvent::deviceId).isEqualTo("d3");
    assertThat(sim.state.devices().get("d3").stage()).isEqualTo(DeviceStage.FAILED);
    assertThat(sim.state.devices().get("d7").stage()).isEqualTo(DeviceStage.FAILED);
    // d7 was unhealthy on the new digest: the reboot back was released (within the budget).
    assertThat(sim.desired.get("d7")).isEqualTo(new Assignment(OLD_IMAGE.imageRef(), OLD, true));
    assertThat(sim.events(Type.REVERT_RELEASED)).extracting(RolloutEvent::deviceId).containsExactly("d7");
    assertThat(sim.devices.get("d7").rebootsIntoNew).hasSize(1);
    assertThat(sim.devices.get("d7").booted).isEqualTo(OLD);
    assertThat(sim.events(Type.WAVE_SUCCEEDED)).extracting(e -> e.counts().get("failed")).containsExactly(1, 1);
  }

  @Test
  void devicesJoiningMidRolloutGoToTheLastWaveAndLeaversStopCounting() {
    var policy = RolloutPolicy.builder().batches("50%", "100%").soak(Duration.ofMinutes(5)).build();
    var sim = new FleetSim(policy, T0);
    for (int i = 0; i < 10; i++) sim.add("d" + i, Map.of());
    sim.planAndStart("r-join");
    for (int i = 0; i < 3; i++) sim.tick();
    String leaver = sim.state.waves().getFirst().getFirst();
    sim.devices.get(leaver).present = false;
    sim.add("late-1", Map.of());
    sim.add("late-0", Map.of());
    sim.tick();
    assertThat(sim.events(Type.DEVICE_JOINED)).extracting(RolloutEvent::deviceId, RolloutEvent::wave)
        .containsExactly(org.assertj.core.groups.Tuple.tuple("late-0", 1), org.assertj.core.groups.Tuple.tuple("late-1", 1));
    assertThat(sim.events(Type.DEVICE_LEFT)).singleElement().extracting(RolloutEvent::deviceId).isEqualTo(leaver);
    sim.runUntil(FleetSim.phase(RolloutPhase.SUCCEEDED), 500);
    assertThat(sim.state.waves().get(1)).endsWith("late-0", "late-1");
    assertThat(sim.devices.get("late-0").booted).isEqualTo(NEW);
    assertThat(sim.state.devices().get(leaver).stage()).isEqualTo(DeviceStage.LEFT);
    assertThat(sim.events(Type.WAVE_SUCCEEDED).getFirst().counts()).containsEntry("devices", 4);
    assertThat(sim.violations).isEmpty();
  }

  @Test
  void aReleasedDeviceThatDoesNotSucceedInTimeFails() {
    var policy = RolloutPolicy.builder().soak(Duration.ofMinutes(5)).deviceTimeout(Duration.ofMinutes(30))
        .downloadFirst(false).failureThreshold(0.5).successThreshold(0.5).build();
    var devices = fleet(2, i -> Map.of());
    var s = releasedSingleWave(policy, devices);
    clock.now = T0.plus(Duration.ofMinutes(29));
    assertThat(engine.step(s, policy, devices).events()).noneMatch(e -> e.type() == Type.DEVICE_FAILED);
    clock.now = T0.plus(Duration.ofMinutes(30));
    var step = engine.step(s, policy, devices);
    assertThat(step.events()).filteredOn(e -> e.type() == Type.DEVICE_FAILED).extracting(RolloutEvent::message)
        .containsExactly("d0000 did not succeed within PT30M of its release", "d0001 did not succeed within PT30M of its release");
  }

  @Test
  void aReleaseIsWithdrawnWhenTheWindowClosesBeforeTheReboot() {
    // Open 10:00-10:30 UTC every day.
    var policy = RolloutPolicy.builder().soak(Duration.ZERO).window("0 10 * * *", Duration.ofMinutes(30), "UTC").build();
    var devices = fleet(1, i -> Map.of());
    var s = engine.start(engine.plan("r", NEW_IMAGE, OLD_IMAGE, policy, devices).next()).next();
    var step = engine.step(s, policy, devices); // 10:00: download only
    assertThat(step.assignments()).containsEntry("d0000", new Assignment(NEW_IMAGE.imageRef(), NEW, false));
    var staged = List.of(with(devices.getFirst(), OLD, NEW, Health.HEALTHY, Set.of(), T0));
    step = engine.step(step.next(), policy, staged);
    assertThat(step.assignments()).containsEntry("d0000", new Assignment(NEW_IMAGE.imageRef(), NEW, true));
    clock.now = T0.plus(Duration.ofMinutes(30));
    step = engine.step(step.next(), policy, staged);
    assertThat(step.events()).extracting(RolloutEvent::type).containsExactly(Type.WINDOW_CLOSED, Type.REBOOT_WITHDRAWN);
    assertThat(step.assignments()).containsEntry("d0000", new Assignment(NEW_IMAGE.imageRef(), NEW, false));
    assertThat(step.next().devices().get("d0000").stage()).isEqualTo(DeviceStage.READY);
  }

  @Test
  void aRevertByHandSendsThePreviousDigestToEveryDeviceThatMayHaveTheNewOne() {
    var policy = RolloutPolicy.builder().batches("50%", "100%").soak(Duration.ofMinutes(30)).build();
    var sim = new FleetSim(policy, T0);
    for (int i = 0; i < 10; i++) sim.add("d" + i, Map.of());
    sim.planAndStart("r-undo");
    for (int i = 0; i < 20; i++) sim.tick();
    sim.apply(sim.engine.pause(sim.state, null));
    sim.apply(sim.engine.revert(sim.state, "bad metrics"));
    assertThat(sim.log.getLast().type()).isEqualTo(Type.REVERT_STARTED);
    assertThat(sim.log.getLast().counts()).containsEntry("devices", 5);
    sim.runUntil(FleetSim.phase(RolloutPhase.REVERTED), 200);
    assertThat(sim.devices.values()).allSatisfy(d -> assertThat(d.booted).isEqualTo(OLD));
    assertThat(sim.gotNew).hasSize(5);
    assertThat(sim.violations).isEmpty();
  }

  @Test
  void stateAndPolicySurviveJsonUnchanged() {
    var policy = RolloutPolicy.builder().canary("ring", "canary").batches("2.5%", "10", "all").successThreshold(0.95)
        .soak(Duration.ofMinutes(45)).failureThreshold(0.02).onFailure(FailureAction.REVERT).budget("site", "10%")
        .budget("rack", "2").window("0 1 * * MON-FRI", Duration.ofHours(3), "Europe/Berlin").approvalBefore(2)
        .downloadFirst(true).offlineTimeout(Duration.ofMinutes(7)).deviceTimeout(Duration.ofHours(6)).build();
    String pj = JSON.writeValueAsString(policy);
    assertThat(pj).contains("\"batches\":[\"2.5%\",\"10\",\"all\"]").contains("\"cron\":\"0 1 * * MON-FRI\"");
    assertThat(JSON.readValue(pj, RolloutPolicy.class)).isEqualTo(policy);

    var sim = new FleetSim(policy, T0);
    for (int i = 0; i < 30; i++) sim.add("d" + i, i < 2 ? Map.of("ring", "canary", "site", "a") : Map.of("site", "b"));
    sim.planAndStart("r-json");
    for (int i = 0; i < 10; i++) sim.tick();
    String sj = JSON.writeValueAsString(sim.state);
    assertThat(sj).contains("\"d0\":[0,\"");
    RolloutState back = JSON.readValue(sj, RolloutState.class);
    assertThat(back).isEqualTo(sim.state);
    assertThat(JSON.writeValueAsString(back)).isEqualTo(sj);
    for (RolloutEvent e : sim.log) assertThat(JSON.readValue(JSON.writeValueAsString(e), RolloutEvent.class)).isEqualTo(e);
  }
}

package dev.basalt.fleet.server.rollout;

import static dev.basalt.fleet.server.rollout.FleetSim.NEW;
import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.stream.LongStream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Random policies, fleets, device behaviours and operator actions (seeded) must never break the invariants that
 * {@link FleetSim} checks on every tick: budgets (events and devices), no new digest outside released waves or
 * after a pause or revert, monotonic wave progress, gapless event numbers; and at the end a reverted rollout leaves
 * no device on the new digest.
 */
class RolloutPropertyTest {
  static LongStream seeds() {
    return LongStream.range(0, 30);
  }

  @ParameterizedTest(name = "seeds {0}0-{0}9")
  @MethodSource("seeds")
  void randomRolloutsKeepTheInvariants(long group) {
    var failures = new ArrayList<String>();
    for (long seed = group * 10; seed < group * 10 + 10; seed++) {
      try {
        play(seed);
      } catch (AssertionError | RuntimeException e) {
        failures.add("seed " + seed + ": " + e.getMessage());
      }
    }
    assertThat(failures).isEmpty();
  }

  private static String pick(SplittableRandom r, String... options) {
    return options[r.nextInt(options.length)];
  }

  static RolloutPolicy randomPolicy(SplittableRandom r, boolean canary) {
    var b = RolloutPolicy.builder();
    if (canary) b.canary("ring", "canary");
    List<String> batches = new ArrayList<>();
    int waves = 1 + r.nextInt(4);
    boolean percent = r.nextBoolean();
    int last = 0;
    for (int i = 0; i < waves - 1; i++) {
      last += 1 + r.nextInt(percent ? 30 : 20);
      if (percent && last >= 100) break;
      batches.add(percent ? last + "%" : Integer.toString(last));
    }
    batches.add(r.nextBoolean() ? "all" : "100%");
    b.batches(batches.toArray(String[]::new));
    b.successThreshold(0.5 + r.nextInt(6) / 10.0).failureThreshold(r.nextInt(5) / 10.0)
        .onFailure(r.nextBoolean() ? FailureAction.PAUSE : FailureAction.REVERT)
        .soak(Duration.ofMinutes(r.nextInt(20))).downloadFirst(r.nextBoolean());
    if (r.nextBoolean()) b.budget("site", pick(r, "1", "2", "5", "10%", "25%", "50%"));
    if (r.nextBoolean()) b.budget("rack", pick(r, "1", "3", "20%"));
    if (r.nextInt(3) == 0) b.window(pick(r, "*/30 * * * *", "0 */2 * * *", "15 9-17 * * MON-FRI"), Duration.ofMinutes(10 + r.nextInt(40)),
        pick(r, "UTC", "Europe/Berlin", "America/New_York", "Asia/Kolkata"));
    int waveCount = batches.size() + (canary ? 1 : 0);
    for (int w = 0; w < waveCount; w++) if (r.nextInt(4) == 0) b.approvalBefore(w);
    if (r.nextInt(3) == 0) b.deviceTimeout(Duration.ofMinutes(60 + r.nextInt(120)));
    return b.build();
  }

  private static void play(long seed) {
    var r = new SplittableRandom(seed);
    boolean canary = r.nextInt(3) == 0;
    RolloutPolicy policy = randomPolicy(r, canary);
    var sim = new FleetSim(policy, Instant.parse("2025-03-29T20:00:00Z").plus(Duration.ofMinutes(r.nextInt(60 * 24 * 7))));
    int n = 5 + r.nextInt(120);
    int sites = 1 + r.nextInt(5);
    int failPct = r.nextInt(4) == 0 ? r.nextInt(40) : r.nextInt(5);
    for (int i = 0; i < n; i++) {
      var labels = new java.util.HashMap<String, String>();
      labels.put("site", "s" + r.nextInt(sites));
      if (r.nextInt(10) > 0) labels.put("rack", "r" + r.nextInt(8));
      if (canary && (i < 3 || r.nextInt(10) == 0)) labels.put("ring", "canary");
      var d = sim.add(String.format("d%03d", i), Map.copyOf(labels));
      d.downloadTicks = 1 + r.nextInt(20);
      d.rebootTicks = 1 + r.nextInt(3);
      d.failsNew = r.nextInt(100) < failPct;
      if (r.nextInt(50) == 0) d.failed.add(NEW);
      if (r.nextInt(40) == 0) d.online = false; // offline throughout
    }
    sim.tick = Duration.ofMinutes(1 + r.nextInt(3));
    sim.planAndStart("fuzz-" + seed);
    for (int t = 0; t < 400 && !sim.state.phase().terminal(); t++) {
      sim.tick();
      int roll = r.nextInt(200);
      RolloutPhase ph = sim.state.phase();
      if (ph == RolloutPhase.WAITING_APPROVAL && roll < 20) sim.apply(sim.engine.approve(sim.state));
      else if (ph == RolloutPhase.PAUSED && roll < 10) sim.apply(sim.engine.resume(sim.state));
      else if (ph == RolloutPhase.PAUSED && roll < 12) sim.apply(sim.engine.revert(sim.state, "fuzz"));
      else if (ph == RolloutPhase.RUNNING && roll == 0) sim.apply(sim.engine.pause(sim.state, "fuzz"));
      else if (ph == RolloutPhase.RUNNING && roll == 1 && r.nextInt(5) == 0) sim.add("late-" + t, Map.of("site", "s0"));
      else if (roll == 2 && r.nextInt(10) == 0) sim.apply(sim.engine.abort(sim.state, "fuzz"));
    }
    assertThat(sim.violations).as("violations").isEmpty();
    if (sim.state.phase() == RolloutPhase.REVERTED) {
      assertThat(sim.devices.values()).filteredOn(d -> d.present && d.online)
          .allSatisfy(d -> assertThat(d.booted).as(d.id).isNotEqualTo(NEW));
    }
    if (sim.state.phase() == RolloutPhase.SUCCEEDED) {
      assertThat(sim.events(RolloutEvent.Type.WAVE_SUCCEEDED)).hasSize(sim.state.waveCount())
          .allSatisfy(e -> {
            int devices = e.counts().get("devices");
            assertThat(devices == 0 || (double) e.counts().get("succeeded") / devices >= policy.successThreshold()).isTrue();
          });
    }
    // Nothing in a wave that was never released ever got the new digest.
    for (String id : sim.gotNew) assertThat(sim.state.devices().get(id).wave()).isLessThan(sim.state.releasedWaves());
  }
}

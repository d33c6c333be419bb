package dev.basalt.fleet.server.rollout;

import dev.basalt.api.Health;
import dev.basalt.api.UpdatePhase;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Step time of the engine over large fleets (no JMH: a warm-up, then the median of repeated steps). Run by
 * {@code bench/rollout.sh}, or {@code java ... RolloutBench 10000 100000}.
 */
public final class RolloutBench {
  private RolloutBench() {}

  /** Median milliseconds of one step over {@code n} devices, mid-rollout: a wave being released under budgets. */
  static double medianStepMillis(int n, int rounds) {
    return medianStepMillis(n, rounds, false);
  }

  /** As above; {@code steady}: a step after that release, where nothing changes (the common case). */
  static double medianStepMillis(int n, int rounds, boolean steady) {
    var clock = new FleetSim.SimClock(Instant.parse("2025-06-01T10:00:00Z"));
    var engine = new RolloutEngine(clock);
    var policy = RolloutPolicy.builder().batches("1%", "10%", "50%", "100%").budget("site", "10%").budget("rack", "2")
        .window("0 1 * * *", Duration.ofHours(4), "Europe/Berlin").soak(Duration.ofMinutes(30)).build();
    var devices = new ArrayList<DeviceView>(n);
    for (int i = 0; i < n; i++) {
      devices.add(new DeviceView(String.format("dev-%07d", i), Map.of("site", "site-" + i % 50, "rack", "rack-" + i % 997),
          FleetSim.OLD, null, Health.HEALTHY, UpdatePhase.IDLE, Set.of(), clock.now, clock.now.minusSeconds(86400), true));
    }
    var state = engine.start(engine.plan("bench", FleetSim.NEW_IMAGE, FleetSim.OLD_IMAGE, policy, devices).next()).next();
    // Advance to the last wave: every device is then looked at, assigned, and checked against the budgets.
    state = new RolloutState(state.id(), RolloutPhase.RUNNING, state.target(), state.previous(), state.waveCount(), 3, 3,
        List.of(), 0, state.devices(), false, state.eventSeq(), null, state.createdAt(), state.startedAt(), state.updatedAt(), null);
    if (steady) state = engine.step(state, policy, devices).next();
    double[] times = new double[rounds];
    for (int i = 0; i < rounds; i++) {
      long t0 = System.nanoTime();
      var step = engine.step(state, policy, devices);
      times[i] = (System.nanoTime() - t0) / 1e6;
      if (step.next().releasedWaves() != 4) throw new AssertionError("the last wave was not released");
      if (steady != step.assignments().isEmpty()) throw new AssertionError("unexpected assignments: " + step.assignments().size());
    }
    java.util.Arrays.sort(times);
    return times[rounds / 2];
  }

  public static void main(String[] args) {
    int[] sizes = args.length == 0 ? new int[] {10_000, 100_000} : java.util.Arrays.stream(args).mapToInt(Integer::parseInt).toArray();
    for (int n : sizes) medianStepMillis(n, 5); // warm-up
    for (int n : sizes) {
      System.out.printf("step over %,d devices releasing a wave of %,d: %.1f ms, steady step: %.1f ms (medians of 15)%n", n, n / 2,
          medianStepMillis(n, 15, false), medianStepMillis(n, 15, true));
    }
  }
}

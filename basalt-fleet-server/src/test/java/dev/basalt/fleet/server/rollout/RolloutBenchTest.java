package dev.basalt.fleet.server.rollout;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** A micro-measure for the log only: timing assertions would be flaky on shared CI machines. */
class RolloutBenchTest {
  @Test
  void oneStepOverAHundredThousandDevices() {
    double ms = RolloutBench.medianStepMillis(100_000, 5);
    double steady = RolloutBench.medianStepMillis(100_000, 5, true);
    System.out.printf("rollout step over 100,000 devices (2 budgets, 1 window): %.1f ms releasing 50,000, %.1f ms steady%n", ms, steady);
    assertThat(ms).isPositive();
  }
}

package dev.basalt.fleet.server.web;

import static org.assertj.core.api.Assertions.assertThat;

import dev.basalt.api.fleet.RolloutInfo;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class RolloutViewTest {
  static RolloutInfo info(String phase, int released, int succeeded, List<RolloutInfo.Wave> waves, Map<String, Integer> stages) {
    return new RolloutInfo("ro-1", "lab", phase, !phase.equals("SUCCEEDED"), "r.example/os", FleetUiBrowserTest.D2, "r.example/os",
        FleetUiBrowserTest.D1, waves.size(), released, succeeded, waves, stages, "threshold", Map.of(), "token:t", Instant.EPOCH,
        Instant.EPOCH, Instant.EPOCH, null);
  }

  @Test
  void wavesGetAStatusAndEveryEngineStageACount() {
    List<RolloutInfo.Wave> waves = List.of(new RolloutInfo.Wave(0, 1, Map.of("SUCCEEDED", 1)),
        new RolloutInfo.Wave(1, 2, Map.of("FAILED", 1, "ROLLING_BACK", 1)), new RolloutInfo.Wave(2, 1, Map.of("WAITING", 1)),
        new RolloutInfo.Wave(3, 0, Map.of()));
    RolloutView v = RolloutView.of(info("PAUSED", 2, 1, waves, Map.of("SUCCEEDED", 1, "FAILED", 1, "ROLLING_BACK", 1, "WAITING", 1)));
    assertThat(v.phase()).isEqualTo("PAUSED");
    assertThat(v.reason()).isEqualTo("threshold");
    assertThat(v.targetDigest()).isEqualTo(FleetUiBrowserTest.D2);
    assertThat(v.waves()).extracting(RolloutView.Wave::status).containsExactly("done", "active", "waiting", "waiting");
    assertThat(v.waves()).extracting(RolloutView.Wave::devices).containsExactly(1, 2, 1, 0);
    assertThat(v.waves().get(1).counts()).containsEntry("FAILED", 1).containsEntry("ROLLING_BACK", 1).containsEntry("SUCCEEDED", 0)
        .containsOnlyKeys(RolloutView.STAGES);
    assertThat(RolloutView.STAGES).startsWith("WAITING").contains("ROLLING_BACK", "REVERT_RELEASED").endsWith("LEFT");
    assertThat(v.totals()).containsEntry("SUCCEEDED", 1).containsEntry("WAITING", 1).containsEntry("LEFT", 0);
    assertThat(v.devices()).isEqualTo(4);
    assertThat(v.terminal()).isFalse();
    assertThat(RolloutView.of(info("SUCCEEDED", 4, 4, waves, Map.of())).terminal()).isTrue();
    assertThat(RolloutView.of(info("ABORTED", 2, 1, waves, Map.of())).terminal()).isTrue();
  }
}

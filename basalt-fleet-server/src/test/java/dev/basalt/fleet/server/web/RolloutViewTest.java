package dev.basalt.fleet.server.web;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class RolloutViewTest {
  static WebQueries.RolloutRow row(String json) {
    return new WebQueries.RolloutRow("ro-1", "lab", json, true, Instant.EPOCH, Instant.EPOCH);
  }

  @Test
  void countsStagesPerWaveFromTheEnginesState() {
    Map<String, Object> devs = new LinkedHashMap<>();
    devs.put("a", List.of(0, "SUCCEEDED", "2026-05-01T10:00:00Z"));
    devs.put("b", List.of(1, "FAILED", "2026-05-01T10:00:00Z"));
    devs.put("c", List.of(1, "DOWNLOADING", "2026-05-01T10:00:00Z"));
    devs.put("d", List.of(2, "WAITING", "2026-05-01T10:00:00Z"));
    String json = FleetUiBrowserTest.state("PAUSED", 2, 1, devs, "threshold").replace("\"waveCount\" : 2", "\"waveCount\" : 4");
    RolloutView v = RolloutView.of(row(json));
    assertThat(v.phase()).isEqualTo("PAUSED");
    assertThat(v.reason()).isEqualTo("threshold");
    assertThat(v.targetDigest()).isEqualTo(FleetUiBrowserTest.D2);
    assertThat(v.previousRef()).isEqualTo("r.example/os:1");
    assertThat(v.waveCount()).isEqualTo(4);
    assertThat(v.waves()).extracting(RolloutView.Wave::status).containsExactly("done", "active", "waiting", "waiting");
    assertThat(v.waves()).extracting(RolloutView.Wave::devices).containsExactly(1, 2, 1, 0);
    assertThat(v.waves().get(1).counts()).containsEntry("FAILED", 1).containsEntry("DOWNLOADING", 1).containsEntry("SUCCEEDED", 0);
    assertThat(v.totals()).containsEntry("SUCCEEDED", 1).containsEntry("WAITING", 1);
    assertThat(v.devices()).isEqualTo(4);
    assertThat(v.terminal()).isFalse();
  }

  @Test
  void unreadableStateIsShownAsUnknownNotAnError() {
    RolloutView v = RolloutView.of(row("{not json"));
    assertThat(v.phase()).isEqualTo("UNKNOWN");
    assertThat(v.waves()).isEmpty();
    assertThat(RolloutView.of(row(null)).phase()).isEqualTo("UNKNOWN");
    assertThat(RolloutView.of(row("{\"phase\":\"succeeded\"}")).terminal()).isTrue();
  }
}

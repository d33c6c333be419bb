package dev.basalt.fleet.server.web;

import dev.basalt.api.ApiJson;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;

/**
 * What the UI shows of a rollout, read from the state JSON the controller persists (the rollout engine's
 * {@code RolloutState}: {@code phase}, {@code target}, {@code previous}, {@code waveCount}, {@code releasedWaves},
 * {@code succeededWaves}, {@code devices: {id: [wave, stage, since]}}, {@code reason}). Read as a tree, leniently, so
 * the UI does not depend on the engine's classes and shows what it can of a state it does not fully know.
 *
 * @param phase upper-case phase word; "UNKNOWN" when absent
 * @param waves per wave, device counts by stage
 * @param totals device counts by stage over all waves
 */
record RolloutView(String id, String fleet, boolean active, String phase, String targetRef, String targetDigest,
    String previousRef, String previousDigest, int waveCount, int releasedWaves, int succeededWaves, String reason,
    List<Wave> waves, Map<String, Integer> totals) {

  /** The stages in the order the tables show them (the engine's DeviceStage). */
  static final List<String> STAGES = List.of("WAITING", "DOWNLOADING", "READY", "RELEASED", "SUCCEEDED", "FAILED",
      "REVERTING", "REVERT_RELEASED", "REVERTED", "LEFT");

  /**
   * One wave.
   *
   * @param status {@code done} (met its success threshold), {@code active} (released, being judged) or
   *     {@code waiting}
   */
  record Wave(int index, String status, int devices, Map<String, Integer> counts) {}

  static RolloutView of(WebQueries.RolloutRow row) {
    JsonNode s;
    try {
      s = row.stateJson() == null ? null : ApiJson.mapper().readTree(row.stateJson());
    } catch (JacksonException e) {
      s = null; // shown as UNKNOWN: the page still lists the events
    }
    if (s == null || !s.isObject()) {
      return new RolloutView(row.id(), row.fleet(), row.active(), "UNKNOWN", null, null, null, null, 0, 0, 0,
          "state is not readable", List.of(), zeroes());
    }
    List<Map<String, Integer>> perWave = new ArrayList<>();
    Map<String, Integer> totals = zeroes();
    JsonNode devices = s.path("devices");
    if (devices.isObject()) {
      for (Map.Entry<String, JsonNode> e : devices.properties()) {
        JsonNode p = e.getValue();
        int wave = p.isArray() ? p.path(0).asInt(0) : p.path("wave").asInt(0);
        String stage = (p.isArray() ? p.path(1) : p.path("stage")).asString("UNKNOWN").toUpperCase(Locale.ROOT);
        if (wave < 0 || wave > 10_000) continue;
        while (perWave.size() <= wave) perWave.add(zeroes());
        perWave.get(wave).merge(stage, 1, Integer::sum);
        totals.merge(stage, 1, Integer::sum);
      }
    }
    int waveCount = Math.max(s.path("waveCount").asInt(0), perWave.size());
    int released = s.path("releasedWaves").asInt(0);
    int succeeded = s.path("succeededWaves").asInt(0);
    List<Wave> waves = new ArrayList<>();
    for (int i = 0; i < waveCount; i++) {
      Map<String, Integer> c = i < perWave.size() ? perWave.get(i) : zeroes();
      int n = c.values().stream().mapToInt(Integer::intValue).sum();
      waves.add(new Wave(i, i < succeeded ? "done" : i < released ? "active" : "waiting", n, c));
    }
    return new RolloutView(row.id(), row.fleet(), row.active(), str(s.path("phase"), "UNKNOWN").toUpperCase(Locale.ROOT),
        str(s.path("target").path("imageRef"), null), str(s.path("target").path("digest"), null),
        str(s.path("previous").path("imageRef"), null), str(s.path("previous").path("digest"), null), waveCount,
        released, succeeded, str(s.path("reason"), null), List.copyOf(waves), totals);
  }

  private static String str(JsonNode n, String dflt) {
    return n.isMissingNode() || n.isNull() ? dflt : n.asString(dflt);
  }

  private static Map<String, Integer> zeroes() {
    Map<String, Integer> m = new LinkedHashMap<>();
    for (String st : STAGES) m.put(st, 0);
    return m;
  }

  int devices() {
    return totals.values().stream().mapToInt(Integer::intValue).sum();
  }

  /** Whether no further step changes it. */
  boolean terminal() {
    return phase.equals("SUCCEEDED") || phase.equals("REVERTED") || phase.equals("ABORTED");
  }
}

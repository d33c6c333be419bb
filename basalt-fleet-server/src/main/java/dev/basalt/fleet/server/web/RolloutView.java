package dev.basalt.fleet.server.web;

import dev.basalt.api.fleet.RolloutInfo;
import dev.basalt.fleet.server.controller.Rollouts;
import dev.basalt.fleet.server.rollout.DeviceStage;
import dev.basalt.fleet.server.rollout.RolloutPhase;
import dev.basalt.fleet.server.store.RolloutStore.RolloutRecord;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What the UI shows of a rollout: the admin API's {@link RolloutInfo} summary (the same figures as
 * {@code GET /api/v1/rollouts/{id}}), with every stage present (zero when empty) and a status per wave.
 *
 * @param phase the {@link RolloutPhase} name
 * @param waves per wave, device counts by stage
 * @param totals device counts by stage over all waves
 */
record RolloutView(String id, String fleet, boolean active, String phase, String targetRef, String targetDigest,
    String previousRef, String previousDigest, int waveCount, int releasedWaves, int succeededWaves, String reason,
    List<Wave> waves, Map<String, Integer> totals, Instant updatedAt) {

  /** The stages in the order the tables show them: the engine's {@link DeviceStage}s. */
  static final List<String> STAGES = Arrays.stream(DeviceStage.values()).map(Enum::name).toList();

  /**
   * One wave.
   *
   * @param status {@code done} (met its success threshold), {@code active} (released, being judged) or
   *     {@code waiting}
   */
  record Wave(int index, String status, int devices, Map<String, Integer> counts) {}

  static RolloutView of(RolloutRecord r) {
    return of(Rollouts.info(r));
  }

  static RolloutView of(RolloutInfo r) {
    List<Wave> waves = new ArrayList<>();
    for (RolloutInfo.Wave w : r.waves()) {
      int i = w.index();
      waves.add(new Wave(i, i < r.succeededWaves() ? "done" : i < r.releasedWaves() ? "active" : "waiting", w.devices(), filled(w.stages())));
    }
    return new RolloutView(r.id(), r.fleet(), r.active(), r.phase(), r.targetRef(), r.targetDigest(), r.previousRef(),
        r.previousDigest(), r.waveCount(), r.releasedWaves(), r.succeededWaves(), r.reason(), List.copyOf(waves), filled(r.stages()),
        r.updatedAt());
  }

  private static Map<String, Integer> filled(Map<String, Integer> counts) {
    Map<String, Integer> m = new LinkedHashMap<>();
    for (String st : STAGES) m.put(st, counts.getOrDefault(st, 0));
    return m;
  }

  int devices() {
    return totals.values().stream().mapToInt(Integer::intValue).sum();
  }

  /** Whether no further step changes it. */
  boolean terminal() {
    return RolloutPhase.valueOf(phase).terminal();
  }
}

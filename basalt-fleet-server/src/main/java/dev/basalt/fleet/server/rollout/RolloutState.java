package dev.basalt.fleet.server.rollout;

import com.fasterxml.jackson.annotation.JsonIgnore;
import java.time.Instant;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeSet;

/**
 * The whole of a rollout's progress; the store keeps it as JSON (Jackson 3) and hands it back to the next
 * {@link RolloutEngine} call. Immutable.
 *
 * @param id the rollout id (also the seed of the wave plan)
 * @param phase where it is
 * @param target the new image
 * @param previous the image devices go back to on revert
 * @param waveCount number of waves in the plan
 * @param releasedWaves waves released so far (0 to waveCount); never decreases
 * @param succeededWaves waves that met the success threshold (releasedWaves - 1 or releasedWaves); never decreases
 * @param approvedWaves gated waves approved so far
 * @param acknowledgedFailures failed devices of the wave being judged that an operator accepted by resuming; they
 *     leave that wave's counts
 * @param devices every device of the plan, in plan order (wave, then id; later joiners at the end)
 * @param windowOpen whether a maintenance window was open at the last step
 * @param eventSeq the seq of the last event emitted
 * @param reason why it was last paused, reverted or aborted; null when never
 * @param createdAt when it was planned
 * @param startedAt when it was started; null before
 * @param updatedAt when it last changed
 * @param finishedAt when it reached a terminal phase; null before
 */
public record RolloutState(String id, RolloutPhase phase, ImageTarget target, ImageTarget previous, int waveCount,
    int releasedWaves, int succeededWaves, List<Integer> approvedWaves, int acknowledgedFailures,
    Map<String, DeviceProgress> devices, boolean windowOpen, long eventSeq, String reason, Instant createdAt,
    Instant startedAt, Instant updatedAt, Instant finishedAt) {

  public RolloutState {
    if (id == null || id.isBlank()) throw new IllegalArgumentException("rollout id must not be blank");
    Objects.requireNonNull(phase, "phase");
    Objects.requireNonNull(target, "target");
    Objects.requireNonNull(previous, "previous");
    if (waveCount < 1) throw new IllegalArgumentException("waveCount must be at least 1, got " + waveCount);
    if (releasedWaves < 0 || releasedWaves > waveCount) {
      throw new IllegalArgumentException("releasedWaves must be 0-" + waveCount + ", got " + releasedWaves);
    }
    if (succeededWaves < Math.max(0, releasedWaves - 1) || succeededWaves > releasedWaves) {
      throw new IllegalArgumentException("succeededWaves must be releasedWaves - 1 or releasedWaves (" + releasedWaves + "), got " + succeededWaves);
    }
    approvedWaves = approvedWaves == null ? List.of() : List.copyOf(new TreeSet<>(approvedWaves));
    devices = FrozenMap.copyOf(Objects.requireNonNull(devices, "devices"));
    Objects.requireNonNull(createdAt, "createdAt");
    Objects.requireNonNull(updatedAt, "updatedAt");
  }

  /** The wave being judged, or awaiting release or approval; {@code waveCount} once all succeeded. */
  @JsonIgnore
  public int currentWave() {
    return succeededWaves;
  }

  /** Device ids per wave, in release order. */
  @JsonIgnore
  public List<List<String>> waves() {
    var waves = new ArrayList<List<String>>();
    for (int i = 0; i < waveCount; i++) waves.add(new ArrayList<>());
    devices.forEach((id, p) -> waves.get(p.wave()).add(id));
    return waves.stream().map(List::copyOf).toList();
  }

  /** How many devices are in each stage, for a summary. */
  @JsonIgnore
  public Map<DeviceStage, Integer> stageCounts() {
    var m = new EnumMap<DeviceStage, Integer>(DeviceStage.class);
    devices.values().forEach(p -> m.merge(p.stage(), 1, Integer::sum));
    return m;
  }
}

package dev.basalt.api.fleet;

import java.time.Instant;
import java.util.List;
import java.util.Map;

/**
 * A rollout as the admin API shows it ({@code GET /api/v1/rollouts/{id}}): its summary, not every device.
 *
 * @param id the rollout id
 * @param fleet the fleet it rolls out
 * @param phase PENDING, RUNNING, WAITING_APPROVAL, PAUSED, REVERTING, REVERTED, SUCCEEDED or ABORTED
 * @param active whether it is the fleet's active rollout (not in a terminal phase)
 * @param targetRef the new image's reference
 * @param targetDigest the new image's digest
 * @param previousRef the reference devices go back to on revert
 * @param previousDigest the digest devices go back to on revert
 * @param waveCount waves in the plan
 * @param releasedWaves waves released so far
 * @param succeededWaves waves that met the success threshold
 * @param waves every wave with its device count and devices per stage
 * @param stages devices per stage over all waves
 * @param reason why it was last paused, reverted or aborted; null when never
 * @param policy the policy it runs with (JSON object)
 * @param createdBy the actor that started it
 */
public record RolloutInfo(String id, String fleet, String phase, boolean active, String targetRef, String targetDigest,
    String previousRef, String previousDigest, int waveCount, int releasedWaves, int succeededWaves, List<Wave> waves,
    Map<String, Integer> stages, String reason, Map<String, Object> policy, String createdBy, Instant createdAt,
    Instant updatedAt, Instant startedAt, Instant finishedAt) {

  /**
   * One wave of the plan.
   *
   * @param index 0-based (the canary wave is 0 when the policy has one)
   * @param devices how many devices it has
   * @param stages its devices per stage (WAITING, DOWNLOADING, READY, RELEASED, SUCCEEDED, FAILED, …)
   */
  public record Wave(int index, int devices, Map<String, Integer> stages) {}
}

package dev.basalt.api.fleet;

/**
 * The optional body of {@code POST /api/v1/rollouts/{id}/{pause|resume|approve|revert|abort}}.
 *
 * @param reason why (pause, revert, abort); kept in the rollout and the audit log; may be null
 * @param wave the wave to approve (approve only); null approves the wave the rollout waits for
 */
public record RolloutAction(String reason, Integer wave) {
  public RolloutAction {
    if (reason != null && reason.length() > 500) throw new IllegalArgumentException("reason is longer than 500 characters");
  }
}

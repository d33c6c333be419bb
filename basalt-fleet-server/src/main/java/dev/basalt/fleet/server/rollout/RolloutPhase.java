package dev.basalt.fleet.server.rollout;

/** Where a rollout is. */
public enum RolloutPhase {
  /** Planned (waves fixed), not started. */
  PENDING,
  /** Releasing waves and reboots. */
  RUNNING,
  /** The next wave has an approval gate and waits for {@link RolloutEngine#approve}. */
  WAITING_APPROVAL,
  /** Stopped by an operator or by the failure threshold: nothing new is released. */
  PAUSED,
  /** Giving every device that took the new digest the previous one back. */
  REVERTING,
  /** Every device that took the new digest runs the previous one again (terminal). */
  REVERTED,
  /** Every wave met its success threshold (terminal). */
  SUCCEEDED,
  /** Stopped for good by an operator; desired states stay as they are (terminal). */
  ABORTED;

  /** Whether {@link RolloutEngine#step} leaves a rollout in this phase untouched. */
  public boolean terminal() {
    return this == REVERTED || this == SUCCEEDED || this == ABORTED;
  }
}

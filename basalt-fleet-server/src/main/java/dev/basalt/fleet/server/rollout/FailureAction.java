package dev.basalt.fleet.server.rollout;

/** What a rollout does when a wave's failures pass the failure threshold. */
public enum FailureAction {
  /** Stop releasing anything; an operator resumes, reverts or aborts. */
  PAUSE,
  /** Give every device that took the new digest the previous one back. */
  REVERT
}

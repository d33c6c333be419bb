package dev.basalt.fleet.server.rollout;

/** Where one device is in a rollout. */
public enum DeviceStage {
  /** Its wave is not released yet; its desired state is untouched. */
  WAITING,
  /** Assigned the new digest without reboot (download-first); waits for the device to report it staged. */
  DOWNLOADING,
  /** May reboot into the new digest as soon as a maintenance window and the disruption budget allow. */
  READY,
  /** Assigned the new digest with reboot allowed; succeeds after running it healthy for the soak time. */
  RELEASED,
  /** Ran the new digest healthy for the soak time. */
  SUCCEEDED,
  /**
   * Failed the new digest (boot, health, timeout, or had failed it before); never offered it again. It is assigned
   * the previous digest without reboot; if it still runs the new one, a reboot back is released within the budget.
   */
  FAILED,
  /** Failed, and allowed to reboot back into the previous digest; becomes FAILED again once it runs it healthy. */
  ROLLING_BACK,
  /** Assigned the previous digest back; waits for a reboot release if it still runs the new one. */
  REVERTING,
  /** Assigned the previous digest back with reboot allowed. */
  REVERT_RELEASED,
  /** Runs the previous digest again, nothing of the new one staged. */
  REVERTED,
  /** No longer among the fleet's devices; does not count in its wave. */
  LEFT;

  /** Whether it counts as failed in its wave. */
  boolean failed() {
    return this == FAILED || this == ROLLING_BACK;
  }

  /** Whether the device may have been sent the new digest, so that a revert sends the previous one back. */
  boolean mayHaveTarget() {
    return switch (this) {
      case DOWNLOADING, READY, RELEASED, SUCCEEDED, FAILED, ROLLING_BACK -> true;
      default -> false;
    };
  }
}


package dev.basalt.node;

import dev.basalt.api.NodeStatus;
import java.io.IOException;
import java.util.Optional;

/**
 * Where the agent learns what this node should run. Local policy follows one reference; a fleet
 * server (later) answers with the reference and digest assigned to this node and hears the status.
 */
public interface UpdateSource {
  /**
   * What to run: a reference, the manifest digest it must resolve to (null: whatever it resolves to) and whether the
   * node may reboot into it now (else it is staged only, and booted when allowed or at the next reboot).
   */
  record Target(String ref, String digest, boolean rebootAllowed) {
    public Target {
      java.util.Objects.requireNonNull(ref, "ref");
    }
  }

  /** The reference to follow now; empty when there is nothing to follow. */
  Optional<String> target(NodeStatus status) throws IOException;

  /** The target with its pinned digest and reboot permission; by default {@link #target} with neither. */
  default Optional<Target> desired(NodeStatus status) throws IOException {
    return target(status).map(r -> new Target(r, null, true));
  }

  /** Whether {@link #desired} itself waits for changes (a long poll), so the agent needs no timer between passes. */
  default boolean paced() {
    return false;
  }

  /** Reports the node's status after each pass (a fleet server records it; local policy ignores it). */
  default void report(NodeStatus status) throws IOException {}

  /** Local policy: the configured reference, else the booted (or staged) deployment's own. */
  static UpdateSource local(AgentPolicy policy) {
    return status -> {
      if (policy.image() != null) return Optional.of(policy.image());
      if (status.staged() != null && status.staged().imageRef() != null) return Optional.of(status.staged().imageRef());
      return Optional.ofNullable(status.booted() == null ? null : status.booted().imageRef());
    };
  }
}

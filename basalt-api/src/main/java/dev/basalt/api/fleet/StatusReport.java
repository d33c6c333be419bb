package dev.basalt.api.fleet;

import dev.basalt.api.NodeStatus;
import java.util.Objects;

/**
 * A device's status report, {@code POST /device/v1/status} over mTLS.
 *
 * @param node what the node agent knows (booted and staged deployments with slot and health, failed digests,
 *     update phase, last error)
 * @param bytesDownloaded bytes fetched by the current or last update
 */
public record StatusReport(NodeStatus node, long bytesDownloaded) {
  public StatusReport {
    Objects.requireNonNull(node, "node");
    if (bytesDownloaded < 0) throw new IllegalArgumentException("bytesDownloaded must be >= 0, got " + bytesDownloaded);
  }
}

package dev.basalt.node;

import dev.basalt.api.NodeStatus;
import dev.basalt.api.fleet.DesiredState;
import dev.basalt.api.fleet.StatusReport;
import dev.basalt.fleet.client.DeviceClient;
import dev.basalt.fleet.client.FleetClientException;
import dev.basalt.oci.api.Digest;
import dev.basalt.oci.ref.DockerReference;
import dev.basalt.oci.ref.ImageReference;
import java.io.IOException;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * The agent following a fleet server ({@link FleetConfig}): enrolls on first use (key, CSR, the image's enrollment
 * token; waits for approval), then long-polls its desired state over mTLS and reports the node's status after each
 * pass. The assigned reference is pinned to its digest (registry references are pulled by digest), and
 * {@code rebootAllowed} tells the agent whether to reboot into a staged deployment. The identity lives in
 * {@code <state dir>/fleet}.
 *
 * <p>A pass returns at once when the desired state or the node changed since the last one; otherwise it waits in a long
 * poll for a change, so a node that could not act (a registry error, a digest that failed here) does not spin.
 */
public final class FleetUpdateSource implements UpdateSource {
  private final FleetConfig config;
  private final Path identityDir;
  private final Duration pollWait;
  private final Duration enrollWait;
  private final Consumer<String> log;
  private DeviceClient client;
  private DesiredState current;
  private NodeStatus lastStatus;

  /**
   * @param pollWait how long a long poll may wait (the server caps it)
   * @param enrollWait how long one pass waits for approval before giving up until the next pass
   */
  public FleetUpdateSource(FleetConfig config, Path stateDir, Duration pollWait, Duration enrollWait, Consumer<String> log) {
    this.config = Objects.requireNonNull(config, "config");
    this.identityDir = stateDir.resolve("fleet");
    this.pollWait = Objects.requireNonNull(pollWait, "pollWait");
    this.enrollWait = Objects.requireNonNull(enrollWait, "enrollWait");
    this.log = Objects.requireNonNull(log, "log");
  }

  private DeviceClient client() throws IOException {
    if (client == null) {
      DeviceClient.Builder b = DeviceClient.builder().server(config.server()).stateDir(identityDir)
          .caCertificate(read(config.ca(), "ca")).name(config.name() != null ? config.name() : hostName()).labels(Map.of());
      if (!Files.exists(identityDir.resolve("device.crt"))) b.enrollmentToken(read(config.enrollmentTokenFile(), "enrollment-token-file"));
      client = b.build();
    }
    return client;
  }

  private static String read(Path f, String key) throws IOException {
    if (!Files.isRegularFile(f)) throw new NodeException(key + " " + f + " does not exist");
    return Files.readString(f, StandardCharsets.UTF_8).strip() + (key.equals("ca") ? "\n" : "");
  }

  private static String hostName() {
    return hostName(Path.of("/proc/sys/kernel/hostname"));
  }

  /**
   * The kernel's host name (what systemd set from /etc/hostname). Not InetAddress.getLocalHost(): that resolves the
   * name and fails when /etc/hosts does not list it (an image that only sets /etc/hostname), and the device would
   * enroll without a name.
   */
  static String hostName(Path kernelHostname) {
    try {
      String n = Files.readString(kernelHostname, StandardCharsets.UTF_8).strip();
      if (!n.isEmpty() && !n.equals("(none)")) return n;
    } catch (IOException e) {
      // not Linux, or no procfs: ask the resolver
    }
    try {
      return InetAddress.getLocalHost().getHostName();
    } catch (IOException e) {
      return null;
    }
  }

  /** Enrolls when needed (waiting up to {@code enrollWait} for approval) and renews a certificate that is due. */
  private DeviceClient enrolled() throws IOException {
    DeviceClient c = client();
    if (!c.isEnrolled()) {
      log.accept("enrolling with " + config.server() + (c.deviceId().isPresent() ? " as " + c.deviceId().get() : ""));
      try {
        log.accept("enrolled as " + c.enroll(enrollWait));
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new NodeException("interrupted while waiting for approval");
      }
    } else if (c.renewIfDue()) {
      log.accept("renewed the device certificate");
    }
    return c;
  }

  @Override
  public Optional<String> target(NodeStatus status) throws IOException {
    return desired(status).map(Target::ref);
  }

  @Override
  public Optional<Target> desired(NodeStatus status) throws IOException {
    DeviceClient c = enrolled();
    boolean nothingNew = current != null && status.equals(lastStatus);
    Optional<DesiredState> d = c.pollDesired(current == null ? null : current.etag(), nothingNew ? pollWait : Duration.ZERO);
    d.ifPresent(s -> {
      current = s;
      log.accept("desired state " + s.revision() + ": " + (s.digest() == null ? "nothing assigned"
          : s.imageRef() + "@" + s.digest() + (s.rebootAllowed() ? "" : " (stage only)")));
    });
    lastStatus = status;
    if (current.digest() == null) return Optional.empty();
    return Optional.of(new Target(pinned(current.imageRef(), current.digest()), current.digest(), current.rebootAllowed()));
  }

  /** A registry reference pulled by the digest; other transports as they are (the agent compares the digest). */
  static String pinned(String ref, String digest) {
    ImageReference r = ImageReference.parse(ref);
    return r instanceof DockerReference d ? d.withDigest(Digest.parse(digest)).toString() : ref;
  }

  @Override
  public boolean paced() {
    return true;
  }

  /** Reports the status; a failed report is logged, not thrown (the next pass reports again). */
  @Override
  public void report(NodeStatus status) {
    try {
      if (client == null || !client.isEnrolled()) return;
      client.report(new StatusReport(status, 0));
    } catch (FleetClientException e) {
      log.accept("status report failed: " + e.getMessage());
    }
  }
}

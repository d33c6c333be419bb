package dev.basalt.fleet.server;

import dev.basalt.api.Deployment;
import dev.basalt.api.Health;
import dev.basalt.api.NodeStatus;
import dev.basalt.api.UpdatePhase;
import dev.basalt.api.fleet.DesiredState;
import dev.basalt.api.fleet.EnrollmentTokenInfo;
import dev.basalt.api.fleet.EnrollmentTokenRequest;
import dev.basalt.api.fleet.StatusReport;
import dev.basalt.fleet.client.AdminClient;
import dev.basalt.fleet.client.DeviceClient;
import dev.basalt.fleet.client.FleetClientException;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.Semaphore;
import java.util.function.IntFunction;

/**
 * Simulated devices over the real protocol: each enrolls through {@link DeviceClient} (its own key pair, a real CSR,
 * then mTLS with the issued certificate) and follows its desired state on a virtual thread: download and stage,
 * reboot when allowed, report healthy; or, for a digest it is told to fail, come back up on the previous digest with
 * the new one in its failed digests. (Minimal stand-in for the CLI helper's {@code dev.basalt.fleet.client.simulate}.)
 */
final class SimDevices implements AutoCloseable {
  /** One simulated node. */
  static final class Device {
    final DeviceClient client;
    final String id;
    final Map<String, String> labels;
    volatile String booted;
    volatile String staged;
    final Set<String> failed = ConcurrentHashMap.newKeySet();
    int serial = 1;
    volatile Thread thread;

    Device(DeviceClient client, Map<String, String> labels, String booted) {
      this.client = client;
      this.id = client.deviceId().orElseThrow();
      this.labels = labels;
      this.booted = booted;
    }
  }

  final List<Device> devices = new ArrayList<>();
  /** Digest → ids of the devices that fail to boot it. */
  final Map<String, Set<String>> failing = new ConcurrentHashMap<>();
  private volatile boolean running = true;

  /**
   * Enrolls {@code n} devices (auto-approved by the token's rule), {@code parallel} enrollments at a time; all start
   * booted on {@code factory}.
   */
  static SimDevices enroll(AdminClient admin, URI deviceUri, String caPem, Path dir, int n, IntFunction<Map<String, String>> labels,
      String factory) throws Exception {
    // One token per parallel enrollment: each enrollment counts a use of its token, one row each.
    int parallel = 32;
    List<EnrollmentTokenInfo> tokens = new ArrayList<>();
    for (int i = 0; i < parallel; i++) {
      tokens.add(admin.createEnrollmentToken(new EnrollmentTokenRequest("sim-" + i, Map.of("sim", "yes"), "sim=yes", null, 0)));
    }
    SimDevices sim = new SimDevices();
    Device[] out = new Device[n];
    Semaphore gate = new Semaphore(parallel);
    try (ExecutorService ex = Executors.newVirtualThreadPerTaskExecutor()) {
      List<Future<?>> fs = new ArrayList<>();
      for (int i = 0; i < n; i++) {
        int k = i;
        fs.add(ex.submit(() -> {
          gate.acquire();
          try {
            DeviceClient c = DeviceClient.builder().server(deviceUri).stateDir(dir.resolve("d" + k)).caCertificate(caPem)
                .enrollmentToken(tokens.get(k % parallel).token()).name("sim-" + k).labels(labels.apply(k))
                .retry(Duration.ofMillis(50), Duration.ofMillis(500)).pollJitter(Duration.ZERO).pollWait(Duration.ofSeconds(20)).build();
            c.enroll(Duration.ofSeconds(60));
            Map<String, String> l = new java.util.HashMap<>(labels.apply(k));
            l.put("sim", "yes");
            out[k] = new Device(c, Map.copyOf(l), factory);
          } finally {
            gate.release();
          }
          return null;
        }));
      }
      for (Future<?> f : fs) f.get();
    }
    sim.devices.addAll(List.of(out));
    return sim;
  }

  /** Starts every device's loop: report, then follow the desired state. */
  void start() {
    for (Device d : devices) d.thread = Thread.ofVirtual().name("sim-" + d.id).start(() -> loop(d));
  }

  private void loop(Device d) {
    String etag = null;
    try {
      report(d, UpdatePhase.IDLE);
      while (running) {
        DesiredState s = d.client.awaitDesired(etag);
        etag = s.etag();
        follow(d, s);
      }
    } catch (InterruptedException e) {
      // stopped
    } catch (FleetClientException e) {
      if (running) throw new IllegalStateException("device " + d.id + ": " + e.getMessage(), e);
    }
  }

  private void follow(Device d, DesiredState s) throws FleetClientException {
    String want = s.digest();
    if (want == null) return;
    if (want.equals(d.booted)) {
      if (d.staged != null) { // sent back to what it runs: drop what was staged
        d.staged = null;
        report(d, UpdatePhase.IDLE);
      }
      return;
    }
    if (d.failed.contains(want)) return; // a node never stages a digest that failed on it again
    if (!want.equals(d.staged)) {
      d.staged = want;
      report(d, UpdatePhase.STAGED);
    }
    if (!s.rebootAllowed()) return;
    d.serial++;
    d.staged = null;
    if (failing.getOrDefault(want, Set.of()).contains(d.id)) {
      d.failed.add(want); // boot counting fell back to the previous slot
    } else {
      d.booted = want;
    }
    report(d, UpdatePhase.IDLE);
  }

  private void report(Device d, UpdatePhase phase) throws FleetClientException {
    Deployment booted = new Deployment("sim/os", d.booted, null, d.serial % 2 == 0 ? "b" : "a", d.serial,
        Instant.parse("2026-01-01T00:00:00Z"), Health.HEALTHY);
    Deployment staged = d.staged == null ? null
        : new Deployment("sim/os", d.staged, null, d.serial % 2 == 0 ? "a" : "b", d.serial + 1, Instant.parse("2026-01-01T00:00:00Z"), Health.PENDING);
    d.client.report(new StatusReport(new NodeStatus(booted, staged, null, List.copyOf(d.failed), phase, null), 0));
  }

  long booted(String digest) {
    return devices.stream().filter(d -> digest.equals(d.booted)).count();
  }

  @Override
  public void close() {
    running = false;
    for (Device d : devices) if (d.thread != null) d.thread.interrupt();
  }
}

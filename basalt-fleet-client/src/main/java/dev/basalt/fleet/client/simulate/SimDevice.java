package dev.basalt.fleet.client.simulate;

import dev.basalt.api.ApiJson;
import dev.basalt.api.Deployment;
import dev.basalt.api.Health;
import dev.basalt.api.NodeStatus;
import dev.basalt.api.UpdatePhase;
import dev.basalt.api.fleet.DesiredState;
import dev.basalt.api.fleet.StatusReport;
import java.io.IOException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import javax.net.ssl.SSLSocketFactory;

/**
 * One virtual device: an A/B node reduced to its digests. It follows its desired state as the node agent does:
 * download (simulated time), stage, reboot when allowed, boot healthy — or fail and fall back, remembering the digest.
 */
final class SimDevice {
  private static final Instant EPOCH = Instant.parse("2026-01-01T00:00:00Z");

  final int index;
  final Identity identity;
  private final Simulator sim;
  private SSLSocketFactory tls;
  private Wire wire;
  private volatile boolean stopped;

  // node state, touched only by this device's thread (read by others for counts)
  private volatile String booted;
  // bumped at each reboot; the report that carried it sets reportedVersion (before the first report: pending)
  private volatile int version;
  private volatile int reportedVersion = -1;
  private String bootedRef;
  private int serial = 1;
  private String slot = "a";
  private String staged;
  private String stagedRef;
  private String rollback;
  private String rollbackRef;
  private final List<String> failed = new ArrayList<>();
  private UpdatePhase phase = UpdatePhase.IDLE;
  private String lastError;
  private long bytes;
  private String etag;
  private DesiredState desired;

  SimDevice(int index, Identity identity, Simulator sim, String initialRef, String initialDigest) {
    this.index = index;
    this.identity = identity;
    this.sim = sim;
    this.bootedRef = initialRef;
    this.booted = initialDigest;
  }

  String booted() {
    return booted;
  }

  synchronized boolean hasFailed(String digest) {
    return failed.contains(digest);
  }

  NodeStatus status() {
    Deployment b = new Deployment(bootedRef, booted, null, slot, serial, EPOCH, Health.HEALTHY);
    Deployment s = staged == null ? null
        : new Deployment(stagedRef, staged, null, other(slot), serial + 1, EPOCH, Health.PENDING);
    Deployment r = rollback == null || s != null ? null
        : new Deployment(rollbackRef, rollback, null, other(slot), serial - 1 < 1 ? 1 : serial - 1, EPOCH, Health.HEALTHY);
    List<String> f;
    synchronized (this) {
      f = List.copyOf(failed);
    }
    return new NodeStatus(b, s, r, f, phase, lastError);
  }

  private static String other(String slot) {
    return slot.equals("a") ? "b" : "a";
  }

  private Wire wire() {
    if (wire == null) {
      if (tls == null) tls = Identity.tls(sim.ca, identity.key(), identity.certificate());
      wire = new Wire(tls, sim.host, sim.port, sim.connecting);
    }
    return wire;
  }

  private Wire.Response call(Wire w, String method, String path, String inm, byte[] body, int timeoutMillis) throws IOException {
    try {
      Wire.Response r = w.exchange(method, path, inm, body, timeoutMillis);
      sim.requests.increment();
      if (r.status() / 100 != 2 && r.status() != 304) {
        throw new Simulator.StatusException(r.status(), method + " " + path + ": " + r.status() + " " + new String(r.body(), java.nio.charset.StandardCharsets.UTF_8));
      }
      return r;
    } catch (IOException e) {
      sim.errors.increment();
      throw e;
    }
  }

  void report(Wire w) throws IOException {
    long t0 = System.nanoTime();
    int v = version;
    call(w, "POST", "/device/v1/status", null, ApiJson.mapper().writeValueAsBytes(new StatusReport(status(), bytes)), 30_000);
    reportedVersion = v;
    sim.latency.record(System.nanoTime() - t0);
    sim.operations.increment();
  }

  /** Whether the server has not yet heard of the device's last reboot (into the new digest or back after a failure). */
  boolean reportPending() {
    return reportedVersion != version;
  }

  /** Polls once; returns whether the desired state changed. */
  private boolean poll(Wire w, int waitSeconds) throws IOException {
    Wire.Response r = call(w, "GET", "/device/v1/desired?wait=" + waitSeconds, etag, null, (waitSeconds + 15) * 1000);
    if (r.status() == 304) return false;
    desired = ApiJson.mapper().readValue(r.body(), DesiredState.class);
    etag = r.etag() != null ? r.etag() : desired.etag();
    return true;
  }

  /** The follow loop: long-polls, acts on changes, reports; backs off on errors; ends on 401/403/410 or stop(). */
  void follow() {
    long backoff = 0;
    boolean reported = false;
    while (!stopped) {
      try {
        if (!reported) {
          report(wire());
          reported = true;
        }
        poll(wire(), sim.pollWaitSeconds);
        act();
        backoff = 0;
      } catch (Simulator.StatusException e) {
        if (e.status == 401 || e.status == 403 || e.status == 410) {
          sim.log("device " + identity.deviceId() + " stops: " + e.getMessage());
          return;
        }
        reported = false; // as an agent does after an error: say again where it stands, a lost report included
        backoff = pause(backoff);
      } catch (IOException | RuntimeException e) {
        if (stopped) return;
        reported = false;
        backoff = pause(backoff);
      }
    }
  }

  private long pause(long backoff) {
    long next = backoff == 0 ? 500 : Math.min(30_000, backoff * 2);
    try {
      Thread.sleep(new SplittableRandom().nextLong(next / 2, next + 1));
    } catch (InterruptedException e) {
      stopped = true;
    }
    return next;
  }

  private void act() throws IOException {
    DesiredState d = desired;
    if (d == null || d.digest() == null) return;
    String dg = d.digest();
    if (dg.equals(booted) && staged != null) {
      // sent back to what it runs (a revert, or a failed device's fallback): the staged deployment is dropped
      staged = null;
      stagedRef = null;
      phase = UpdatePhase.IDLE;
      report(wire());
      return;
    }
    if (dg.equals(booted) || hasFailed(dg)) return;
    if (!dg.equals(staged)) {
      phase = UpdatePhase.DOWNLOADING;
      lastError = null;
      report(wire());
      sleep(sim.downloadMillis);
      bytes = sim.imageBytes;
      staged = dg;
      stagedRef = d.imageRef();
      phase = UpdatePhase.STAGED;
      report(wire());
    }
    if (!d.rebootAllowed()) return;
    // The reboot: the connection goes away with the old boot.
    wire.close();
    sleep(sim.rebootMillis);
    if (sim.fails(index, dg)) {
      synchronized (this) {
        failed.add(dg);
      }
      lastError = "deployment " + dg + " failed its boot trial; fell back to " + booted;
    } else {
      rollback = booted;
      rollbackRef = bootedRef;
      booted = dg;
      bootedRef = stagedRef;
      slot = other(slot);
      serial++;
      lastError = null;
    }
    staged = null;
    stagedRef = null;
    phase = UpdatePhase.IDLE;
    version++;
    report(wire());
  }

  private void sleep(long millis) {
    if (millis <= 0) return;
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      stopped = true;
      Thread.currentThread().interrupt();
    }
  }

  private final java.util.concurrent.locks.ReentrantLock checkInLock = new java.util.concurrent.locks.ReentrantLock();

  /**
   * One check-in, a poll that does not wait then a status report, over the connection {@code mode} says: the
   * device's kept-alive one, a new one resuming the device's TLS session, or a new one with a full handshake.
   */
  void checkIn(Simulator.Connection mode) throws IOException {
    checkInLock.lock(); // with fewer devices than workers, two workers may draw the same device
    try {
      switch (mode) {
        case KEEP_ALIVE -> checkIn(wire());
        case RESUMED -> {
          if (tls == null) tls = Identity.tls(sim.ca, identity.key(), identity.certificate());
          try (Wire w = new Wire(tls, sim.host, sim.port)) {
            checkIn(w);
          }
        }
        case FULL_HANDSHAKE -> {
          // A TLS context of its own: no session to resume, as after a reboot.
          try (Wire w = new Wire(Identity.tls(sim.ca, identity.key(), identity.certificate()), sim.host, sim.port)) {
            checkIn(w);
          }
        }
      }
    } finally {
      checkInLock.unlock();
    }
  }

  private void checkIn(Wire w) throws IOException {
    poll(w, 0);
    call(w, "POST", "/device/v1/status", null, ApiJson.mapper().writeValueAsBytes(new StatusReport(status(), bytes)), 30_000);
  }

  /** Whether the device holds an open connection (kept alive). */
  boolean connected() {
    Wire w = wire;
    return w != null && w.isOpen();
  }

  void stop() {
    stopped = true;
    Wire w = wire;
    if (w != null) w.close();
  }
}

package dev.basalt.fleet.server.rollout;

import dev.basalt.api.Health;
import dev.basalt.fleet.server.rollout.RolloutEvent.Type;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeSet;

/**
 * The rollout engine: pure functions from a {@link RolloutState} (plus the policy and the fleet's
 * {@link DeviceView}s) to the next state, the device assignments that change and the events of the transition. No
 * I/O, no threads; time comes from the injected clock; the same inputs give the same outputs (device order in the
 * input does not matter: the plan order, ties by device id, decides).
 *
 * <p>The server's controller calls {@link #plan} and {@link #start} once, then {@link #step} periodically and on
 * device reports, and the operations ({@link #pause}, {@link #resume}, {@link #approve}, {@link #revert},
 * {@link #abort}) on operator requests. After each call it persists {@link Step#next}, applies
 * {@link Step#assignments} as the devices' desired states (bumping their ETags) and appends {@link Step#events},
 * all in one transaction.
 */
public final class RolloutEngine {
  private final Clock clock;

  public RolloutEngine(Clock clock) {
    this.clock = Objects.requireNonNull(clock, "clock");
  }

  /**
   * The outcome of one engine call.
   *
   * @param next the state to persist
   * @param assignments desired states that change, by device id; devices not in it keep theirs
   * @param events the transitions, in order, numbered on from the state's {@code eventSeq}
   */
  public record Step(RolloutState next, Map<String, Assignment> assignments, List<RolloutEvent> events) {
    public Step {
      Objects.requireNonNull(next, "next");
      assignments = FrozenMap.copyOf(assignments);
      events = List.copyOf(events);
    }
  }

  /**
   * Fixes the wave plan of a new rollout (phase {@link RolloutPhase#PENDING}): canaries (sorted by id) form wave 0
   * when the policy has a canary selector; the other devices are ordered by a stable hash of the rollout id and
   * their id and cut into the cumulative batches; each wave is released in id order.
   *
   * @throws IllegalArgumentException when the digests are the same, a device id repeats or no device matches the
   *     canary selector
   */
  public Step plan(String rolloutId, ImageTarget target, ImageTarget previous, RolloutPolicy policy, List<DeviceView> devices) {
    if (rolloutId == null || rolloutId.isBlank()) throw new IllegalArgumentException("rollout id must not be blank");
    Objects.requireNonNull(target, "target");
    Objects.requireNonNull(previous, "previous");
    Objects.requireNonNull(policy, "policy");
    if (target.digest().equals(previous.digest())) {
      throw new IllegalArgumentException("rollout " + rolloutId + ": target and previous are the same digest " + target.digest());
    }
    Map<String, DeviceView> views = index(devices);
    var canaries = new ArrayList<String>();
    var rest = new ArrayList<String>();
    Map<String, String> selector = policy.canarySelector();
    for (DeviceView v : views.values()) {
      boolean canary = !selector.isEmpty() && selector.entrySet().stream().allMatch(e -> e.getValue().equals(v.labels().get(e.getKey())));
      (canary ? canaries : rest).add(v.id());
    }
    if (!selector.isEmpty() && canaries.isEmpty()) {
      throw new IllegalArgumentException("rollout " + rolloutId + ": canary selector " + selector + " matches none of the "
          + views.size() + " devices");
    }
    var hashes = new HashMap<String, Long>();
    for (String id : rest) hashes.put(id, stableHash(rolloutId, id));
    rest.sort(Comparator.<String>comparingLong(hashes::get).thenComparing(Comparator.naturalOrder()));
    var waves = new ArrayList<List<String>>();
    if (!selector.isEmpty()) waves.add(canaries);
    int from = 0;
    for (Quantity b : policy.batches()) {
      int to = Math.max(from, b.ofBatch(rest.size()));
      waves.add(new ArrayList<>(rest.subList(from, to)));
      from = to;
    }
    Instant now = clock.instant();
    var progress = new LinkedHashMap<String, DeviceProgress>();
    var sizes = new LinkedHashMap<String, Integer>();
    for (int w = 0; w < waves.size(); w++) {
      List<String> ids = waves.get(w);
      Collections.sort(ids);
      for (String id : ids) progress.put(id, new DeviceProgress(w, DeviceStage.WAITING, now));
      sizes.put("wave" + w, ids.size());
    }
    var state = new RolloutState(rolloutId, RolloutPhase.PENDING, target, previous, waves.size(), 0, 0, List.of(), 0,
        progress, false, 0, null, now, null, now, null);
    Run r = new Run(state, now, false);
    r.event(Type.PLANNED, null, null, sizes, "planned " + views.size() + " devices in " + waves.size() + " waves: "
        + target.imageRef() + " (" + target.digest() + ")");
    return r.finish();
  }

  /** Starts a planned rollout: the next {@link #step} releases wave 0 (or waits for its approval). */
  public Step start(RolloutState state) {
    Run r = new Run(state, clock.instant(), false);
    r.require("start", RolloutPhase.PENDING);
    r.phase = RolloutPhase.RUNNING;
    r.startedAt = r.now;
    r.event(Type.STARTED, null, null, null, "started");
    return r.finish();
  }

  /** Stops releasing anything; devices already released carry on and are still observed. */
  public Step pause(RolloutState state, String reason) {
    Run r = new Run(state, clock.instant(), false);
    r.require("pause", RolloutPhase.RUNNING, RolloutPhase.WAITING_APPROVAL);
    r.phase = RolloutPhase.PAUSED;
    r.reason = reason;
    r.event(Type.PAUSED, r.succeeded, null, null, "paused" + (reason == null ? "" : ": " + reason));
    return r.finish();
  }

  /**
   * Resumes a paused rollout. The devices of the wave being judged that have failed so far are accepted: they
   * leave that wave's counts, so the thresholds apply to the others.
   */
  public Step resume(RolloutState state) {
    Run r = new Run(state, clock.instant(), false);
    r.require("resume", RolloutPhase.PAUSED);
    int failed = 0;
    if (r.succeeded < r.released) {
      for (DeviceProgress p : state.devices().values()) {
        if (p.wave() == r.succeeded && p.stage().failed()) failed++;
      }
    }
    r.acked = failed;
    r.phase = RolloutPhase.RUNNING;
    r.event(Type.RESUMED, r.succeeded, null, Map.of("acknowledgedFailures", failed),
        "resumed" + (failed > 0 ? ", accepting " + failed + " failed devices of wave " + r.succeeded : ""));
    return r.finish();
  }

  /** Approves wave {@code wave} (now, when the rollout waits for it, or ahead of time). */
  public Step approve(RolloutState state, int wave) {
    Run r = new Run(state, clock.instant(), false);
    r.require("approve", RolloutPhase.PENDING, RolloutPhase.RUNNING, RolloutPhase.WAITING_APPROVAL, RolloutPhase.PAUSED);
    if (wave < 0 || wave >= state.waveCount()) {
      throw new IllegalArgumentException("rollout " + state.id() + ": no wave " + wave + ", the plan has waves 0-" + (state.waveCount() - 1));
    }
    if (wave < r.released) throw new IllegalArgumentException("rollout " + state.id() + ": wave " + wave + " was already released");
    r.approved.add(wave);
    if (r.phase == RolloutPhase.WAITING_APPROVAL && wave == r.released) r.phase = RolloutPhase.RUNNING;
    r.event(Type.APPROVED, wave, null, null, "wave " + wave + " approved");
    return r.finish();
  }

  /** Approves the wave the rollout waits for. */
  public Step approve(RolloutState state) {
    if (state.phase() != RolloutPhase.WAITING_APPROVAL) {
      throw new IllegalStateException("rollout " + state.id() + " is " + state.phase() + ", not waiting for an approval");
    }
    return approve(state, state.releasedWaves());
  }

  /** Reverts by hand: every device that may have the new digest is sent the previous one back. */
  public Step revert(RolloutState state, String reason) {
    Run r = new Run(state, clock.instant(), true);
    r.require("revert", RolloutPhase.RUNNING, RolloutPhase.WAITING_APPROVAL, RolloutPhase.PAUSED);
    r.reason = reason;
    r.startRevert("revert requested" + (reason == null ? "" : ": " + reason));
    return r.finish();
  }

  /** Stops for good; desired states stay as they are (use {@link #revert} to go back). */
  public Step abort(RolloutState state, String reason) {
    Run r = new Run(state, clock.instant(), false);
    if (state.phase().terminal()) throw new IllegalStateException("cannot abort rollout " + state.id() + ": it is already " + state.phase());
    r.phase = RolloutPhase.ABORTED;
    r.reason = reason;
    r.finishedAt = r.now;
    r.event(Type.ABORTED, null, null, null, "aborted" + (reason == null ? "" : ": " + reason));
    return r.finish();
  }

  /**
   * Moves the rollout on from what the devices report: records joins, departures, stagings, successes and failures,
   * judges the current wave against the thresholds (pausing or reverting on failure), releases waves (respecting
   * approval gates) and reboots (inside maintenance windows and the disruption budgets). A terminal or pending
   * rollout is returned unchanged.
   *
   * @param devices every device of the fleet; a device of the plan that is missing has left it
   */
  public Step step(RolloutState state, RolloutPolicy policy, List<DeviceView> devices) {
    Objects.requireNonNull(policy, "policy");
    Instant now = clock.instant();
    if (state.phase().terminal() || state.phase() == RolloutPhase.PENDING) return new Run(state, now, false).finish();
    Run r = new Run(state, now, true);
    new StepRun(r, policy, index(devices)).run();
    return r.finish();
  }

  private static Map<String, DeviceView> index(List<DeviceView> devices) {
    var views = new HashMap<String, DeviceView>(devices.size() * 2);
    for (DeviceView v : devices) {
      if (views.put(v.id(), v) != null) throw new IllegalArgumentException("devices: device id " + v.id() + " appears twice");
    }
    return views;
  }

  /** FNV-1a over the rollout id, a separator and the device id, then a splitmix64 finish: stable across JVMs. */
  static long stableHash(String seed, String id) {
    long h = 0xcbf29ce484222325L;
    for (byte b : (seed + '\0' + id).getBytes(StandardCharsets.UTF_8)) {
      h ^= b & 0xff;
      h *= 0x100000001b3L;
    }
    h ^= h >>> 30;
    h *= 0xbf58476d1ce4e5b9L;
    h ^= h >>> 27;
    h *= 0x94d049bb133111ebL;
    return h ^ (h >>> 31);
  }

  /** The mutable working copy of one call. */
  static final class Run {
    final RolloutState base;
    final Instant now;
    RolloutPhase phase;
    int released;
    int succeeded;
    int acked;
    final TreeSet<Integer> approved;
    boolean windowOpen;
    long seq;
    String reason;
    Instant startedAt;
    Instant finishedAt;
    final LinkedHashMap<String, DeviceProgress> devices;
    final List<RolloutEvent> events = new ArrayList<>();
    final LinkedHashMap<String, Assignment> assignments = new LinkedHashMap<>();
    boolean changed;

    Run(RolloutState s, Instant now, boolean copyDevices) {
      base = s;
      this.now = now;
      phase = s.phase();
      released = s.releasedWaves();
      succeeded = s.succeededWaves();
      acked = s.acknowledgedFailures();
      approved = new TreeSet<>(s.approvedWaves());
      windowOpen = s.windowOpen();
      seq = s.eventSeq();
      reason = s.reason();
      startedAt = s.startedAt();
      finishedAt = s.finishedAt();
      devices = copyDevices ? new LinkedHashMap<>(s.devices()) : null;
    }

    void require(String op, RolloutPhase... allowed) {
      for (RolloutPhase p : allowed) if (p == phase) return;
      throw new IllegalStateException("cannot " + op + " rollout " + base.id() + ": it is " + phase);
    }

    void event(Type type, Integer wave, String device, Map<String, Integer> counts, String message) {
      events.add(new RolloutEvent(++seq, now, type, wave, device, counts, message));
      changed = true;
    }

    void assign(String id, ImageTarget t, boolean reboot) {
      assignments.put(id, Assignment.of(t, reboot));
      changed = true;
    }

    void set(String id, DeviceProgress p, DeviceStage s) {
      devices.put(id, p.to(s, now));
      changed = true;
    }

    /** Sends the previous digest (no reboot yet) to every device that may have the new one. */
    void startRevert(String why) {
      int n = 0;
      for (var e : devices.entrySet()) {
        if (e.getValue().stage().mayHaveTarget()) {
          e.setValue(e.getValue().to(DeviceStage.REVERTING, now));
          assign(e.getKey(), base.previous(), false);
          n++;
        }
      }
      phase = RolloutPhase.REVERTING;
      event(Type.REVERT_STARTED, succeeded < released ? succeeded : null, null, Map.of("devices", n),
          why + "; " + n + " devices get " + base.previous().digest() + " back");
    }

    RolloutEngine.Step finish() {
      if (!changed) return new RolloutEngine.Step(base, Map.of(), List.of());
      var next = new RolloutState(base.id(), phase, base.target(), base.previous(), base.waveCount(), released, succeeded,
          List.copyOf(approved), acked, devices == null ? base.devices() : FrozenMap.of(devices), windowOpen, seq, reason,
          base.createdAt(), startedAt, now, finishedAt);
      return new RolloutEngine.Step(next, FrozenMap.of(assignments), events);
    }
  }

  static boolean healthy(Health h) {
    return h == Health.HEALTHY || h == Health.DEGRADED;
  }
}

package dev.basalt.fleet.server.rollout;

import dev.basalt.api.Health;
import dev.basalt.api.UpdatePhase;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Predicate;

/**
 * Plays a fleet forward in virtual time against the engine: each tick the engine steps on the devices' reports,
 * then every device acts on its desired state (download, stage, reboot when allowed, trial boot, healthy or
 * unhealthy then fall back). Records the event log, the assignments and invariant violations seen on the way.
 */
final class FleetSim {
  static final String OLD = "sha256:" + "a".repeat(64);
  static final String NEW = "sha256:" + "b".repeat(64);
  static final ImageTarget OLD_IMAGE = new ImageTarget("docker://registry.test/os:1", OLD);
  static final ImageTarget NEW_IMAGE = new ImageTarget("docker://registry.test/os:2", NEW);

  /** A clock the simulation moves. */
  static final class SimClock extends Clock {
    Instant now;

    SimClock(Instant start) {
      now = start;
    }

    @Override
    public ZoneId getZone() {
      return ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(ZoneId zone) {
      throw new UnsupportedOperationException();
    }

    @Override
    public Instant instant() {
      return now;
    }
  }

  /** One simulated device. */
  static final class Dev {
    final String id;
    final Map<String, String> labels;
    String booted = OLD;
    String staged;
    String other;
    Health health = Health.HEALTHY;
    Instant bootedSince;
    Instant lastSeen;
    boolean online = true;
    boolean present = true;
    final Set<String> failed = new HashSet<>();
    boolean failsNew;
    int downloadTicks = 5;
    int rebootTicks = 2;
    int trialTicks = 2;
    int fallbackTicks = 3;
    String downloading;
    int downloadLeft;
    String rebootInto;
    int rebootLeft = -1;
    int trialLeft = -1;
    int fallbackLeft = -1;
    final List<Instant> rebootsIntoNew = new ArrayList<>();

    Dev(String id, Map<String, String> labels, Instant now) {
      this.id = id;
      this.labels = labels;
      bootedSince = now.minus(Duration.ofDays(3));
      lastSeen = now;
    }

    DeviceView view() {
      UpdatePhase phase = downloading != null ? UpdatePhase.DOWNLOADING : staged != null ? UpdatePhase.STAGED : UpdatePhase.IDLE;
      return new DeviceView(id, labels, booted, staged, health, phase, failed, lastSeen, bootedSince, online && rebootLeft < 0);
    }

    /** Unavailable as the device itself knows it: offline, rebooting, or not healthy. */
    boolean unavailable() {
      return !online || rebootLeft >= 0 || health != Health.HEALTHY;
    }

    /** Unavailable for a reason the rollout caused (a reboot or a bad boot), not because it is offline. */
    boolean disrupted() {
      return online && (rebootLeft >= 0 || health != Health.HEALTHY);
    }

    void act(Assignment d, Instant now) {
      if (!online) return;
      try {
        if (rebootLeft >= 0) {
          if (--rebootLeft < 0) {
            other = booted;
            booted = rebootInto;
            staged = null;
            bootedSince = now;
            health = Health.PENDING;
            trialLeft = trialTicks;
          }
          return;
        }
        if (trialLeft >= 0) {
          if (--trialLeft < 0) {
            if (failsNew && NEW.equals(booted)) {
              health = Health.UNHEALTHY;
              fallbackLeft = fallbackTicks;
            } else {
              health = Health.HEALTHY;
            }
          }
          return;
        }
        if (fallbackLeft >= 0) {
          if (--fallbackLeft < 0) {
            failed.add(booted);
            reboot(other, now);
          }
          return;
        }
        if (d == null) return;
        if (d.digest().equals(booted)) {
          staged = null;
          downloading = null;
          return;
        }
        if (failed.contains(d.digest())) return;
        if (d.digest().equals(staged) || d.digest().equals(other)) {
          staged = d.digest();
          downloading = null;
          if (d.rebootAllowed()) reboot(staged, now);
          return;
        }
        if (!d.digest().equals(downloading)) {
          downloading = d.digest();
          downloadLeft = downloadTicks;
        }
        if (--downloadLeft <= 0) {
          staged = downloading;
          downloading = null;
        }
      } finally {
        if (rebootLeft < 0) lastSeen = now;
      }
    }

    private void reboot(String into, Instant now) {
      rebootInto = into;
      rebootLeft = rebootTicks;
      health = Health.PENDING;
      if (NEW.equals(into)) rebootsIntoNew.add(now);
    }
  }

  final SimClock clock;
  final RolloutEngine engine;
  RolloutPolicy policy;
  RolloutState state;
  final Map<String, Dev> devices = new TreeMap<>();
  final Map<String, Assignment> desired = new HashMap<>();
  final List<RolloutEvent> log = new ArrayList<>();
  final List<String> violations = new ArrayList<>();
  final Set<String> gotNew = new HashSet<>();
  Duration tick = Duration.ofMinutes(1);
  /** Whether to check the devices' own view of the budgets (off when devices go offline at random). */
  boolean checkGroundTruth = true;
  int ticks;

  FleetSim(RolloutPolicy policy, Instant start) {
    this.policy = policy;
    clock = new SimClock(start);
    engine = new RolloutEngine(clock);
  }

  Dev add(String id, Map<String, String> labels) {
    Dev d = new Dev(id, labels, clock.now);
    devices.put(id, d);
    return d;
  }

  List<DeviceView> views() {
    var out = new ArrayList<DeviceView>();
    for (Dev d : devices.values()) if (d.present) out.add(d.view());
    return out;
  }

  FleetSim planAndStart(String rolloutId) {
    apply(engine.plan(rolloutId, NEW_IMAGE, OLD_IMAGE, policy, views()));
    apply(engine.start(state));
    return this;
  }

  void apply(RolloutEngine.Step s) {
    RolloutState before = state;
    RolloutState next = s.next();
    if (before != null) {
      if (next.releasedWaves() < before.releasedWaves()) violations.add("releasedWaves went back at " + clock.now);
      if (next.succeededWaves() < before.succeededWaves()) violations.add("succeededWaves went back at " + clock.now);
      if (before.phase().terminal() && next.phase() != before.phase()) violations.add("left terminal phase " + before.phase());
      long expected = before.eventSeq();
      for (RolloutEvent e : s.events()) if (e.seq() != ++expected) violations.add("event seq gap at " + e);
    }
    s.assignments().forEach((id, a) -> {
      if (a.digest().equals(NEW) && !gotNew.contains(id)) {
        boolean forward = next.phase() == RolloutPhase.RUNNING || next.phase() == RolloutPhase.WAITING_APPROVAL
            || next.phase() == RolloutPhase.SUCCEEDED;
        int wave = next.devices().get(id).wave();
        if (!forward || wave >= next.releasedWaves()) {
          violations.add(id + " (wave " + wave + ") got the new digest in phase " + next.phase() + " with " + next.releasedWaves() + " waves released");
        }
        gotNew.add(id);
      }
      desired.put(id, a);
    });
    for (RolloutEvent e : s.events()) {
      log.add(e);
      if (e.type() == RolloutEvent.Type.REBOOT_RELEASED || e.type() == RolloutEvent.Type.REVERT_RELEASED) {
        e.counts().forEach((k, v) -> {
          if (k.endsWith(".unavailable") && v > e.counts().get(k.replace(".unavailable", ".allowed"))) {
            violations.add("event " + e.seq() + " releases over budget: " + e.counts());
          }
        });
      }
    }
    state = next;
  }

  void tick() {
    clock.now = clock.now.plus(tick);
    ticks++;
    apply(engine.step(state, policy, views()));
    for (Dev d : devices.values()) if (d.present) d.act(desired.get(d.id), clock.now);
    if (checkGroundTruth) checkBudgets();
  }

  /** Every budget group: unavailable devices within the allowance, or else none of them disrupted by the rollout. */
  void checkBudgets() {
    for (DisruptionBudget b : policy.budgets()) {
      var size = new HashMap<String, Integer>();
      var down = new HashMap<String, Integer>();
      var disrupted = new HashMap<String, Integer>();
      for (Dev d : devices.values()) {
        if (!d.present) continue;
        String g = b.groupOf(d.labels);
        size.merge(g, 1, Integer::sum);
        if (d.unavailable()) down.merge(g, 1, Integer::sum);
        if (d.disrupted()) disrupted.merge(g, 1, Integer::sum);
      }
      size.forEach((g, n) -> {
        int allowed = b.allowed(n);
        int dn = down.getOrDefault(g, 0);
        if (dn > allowed && disrupted.getOrDefault(g, 0) > 0) {
          violations.add(clock.now + ": " + b.labelKey() + "=" + g + " has " + dn + " of " + n + " unavailable, allowed " + allowed);
        }
      });
    }
  }

  /** Ticks until {@code done} holds; fails after {@code max} ticks. */
  FleetSim runUntil(Predicate<RolloutState> done, int max) {
    for (int i = 0; i < max; i++) {
      if (done.test(state)) return this;
      tick();
    }
    throw new AssertionError("not done after " + max + " ticks: " + state.phase() + " " + state.stageCounts()
        + " released " + state.releasedWaves() + " succeeded " + state.succeededWaves());
  }

  static Predicate<RolloutState> phase(RolloutPhase p) {
    return s -> s.phase() == p;
  }

  List<RolloutEvent> events(RolloutEvent.Type t) {
    return log.stream().filter(e -> e.type() == t).toList();
  }
}

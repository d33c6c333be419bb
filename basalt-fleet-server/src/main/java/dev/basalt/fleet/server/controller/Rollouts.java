package dev.basalt.fleet.server.controller;

import dev.basalt.api.fleet.FleetInfo;
import dev.basalt.api.fleet.RolloutAction;
import dev.basalt.api.fleet.RolloutEventInfo;
import dev.basalt.api.fleet.RolloutInfo;
import dev.basalt.fleet.server.rollout.Assignment;
import dev.basalt.fleet.server.rollout.DeviceProgress;
import dev.basalt.fleet.server.rollout.DeviceView;
import dev.basalt.fleet.server.rollout.ImageTarget;
import dev.basalt.fleet.server.rollout.RolloutEngine;
import dev.basalt.fleet.server.rollout.RolloutEvent;
import dev.basalt.fleet.server.rollout.RolloutPhase;
import dev.basalt.fleet.server.rollout.RolloutPolicy;
import dev.basalt.fleet.server.rollout.RolloutState;
import dev.basalt.fleet.server.store.RolloutStore;
import dev.basalt.fleet.server.store.RolloutStore.RolloutRecord;
import dev.basalt.fleet.server.store.Store;
import dev.basalt.fleet.server.store.Store.MemberRow;
import dev.basalt.fleet.server.store.StoreException;
import java.time.Clock;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.function.Supplier;
import org.jdbi.v3.core.Handle;

/**
 * Runs the {@link RolloutEngine} against the store, one transaction per engine call: the next state is persisted,
 * the assignments become device desired states (bumping their ETags) and the events are appended, together. The
 * controller steps active rollouts ({@link #step}); the admin API starts them and acts on them.
 */
public final class Rollouts {
  /** The operator actions on a rollout. */
  public enum Action { PAUSE, RESUME, APPROVE, REVERT, ABORT }

  /**
   * What an engine call changed.
   *
   * @param rollout the rollout after it
   * @param changedDevices devices whose desired state changed (their long polls are to be woken)
   */
  public record Outcome(RolloutRecord rollout, List<String> changedDevices) {}

  private final Store store;
  private final RolloutStore rollouts;
  private final RolloutEngine engine;
  private final Supplier<String> ids;

  public Rollouts(Store store, RolloutStore rollouts, Clock clock, Supplier<String> ids) {
    this.store = Objects.requireNonNull(store);
    this.rollouts = Objects.requireNonNull(rollouts);
    this.engine = new RolloutEngine(clock);
    this.ids = Objects.requireNonNull(ids);
  }

  public RolloutStore store() {
    return rollouts;
  }

  /** The engine's view of the fleet's devices, from the devices table. */
  static List<DeviceView> views(List<MemberRow> members) {
    List<DeviceView> out = new ArrayList<>(members.size());
    for (MemberRow m : members) {
      out.add(new DeviceView(m.id(), m.labels(), m.bootedDigest(), m.stagedDigest(), m.health(), m.phase(),
          new HashSet<>(m.failedDigests()), m.lastSeen(), m.bootedSince(), m.lastSeen() != null));
    }
    return out;
  }

  private static List<MemberRow> members(Store store, Handle h, String fleet) {
    List<MemberRow> out = new ArrayList<>();
    for (MemberRow m : store.activeDevices(h)) if (fleet.equals(m.fleet())) out.add(m);
    return out;
  }

  /** The policy a rollout of {@code fleet} runs with: the request's, else the fleet's, else the default. */
  public static RolloutPolicy policyFor(FleetInfo fleet, Map<String, Object> requested) {
    Map<String, Object> json = requested != null ? requested : fleet.spec().policy();
    return json == null ? RolloutPolicy.builder().build() : RolloutStore.policy(json);
  }

  /**
   * Plans and starts a rollout of {@code fleet} to {@code target} in the caller's transaction: the previous image is
   * the fleet's current target.
   *
   * @throws StoreException CONFLICT when the fleet has an active rollout, no target to go back to, or already has
   *     this target
   */
  public Outcome start(Handle h, String actor, FleetInfo fleet, ImageTarget target, RolloutPolicy policy) {
    String name = fleet.spec().name();
    if (fleet.spec().targetDigest() == null) {
      throw new StoreException(StoreException.Kind.CONFLICT, "fleet " + name + " has no target yet, so a rollout would have"
          + " nothing to revert to; set its first target with PUT /api/v1/fleets/" + name);
    }
    if (fleet.spec().targetDigest().equals(target.digest())) {
      throw new StoreException(StoreException.Kind.CONFLICT, "fleet " + name + " already has target " + target.digest());
    }
    rollouts.active(h, name).ifPresent(r -> {
      throw new StoreException(StoreException.Kind.CONFLICT, "fleet " + name + " already has an active rollout " + r.id()
          + " (" + r.state().phase() + "); abort it or wait until it ends");
    });
    ImageTarget previous = new ImageTarget(fleet.spec().targetRef(), fleet.spec().targetDigest());
    String id = ids.get();
    RolloutEngine.Step planned;
    try {
      planned = engine.plan(id, target, previous, policy, views(members(store, h, name)));
    } catch (IllegalArgumentException e) {
      throw new StoreException(StoreException.Kind.CONFLICT, e.getMessage());
    }
    RolloutEngine.Step started = engine.start(planned.next());
    rollouts.insert(h, name, policy, started.next(), actor);
    rollouts.appendEvents(h, id, concat(planned.events(), started.events()));
    Map<String, Object> d = new LinkedHashMap<>();
    d.put("fleet", name);
    d.put("target", target.imageRef() + "@" + target.digest());
    d.put("previous", previous.imageRef() + "@" + previous.digest());
    store.audit(h, actor, "rollout.start", "rollout:" + id, d);
    List<String> changed = apply(h, name, planned.assignments());
    changed.addAll(apply(h, name, started.assignments()));
    store.notifyDesired(h, changed);
    return new Outcome(rollouts.forUpdate(h, id).orElseThrow(), changed);
  }

  private static List<RolloutEvent> concat(List<RolloutEvent> a, List<RolloutEvent> b) {
    List<RolloutEvent> out = new ArrayList<>(a);
    out.addAll(b);
    return out;
  }

  /**
   * An operator action, in one transaction.
   *
   * @throws StoreException NOT_FOUND for an unknown rollout, CONFLICT when the action is invalid in its phase (with
   *     the engine's message), INVALID for a wave that does not exist
   */
  public Outcome act(String actor, String id, Action action, RolloutAction body) {
    RolloutAction a = body == null ? new RolloutAction(null, null) : body;
    return store.inTransaction(h -> {
      RolloutRecord r = rollouts.forUpdate(h, id).orElseThrow(() -> new StoreException(StoreException.Kind.NOT_FOUND,
          "rollout " + id + " does not exist"));
      if (action != Action.APPROVE && a.wave() != null) {
        throw new StoreException(StoreException.Kind.INVALID, "wave is only for approve, not " + action.name().toLowerCase());
      }
      RolloutEngine.Step s;
      try {
        s = switch (action) {
          case PAUSE -> engine.pause(r.state(), a.reason());
          case RESUME -> engine.resume(r.state());
          case APPROVE -> a.wave() == null ? engine.approve(r.state()) : engine.approve(r.state(), a.wave());
          case REVERT -> engine.revert(r.state(), a.reason());
          case ABORT -> engine.abort(r.state(), a.reason());
        };
      } catch (IllegalStateException e) {
        throw new StoreException(StoreException.Kind.CONFLICT, e.getMessage());
      } catch (IllegalArgumentException e) {
        throw new StoreException(StoreException.Kind.INVALID, e.getMessage());
      }
      List<String> changed = persist(h, r, s);
      store.notifyDesired(h, changed);
      Map<String, Object> d = new TreeMap<>();
      d.put("fleet", r.fleet());
      d.put("phase", s.next().phase().name());
      if (a.reason() != null) d.put("reason", a.reason());
      if (a.wave() != null) d.put("wave", a.wave());
      store.audit(h, actor, "rollout." + action.name().toLowerCase(), "rollout:" + id, d);
      return new Outcome(rollouts.forUpdate(h, id).orElseThrow(), changed);
    });
  }

  /**
   * Steps the fleet's active rollout with all its members (controller transaction); returns the assignments, or
   * null when the fleet has no active rollout.
   */
  Map<String, Assignment> step(Handle h, String fleet, List<MemberRow> members) {
    RolloutRecord r = rollouts.active(h, fleet).orElse(null);
    if (r == null) return null;
    RolloutEngine.Step s = engine.step(r.state(), r.policy(), views(members));
    if (s.next() == r.state()) return Map.of();
    rollouts.update(h, s.next());
    rollouts.appendEvents(h, r.id(), s.events());
    if (s.next().phase() == RolloutPhase.SUCCEEDED) {
      store.setFleetTarget(h, fleet, r.target().imageRef(), r.target().digest());
    }
    return s.assignments();
  }

  /** Persists an operator action's step and applies its assignments; returns the devices changed. */
  private List<String> persist(Handle h, RolloutRecord r, RolloutEngine.Step s) {
    if (s.next() == r.state()) return new ArrayList<>();
    rollouts.update(h, s.next());
    rollouts.appendEvents(h, r.id(), s.events());
    return apply(h, r.fleet(), s.assignments());
  }

  private List<String> apply(Handle h, String fleet, Map<String, Assignment> assignments) {
    List<String> out = new ArrayList<>();
    assignments.forEach((id, a) -> {
      store.setDesired(h, id, a.imageRef(), a.digest(), a.rebootAllowed(), fleet);
      out.add(id);
    });
    return out;
  }

  /** The API's summary of a rollout. */
  public static RolloutInfo info(RolloutRecord r) {
    RolloutState s = r.state();
    List<Map<String, Integer>> perWave = new ArrayList<>();
    for (int i = 0; i < s.waveCount(); i++) perWave.add(new TreeMap<>());
    Map<String, Integer> stages = new TreeMap<>();
    int[] sizes = new int[s.waveCount()];
    for (DeviceProgress p : s.devices().values()) {
      perWave.get(p.wave()).merge(p.stage().name(), 1, Integer::sum);
      stages.merge(p.stage().name(), 1, Integer::sum);
      sizes[p.wave()]++;
    }
    List<RolloutInfo.Wave> waves = new ArrayList<>();
    for (int i = 0; i < s.waveCount(); i++) waves.add(new RolloutInfo.Wave(i, sizes[i], perWave.get(i)));
    return new RolloutInfo(r.id(), r.fleet(), s.phase().name(), r.active(), r.target().imageRef(), r.target().digest(),
        r.previous().imageRef(), r.previous().digest(), s.waveCount(), s.releasedWaves(), s.succeededWaves(), waves, stages,
        s.reason(), r.policyJson(), r.createdBy(), s.createdAt(), s.updatedAt(), s.startedAt(), s.finishedAt());
  }

  public static RolloutEventInfo info(RolloutEvent e) {
    return new RolloutEventInfo(e.seq(), e.time(), e.type().name(), e.wave(), e.deviceId(), e.counts(), e.message());
  }
}

package dev.basalt.fleet.server.controller;

import dev.basalt.fleet.server.store.Store;
import dev.basalt.fleet.server.store.Store.FleetRow;
import dev.basalt.fleet.server.store.Store.MemberRow;
import dev.basalt.api.fleet.LabelSelector;
import dev.basalt.fleet.server.rollout.Assignment;
import dev.basalt.fleet.server.rollout.RolloutPhase;
import org.jdbi.v3.core.Handle;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * The fleet controller: on a virtual thread, every {@code interval} (or at once after {@link #wake()}), and only while
 * it holds the {@link ControllerLock}, it recomputes fleet membership and the desired state of every member, in one
 * transaction, then wakes the long polls of the devices whose desired state changed.
 *
 * <p>A fleet with an active rollout: the {@link Rollouts rollout engine} is stepped with all its members and only its
 * assignments change desired states. Without one: the fleet's target is assigned to every member directly (reboot
 * allowed), except to members that failed that digest before, and except after an aborted rollout, whose desired
 * states stay as they were until the fleet's target changes (only members without one get the target).
 */
public final class FleetController implements AutoCloseable {
  private static final System.Logger LOG = System.getLogger(FleetController.class.getName());

  /** What a device's desired state becomes. */
  public record Target(String imageRef, String digest, boolean rebootAllowed) {}

  private final Store store;
  private final ControllerLock lock;
  private final Duration interval;
  private final Consumer<Collection<String>> onDesiredChanged;
  private final Rollouts rollouts;
  private final Duration debounce;
  private final Semaphore wakeups = new Semaphore(0);
  private volatile boolean running;
  private volatile boolean leader;
  private Thread thread;

  /**
   * @param interval period of a pass
   * @param debounce how long a {@link #wake()} waits for more wake-ups before the pass (status reports come in bursts)
   */
  public FleetController(Store store, Rollouts rollouts, ControllerLock lock, Duration interval, Duration debounce,
      Consumer<Collection<String>> onDesiredChanged) {
    this.store = Objects.requireNonNull(store);
    this.rollouts = Objects.requireNonNull(rollouts);
    this.debounce = Objects.requireNonNull(debounce);
    this.lock = Objects.requireNonNull(lock);
    this.interval = Objects.requireNonNull(interval);
    this.onDesiredChanged = Objects.requireNonNull(onDesiredChanged);
  }

  public synchronized void start() {
    if (running) return;
    running = true;
    thread = Thread.ofVirtual().name("basalt-fleet-controller").start(this::loop);
  }

  /** Runs a tick soon (after a change through the API). */
  public void wake() {
    wakeups.release();
  }

  /** Whether this instance held the controller lock at its last tick. */
  public boolean isLeader() {
    return leader;
  }

  private void loop() {
    while (running) {
      try {
        tick();
      } catch (RuntimeException e) {
        LOG.log(System.Logger.Level.WARNING, "fleet controller tick failed: " + e);
      }
      try {
        if (wakeups.tryAcquire(interval.toMillis(), TimeUnit.MILLISECONDS) && !debounce.isZero()) {
          Thread.sleep(debounce.toMillis());
        }
        wakeups.drainPermits();
      } catch (InterruptedException e) {
        return;
      }
    }
  }

  /** One pass (when the lock is held); returns the ids of the devices whose desired state changed. */
  public List<String> tick() {
    leader = lock.tryHold();
    if (!leader) return List.of();
    // The device scan (every active device, each pass) runs before the write transaction, so that on SQLite, where
    // the transaction holds the one write lock, status reports and enrollments are not queued behind it. The
    // transaction re-reads the fleets and scans again only when they changed in between; devices read a moment
    // earlier are as fresh as a pass that started a moment earlier.
    List<FleetRow> fleetsBefore = store.read(store::fleetRows);
    List<MemberRow> devicesBefore = store.read(store::activeDevices);
    List<String> changed = store.inTransaction(h -> {
      List<FleetRow> fleets = store.fleetRows(h);
      List<MemberRow> devices = sameFleets(fleets, fleetsBefore) ? devicesBefore : store.activeDevices(h);
      Map<String, LabelSelector> selectors = new LinkedHashMap<>();
      for (FleetRow f : fleets) selectors.put(f.name(), f.selector());
      Map<String, List<MemberRow>> members = new LinkedHashMap<>();
      for (FleetRow f : fleets) members.put(f.name(), new ArrayList<>());
      List<String> out = new ArrayList<>();
      for (MemberRow d : devices) {
        List<String> m = Membership.matching(selectors, d.labels());
        String fleet = m.size() == 1 ? m.getFirst() : null;
        String error = m.size() > 1 ? "matches fleets " + String.join(", ", m) + "; a device can be in one fleet only" : null;
        if (!Objects.equals(fleet, d.fleet()) || !Objects.equals(error, d.membershipError())) {
          store.setMembership(h, d.id(), fleet, error);
        }
        if (fleet != null) {
          members.get(fleet).add(d);
        } else if (d.desired().fleet() != null) {
          // Left its fleet: nothing is assigned any more (the device keeps what it runs).
          store.setDesired(h, d.id(), null, null, false, null);
          out.add(d.id());
        }
      }
      for (FleetRow f : fleets) {
        Assigned a = assign(h, f, members.get(f.name()));
        for (MemberRow d : members.get(f.name())) {
          Target t = a.targets().get(d.id());
          if (t == null && a.keepOthers()) continue;
          var cur = d.desired();
          boolean same = t == null
              ? cur.digest() == null && f.name().equals(cur.fleet())
              : Objects.equals(t.imageRef(), cur.imageRef()) && Objects.equals(t.digest(), cur.digest())
                  && t.rebootAllowed() == cur.rebootAllowed() && f.name().equals(cur.fleet());
          if (!same) {
            store.setDesired(h, d.id(), t == null ? null : t.imageRef(), t == null ? null : t.digest(),
                t != null && t.rebootAllowed(), f.name());
            out.add(d.id());
          }
        }
      }
      store.notifyDesired(h, out);
      return out;
    });
    if (!changed.isEmpty()) onDesiredChanged.accept(changed);
    return changed;
  }

  private static boolean sameFleets(List<FleetRow> a, List<FleetRow> b) {
    if (a.size() != b.size()) return false;
    for (int i = 0; i < a.size(); i++) {
      FleetRow x = a.get(i);
      FleetRow y = b.get(i);
      // LabelSelector has no equals: its canonical text stands for it.
      if (!x.name().equals(y.name()) || !x.selector().toString().equals(y.selector().toString())
          || !Objects.equals(x.targetRef(), y.targetRef()) || !Objects.equals(x.targetDigest(), y.targetDigest())
          || !Objects.equals(x.policy(), y.policy())) {
        return false;
      }
    }
    return true;
  }

  /**
   * What the members' desired states become.
   *
   * @param targets by device id
   * @param keepOthers true: members not in {@code targets} keep theirs; false: they get nothing assigned
   */
  record Assigned(Map<String, Target> targets, boolean keepOthers) {}

  /**
   * The desired state of each member of {@code fleet}, in the controller's transaction: the assignments of its
   * active rollout (stepped here and persisted with its events), else its target.
   */
  Assigned assign(Handle h, FleetRow fleet, List<MemberRow> members) {
    Map<String, Target> out = new LinkedHashMap<>();
    Map<String, Assignment> stepped = rollouts.step(h, fleet.name(), members);
    if (stepped != null) {
      stepped.forEach((id, a) -> out.put(id, new Target(a.imageRef(), a.digest(), a.rebootAllowed())));
      return new Assigned(out, true);
    }
    if (fleet.targetDigest() == null) return new Assigned(out, false);
    boolean aborted = rollouts.store().latest(h, fleet.name())
        .filter(r -> r.state().phase() == RolloutPhase.ABORTED && r.previous().digest().equals(fleet.targetDigest()))
        .isPresent();
    for (MemberRow m : members) {
      // A digest that failed on a device is never offered to it again; after an abort only newcomers get the target.
      boolean keep = m.failedDigests().contains(fleet.targetDigest())
          || aborted && fleet.name().equals(m.desired().fleet()) && m.desired().digest() != null;
      if (!keep) out.put(m.id(), new Target(fleet.targetRef(), fleet.targetDigest(), true));
    }
    return new Assigned(out, true);
  }

  @Override
  public void close() {
    running = false;
    Thread t;
    synchronized (this) {
      t = thread;
    }
    if (t != null) {
      t.interrupt();
      try {
        t.join(5000);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    lock.close();
    leader = false;
  }
}

package dev.basalt.fleet.server.rollout;

import dev.basalt.api.Health;
import dev.basalt.fleet.server.rollout.RolloutEngine.Run;
import dev.basalt.fleet.server.rollout.RolloutEvent.Type;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** One {@link RolloutEngine#step}: observe, judge, release. */
final class StepRun {
  private final Run r;
  private final RolloutPolicy policy;
  private final Map<String, DeviceView> views;
  private final String target;
  private final List<DisruptionBudget> budgets;
  /** Per budget: group value → {size, unavailable}. */
  private final List<Map<String, int[]>> groups = new ArrayList<>();
  /** Devices last seen before this are offline. */
  private final java.time.Instant seenCutoff;
  private boolean counted;

  StepRun(Run r, RolloutPolicy policy, Map<String, DeviceView> views) {
    this.r = r;
    this.policy = policy;
    this.views = views;
    this.target = r.base.target().digest();
    this.budgets = policy.budgets();
    this.seenCutoff = r.now.minus(policy.offlineTimeout());
  }

  /** As {@link DeviceView#offline}, without allocating per device. */
  private boolean offline(DeviceView v) {
    return !v.online() || v.lastSeen() == null || v.lastSeen().isBefore(seenCutoff);
  }

  void run() {
    membership();
    boolean open = policy.windowOpen(r.now);
    if (!policy.windows().isEmpty() && open != r.windowOpen) {
      r.event(open ? Type.WINDOW_OPENED : Type.WINDOW_CLOSED, null, null, null,
          "maintenance window " + (open ? "opened" : "closed"));
    }
    r.windowOpen = open;
    observe(open);
    judge();
    boolean forward = r.phase == RolloutPhase.RUNNING || r.phase == RolloutPhase.WAITING_APPROVAL;
    if (forward) releaseWaiting();
    releaseReboots(forward && open);
    if (r.phase == RolloutPhase.REVERTING) finishRevert();
  }

  private void membership() {
    var joiners = new ArrayList<String>();
    for (String id : views.keySet()) if (!r.devices.containsKey(id)) joiners.add(id);
    joiners.sort(null);
    int last = r.base.waveCount() - 1;
    for (String id : joiners) {
      r.devices.put(id, new DeviceProgress(last, DeviceStage.WAITING, r.now));
      r.event(Type.DEVICE_JOINED, last, id, null, id + " joined the fleet; it goes to the last wave");
    }
    for (var e : r.devices.entrySet()) {
      DeviceProgress p = e.getValue();
      boolean present = views.containsKey(e.getKey());
      if (!present && switch (p.stage()) { case SUCCEEDED, FAILED, REVERTED, LEFT -> false; default -> true; }) {
        e.setValue(p.to(DeviceStage.LEFT, r.now));
        r.event(Type.DEVICE_LEFT, p.wave(), e.getKey(), null, e.getKey() + " left the fleet (was " + p.stage() + ")");
      } else if (present && p.stage() == DeviceStage.LEFT) {
        boolean reverting = r.phase == RolloutPhase.REVERTING;
        e.setValue(p.to(reverting ? DeviceStage.REVERTING : DeviceStage.WAITING, r.now));
        if (reverting) r.assign(e.getKey(), r.base.previous(), false);
        r.event(Type.DEVICE_JOINED, p.wave(), e.getKey(), null, e.getKey() + " came back to the fleet");
      }
    }
  }

  private void observe(boolean open) {
    for (var e : r.devices.entrySet()) {
      String id = e.getKey();
      DeviceProgress p = e.getValue();
      DeviceView v = views.get(id);
      if (v == null) continue;
      boolean failedBefore = v.failedDigests().contains(target);
      boolean onTarget = target.equals(v.bootedDigest());
      switch (p.stage()) {
        case DOWNLOADING, READY -> {
          if (failedBefore) {
            fail(e, "failed to boot " + target);
          } else if (p.stage() == DeviceStage.DOWNLOADING && (onTarget || target.equals(v.stagedDigest()))) {
            e.setValue(p.to(DeviceStage.READY, r.now));
            r.event(Type.DEVICE_STAGED, p.wave(), id, null, id + " staged " + target);
          }
        }
        case RELEASED -> {
          if (failedBefore) {
            fail(e, "failed to boot " + target + " and fell back");
          } else if (onTarget && (v.health() == Health.UNHEALTHY || v.health() == Health.FAILED)) {
            fail(e, "is " + v.health() + " on " + target);
          } else if (onTarget && v.health() == Health.HEALTHY && !offline(v)
              && v.bootedSince() != null && !v.bootedSince().plus(policy.soak()).isAfter(r.now)) {
            e.setValue(p.to(DeviceStage.SUCCEEDED, r.now));
            r.event(Type.DEVICE_SUCCEEDED, p.wave(), id, null, id + " ran " + target + " healthy for " + policy.soak());
          } else if (policy.deviceTimeout() != null && !p.since().plus(policy.deviceTimeout()).isAfter(r.now)
              && !(onTarget && RolloutEngine.healthy(v.health()))) {
            fail(e, "did not succeed within " + policy.deviceTimeout() + " of its release");
          } else if (!open && !onTarget) {
            DeviceStage back = target.equals(v.stagedDigest()) ? DeviceStage.READY : DeviceStage.DOWNLOADING;
            e.setValue(p.to(back, r.now));
            r.assign(id, r.base.target(), false);
            r.event(Type.REBOOT_WITHDRAWN, p.wave(), id, null, id + ": maintenance window closed before it rebooted");
          }
        }
        case ROLLING_BACK -> {
          if (!onTarget && !target.equals(v.stagedDigest()) && RolloutEngine.healthy(v.health())
              && !offline(v)) {
            e.setValue(p.to(DeviceStage.FAILED, r.now));
            r.event(Type.DEVICE_REVERTED, p.wave(), id, null, id + " failed " + target + " and runs " + v.bootedDigest() + " again");
          }
        }
        case REVERTING, REVERT_RELEASED -> {
          // After a reboot back, it counts as reverted once it runs the previous digest healthy again.
          boolean settled = p.stage() == DeviceStage.REVERTING
              || RolloutEngine.healthy(v.health()) && !offline(v);
          if (!onTarget && !target.equals(v.stagedDigest()) && settled) {
            e.setValue(p.to(DeviceStage.REVERTED, r.now));
            r.event(Type.DEVICE_REVERTED, p.wave(), id, null, id + " runs " + v.bootedDigest() + " without " + target);
          }
        }
        default -> { }
      }
    }
  }

  private void fail(Map.Entry<String, DeviceProgress> e, String why) {
    DeviceProgress p = e.getValue();
    e.setValue(p.to(DeviceStage.FAILED, r.now));
    // No reboot yet: if it still runs the new digest, going back is a disruption the budget must allow (releaseReboots).
    r.assign(e.getKey(), r.base.previous(), false);
    r.event(Type.DEVICE_FAILED, p.wave(), e.getKey(), null, e.getKey() + " " + why);
  }

  private void judge() {
    if (r.phase != RolloutPhase.RUNNING) return;
    int n = r.base.waveCount();
    int[] total = new int[n];
    int[] ok = new int[n];
    int[] bad = new int[n];
    for (DeviceProgress p : r.devices.values()) {
      if (p.stage() == DeviceStage.LEFT) continue;
      total[p.wave()]++;
      if (p.stage() == DeviceStage.SUCCEEDED) ok[p.wave()]++;
      if (p.stage().failed()) bad[p.wave()]++;
    }
    while (true) {
      if (r.succeeded < r.released) {
        int w = r.succeeded;
        int t = total[w] - r.acked;
        int f = bad[w] - r.acked;
        var counts = Map.of("devices", t, "succeeded", ok[w], "failed", f);
        if (t > 0 && ((double) f / t > policy.failureThreshold() || (double) (t - f) / t < policy.successThreshold())) {
          String why = f + " of " + t + " devices of wave " + w + " failed ("
              + ((double) f / t > policy.failureThreshold() ? "more than the failure threshold " + policy.failureThreshold()
                  : "the success threshold " + policy.successThreshold() + " can no longer be reached") + ")";
          r.event(Type.FAILURE_THRESHOLD_EXCEEDED, w, null, sorted(counts), why);
          r.reason = why;
          if (policy.failureAction() == FailureAction.PAUSE) {
            r.phase = RolloutPhase.PAUSED;
            r.event(Type.PAUSED, w, null, null, "paused: " + why);
          } else {
            r.startRevert(why);
          }
          return;
        }
        if (t > 0 && (double) ok[w] / t < policy.successThreshold()) return;
        r.event(Type.WAVE_SUCCEEDED, w, null, sorted(counts), "wave " + w + ": " + ok[w] + " of " + t + " devices succeeded");
        r.succeeded++;
        r.acked = 0;
        if (r.succeeded == n) {
          r.phase = RolloutPhase.SUCCEEDED;
          r.finishedAt = r.now;
          r.event(Type.SUCCEEDED, null, null, null, "all " + n + " waves succeeded");
          return;
        }
      } else {
        int k = r.released;
        if (policy.approvalGates().contains(k) && !r.approved.contains(k)) {
          r.phase = RolloutPhase.WAITING_APPROVAL;
          r.event(Type.WAITING_APPROVAL, k, null, null, "wave " + k + " waits for an approval");
          return;
        }
        r.released++;
        r.event(Type.WAVE_STARTED, k, null, Map.of("devices", total[k]), "wave " + k + " started with " + total[k] + " devices");
        for (var e : r.devices.entrySet()) {
          if (e.getValue().wave() == k && e.getValue().stage() == DeviceStage.WAITING && releaseOne(e)) bad[k]++;
        }
        if (total[k] > 0) return;
      }
    }
  }

  private static Map<String, Integer> sorted(Map<String, Integer> m) {
    var out = new LinkedHashMap<String, Integer>();
    new java.util.TreeMap<>(m).forEach(out::put);
    return out;
  }

  /** Devices that joined or came back into an already released wave. */
  private void releaseWaiting() {
    for (var e : r.devices.entrySet()) {
      if (e.getValue().wave() < r.released && e.getValue().stage() == DeviceStage.WAITING) releaseOne(e);
    }
  }

  /** Releases a device of a released wave: download, or ready for reboot; true when it had failed the digest before. */
  private boolean releaseOne(Map.Entry<String, DeviceProgress> e) {
    DeviceProgress p = e.getValue();
    DeviceView v = views.get(e.getKey());
    if (v != null && v.failedDigests().contains(target)) {
      e.setValue(p.to(DeviceStage.FAILED, r.now));
      r.event(Type.DEVICE_SKIPPED, p.wave(), e.getKey(), null, e.getKey() + " failed " + target + " before; not offered again");
      return true;
    }
    if (policy.downloadFirst()) {
      e.setValue(p.to(DeviceStage.DOWNLOADING, r.now));
      r.assign(e.getKey(), r.base.target(), false);
    } else {
      e.setValue(p.to(DeviceStage.READY, r.now));
      r.changed = true;
    }
    return false;
  }

  private boolean unavailable(DeviceView v, DeviceProgress p) {
    if (offline(v)) return true;
    if (v.health() == Health.PENDING || v.health() == Health.UNHEALTHY || v.health() == Health.FAILED) return true;
    if (p == null) return false;
    return switch (p.stage()) {
      case RELEASED -> !target.equals(v.bootedDigest());
      case REVERT_RELEASED, ROLLING_BACK -> target.equals(v.bootedDigest());
      default -> false;
    };
  }

  private void countGroups() {
    if (counted) return;
    counted = true;
    for (DisruptionBudget b : budgets) groups.add(new HashMap<>());
    if (budgets.isEmpty()) return;
    for (DeviceView v : views.values()) {
      boolean down = unavailable(v, r.devices.get(v.id()));
      for (int i = 0; i < budgets.size(); i++) {
        int[] g = groups.get(i).computeIfAbsent(budgets.get(i).groupOf(v.labels()), k -> new int[2]);
        g[0]++;
        if (down) g[1]++;
      }
    }
  }

  /**
   * Releases reboots within the budgets, in plan order: into the new digest for ready devices (when
   * {@code forward}: running and inside a window), and back into the previous one for devices still running the new
   * digest that failed it or are being reverted (windows do not apply: it is the way out).
   */
  private void releaseReboots(boolean forward) {
    boolean reverting = r.phase == RolloutPhase.REVERTING;
    int[][] g = new int[budgets.size()][];
    for (var e : r.devices.entrySet()) {
      DeviceProgress p = e.getValue();
      DeviceStage s = p.stage();
      if (s == DeviceStage.READY ? !forward : s != DeviceStage.FAILED && (s != DeviceStage.REVERTING || !reverting)) continue;
      DeviceView v = views.get(e.getKey());
      if (v == null) continue;
      boolean onTarget = target.equals(v.bootedDigest());
      DeviceStage to = switch (s) {
        case READY -> forward ? DeviceStage.RELEASED : null;
        case REVERTING -> reverting && onTarget ? DeviceStage.REVERT_RELEASED : null;
        case FAILED -> onTarget ? DeviceStage.ROLLING_BACK : null;
        default -> null;
      };
      if (to == null) continue;
      countGroups();
      boolean down = unavailable(v, p);
      boolean fits = true;
      for (int i = 0; i < budgets.size(); i++) {
        g[i] = groups.get(i).get(budgets.get(i).groupOf(v.labels()));
        // A device that is down already adds nothing, but is held too while its group is over budget:
        // it would reboot the moment it is back.
        if (g[i][1] + (down ? 0 : 1) > budgets.get(i).allowed(g[i][0])) fits = false;
      }
      if (!fits) continue;
      var counts = new LinkedHashMap<String, Integer>();
      for (int i = 0; i < budgets.size(); i++) {
        if (!down) g[i][1]++;
        String key = budgets.get(i).labelKey() + "=" + budgets.get(i).groupOf(v.labels());
        counts.put(key + ".unavailable", g[i][1]);
        counts.put(key + ".allowed", budgets.get(i).allowed(g[i][0]));
      }
      boolean back = to != DeviceStage.RELEASED;
      e.setValue(p.to(to, r.now));
      r.assign(e.getKey(), back ? r.base.previous() : r.base.target(), true);
      r.event(back ? Type.REVERT_RELEASED : Type.REBOOT_RELEASED, p.wave(), e.getKey(), counts,
          e.getKey() + (back ? " may reboot back into " + r.base.previous().digest() : " may reboot into " + target));
    }
  }

  private void finishRevert() {
    for (DeviceProgress p : r.devices.values()) {
      if (p.stage() == DeviceStage.REVERTING || p.stage() == DeviceStage.REVERT_RELEASED) return;
    }
    r.phase = RolloutPhase.REVERTED;
    r.finishedAt = r.now;
    r.event(Type.REVERTED, null, null, null, "every device that took " + target + " runs " + r.base.previous().digest() + " again");
  }
}

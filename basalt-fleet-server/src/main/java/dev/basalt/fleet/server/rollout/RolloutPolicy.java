package dev.basalt.fleet.server.rollout;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * How a rollout proceeds. Waves: the canary wave first (wave 0, the devices matching {@code canarySelector}, when
 * one is given), then one wave per batch. Batches are cumulative over the devices that are not canaries:
 * {@code ["1%", "10%", "50%", "100%"]} releases 1 % of them, then up to 10 %, and so on; the last batch must be
 * {@code "100%"} or {@code "all"}. A wave succeeds when {@code successThreshold} of its devices ran the new digest
 * healthy for {@code soak} after their reboot; it fails when more than {@code failureThreshold} of them failed or
 * when the success threshold can no longer be reached. Validated on construction (also when read from JSON).
 *
 * @param batches cumulative batch sizes; the last covers all devices
 * @param canarySelector labels a canary must carry (all of them); empty for no canary wave
 * @param successThreshold fraction of a wave that must succeed, in (0, 1]
 * @param soak how long a device must run the new digest healthy to count as succeeded
 * @param failureThreshold fraction of a wave that may fail without action, in [0, 1)
 * @param failureAction what happens when it is exceeded
 * @param budgets disruption budgets, at most one per label key
 * @param windows maintenance windows; reboots into the new digest are released only inside one (any); empty for
 *     always. A revert ignores windows (it is the emergency path) but keeps the budgets.
 * @param approvalGates waves (0-based, the canary wave being 0) that wait for an approval before release
 * @param downloadFirst whether devices get the new digest without reboot first (also outside windows) and reboots
 *     are released only once they report it staged
 * @param offlineTimeout a device not seen for longer counts as offline (unavailable)
 * @param deviceTimeout a device released but not succeeded after this long counts as failed; null for never
 */
public record RolloutPolicy(List<Quantity> batches, Map<String, String> canarySelector, double successThreshold,
    Duration soak, double failureThreshold, FailureAction failureAction, List<DisruptionBudget> budgets,
    List<MaintenanceWindow> windows, List<Integer> approvalGates, boolean downloadFirst, Duration offlineTimeout,
    Duration deviceTimeout) {

  public RolloutPolicy {
    if (batches == null || batches.isEmpty()) throw new IllegalArgumentException("batches must not be empty");
    batches = List.copyOf(batches);
    for (int i = 1; i < batches.size(); i++) {
      Quantity a = batches.get(i - 1);
      Quantity b = batches.get(i);
      boolean shrinks = a.coversAll()
          || a instanceof Quantity.Count x && b instanceof Quantity.Count y && y.count() <= x.count()
          || a instanceof Quantity.Percent x && b instanceof Quantity.Percent y && y.percent() <= x.percent();
      if (shrinks) {
        throw new IllegalArgumentException("batches[" + i + "] (" + b.text() + ") must be larger than batches[" + (i - 1)
            + "] (" + a.text() + "): batches are cumulative" + (a.coversAll() ? " and " + a.text() + " already covers every device" : ""));
      }
    }
    Quantity last = batches.getLast();
    if (!last.coversAll()) {
      throw new IllegalArgumentException("the last batch must be \"100%\" or \"all\" so that every device is covered, got \"" + last.text() + "\"");
    }
    canarySelector = canarySelector == null ? Map.of() : Collections.unmodifiableMap(new TreeMap<>(canarySelector));
    canarySelector.forEach((k, v) -> {
      if (k.isBlank() || v == null) throw new IllegalArgumentException("canarySelector: label key and value must be set, got " + k + "=" + v);
    });
    if (!(successThreshold > 0 && successThreshold <= 1)) {
      throw new IllegalArgumentException("successThreshold must be more than 0 and at most 1, got " + successThreshold);
    }
    if (!(failureThreshold >= 0 && failureThreshold < 1)) {
      throw new IllegalArgumentException("failureThreshold must be at least 0 and less than 1, got " + failureThreshold);
    }
    if (soak == null || soak.isNegative()) throw new IllegalArgumentException("soak must be zero or positive, got " + soak);
    if (failureAction == null) throw new IllegalArgumentException("failureAction must be PAUSE or REVERT, got null");
    budgets = budgets == null ? List.of() : List.copyOf(budgets);
    var keys = new HashSet<String>();
    for (DisruptionBudget b : budgets) {
      if (!keys.add(b.labelKey())) throw new IllegalArgumentException("budgets: label key \"" + b.labelKey() + "\" has two budgets");
    }
    windows = windows == null ? List.of() : List.copyOf(windows);
    int waves = batches.size() + (canarySelector.isEmpty() ? 0 : 1);
    approvalGates = approvalGates == null ? List.of() : List.copyOf(new TreeSet<>(approvalGates));
    for (int g : approvalGates) {
      if (g < 0 || g >= waves) {
        throw new IllegalArgumentException("approval gate before wave " + g + ": no such wave, the plan has waves 0-" + (waves - 1)
            + (canarySelector.isEmpty() ? "" : " (wave 0 is the canary wave)"));
      }
    }
    if (offlineTimeout == null || offlineTimeout.isNegative() || offlineTimeout.isZero()) {
      throw new IllegalArgumentException("offlineTimeout must be positive, got " + offlineTimeout);
    }
    if (deviceTimeout != null && deviceTimeout.compareTo(soak) <= 0) {
      throw new IllegalArgumentException("deviceTimeout (" + deviceTimeout + ") must be longer than soak (" + soak + ")");
    }
  }

  /** Number of waves a plan has: the canary wave, if any, and one per batch. */
  public int waveCount() {
    return batches.size() + (canarySelector.isEmpty() ? 0 : 1);
  }

  /** Whether reboots into the new digest may be released at {@code t}. */
  public boolean windowOpen(Instant t) {
    if (windows.isEmpty()) return true;
    for (MaintenanceWindow w : windows) if (w.isOpen(t)) return true;
    return false;
  }

  /** A builder with defaults: one batch "all", success 1.0 after 10 min soak, failure 0.05 → PAUSE, download-first, offline after 5 min. */
  public static Builder builder() {
    return new Builder();
  }

  /** Builds a policy; every option is checked when given, with a message naming it. */
  public static final class Builder {
    private List<Quantity> batches = List.of(new Quantity.All());
    private final Map<String, String> canary = new LinkedHashMap<>();
    private double success = 1.0;
    private Duration soak = Duration.ofMinutes(10);
    private double failure = 0.05;
    private FailureAction action = FailureAction.PAUSE;
    private final List<DisruptionBudget> budgets = new ArrayList<>();
    private final List<MaintenanceWindow> windows = new ArrayList<>();
    private final List<Integer> gates = new ArrayList<>();
    private boolean downloadFirst = true;
    private Duration offlineTimeout = Duration.ofMinutes(5);
    private Duration deviceTimeout;

    private Builder() {}

    /** Cumulative batches, e.g. {@code "1%", "10%", "100%"} or {@code "10", "100", "all"}. */
    public Builder batches(String... sizes) {
      var list = new ArrayList<Quantity>();
      for (int i = 0; i < sizes.length; i++) {
        try {
          list.add(Quantity.parse(sizes[i]));
        } catch (IllegalArgumentException e) {
          throw new IllegalArgumentException("batches[" + i + "]: " + e.getMessage(), e);
        }
      }
      batches = list;
      return this;
    }

    /** Canaries carry {@code key=value} (several calls: all of them); they form wave 0. */
    public Builder canary(String key, String value) {
      if (key == null || key.isBlank() || value == null) throw new IllegalArgumentException("canary: label key and value must be set, got " + key + "=" + value);
      canary.put(key, value);
      return this;
    }

    public Builder successThreshold(double fraction) {
      if (!(fraction > 0 && fraction <= 1)) throw new IllegalArgumentException("successThreshold must be more than 0 and at most 1, got " + fraction);
      success = fraction;
      return this;
    }

    public Builder soak(Duration d) {
      if (d == null || d.isNegative()) throw new IllegalArgumentException("soak must be zero or positive, got " + d);
      soak = d;
      return this;
    }

    public Builder failureThreshold(double fraction) {
      if (!(fraction >= 0 && fraction < 1)) throw new IllegalArgumentException("failureThreshold must be at least 0 and less than 1, got " + fraction);
      failure = fraction;
      return this;
    }

    public Builder onFailure(FailureAction a) {
      if (a == null) throw new IllegalArgumentException("failureAction must be PAUSE or REVERT, got null");
      action = a;
      return this;
    }

    /** At most {@code max} ({@code "2"} or {@code "10%"}) of each group of {@code labelKey} unavailable at once. */
    public Builder budget(String labelKey, String max) {
      Quantity q;
      try {
        q = Quantity.parse(max);
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException("budget for \"" + labelKey + "\": " + e.getMessage(), e);
      }
      budgets.add(new DisruptionBudget(labelKey, q));
      return this;
    }

    /** A maintenance window: 5-field cron, duration, IANA zone (e.g. {@code "0 1 * * *", 3h, "Europe/Berlin"}). */
    public Builder window(String cron, Duration duration, String zone) {
      windows.add(MaintenanceWindow.of(cron, duration, zone));
      return this;
    }

    /** Wave {@code wave} (0-based) waits for an approval before release. */
    public Builder approvalBefore(int wave) {
      if (wave < 0) throw new IllegalArgumentException("approval gate before wave " + wave + ": waves are numbered from 0");
      gates.add(wave);
      return this;
    }

    public Builder downloadFirst(boolean on) {
      downloadFirst = on;
      return this;
    }

    public Builder offlineTimeout(Duration d) {
      if (d == null || d.isNegative() || d.isZero()) throw new IllegalArgumentException("offlineTimeout must be positive, got " + d);
      offlineTimeout = d;
      return this;
    }

    /** A released device not succeeded after {@code d} counts as failed; null for never (the default). */
    public Builder deviceTimeout(Duration d) {
      if (d != null && (d.isNegative() || d.isZero())) throw new IllegalArgumentException("deviceTimeout must be positive, got " + d);
      deviceTimeout = d;
      return this;
    }

    /** Checks the options together (batches, gates against the wave count, timeouts) and builds. */
    public RolloutPolicy build() {
      return new RolloutPolicy(batches, canary, success, soak, failure, action, budgets, windows, gates, downloadFirst,
          offlineTimeout, deviceTimeout);
    }
  }
}

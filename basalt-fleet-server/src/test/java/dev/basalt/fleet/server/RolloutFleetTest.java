package dev.basalt.fleet.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.basalt.api.fleet.DeviceInfo;
import dev.basalt.api.fleet.FleetSpec;
import dev.basalt.api.fleet.RolloutEventInfo;
import dev.basalt.api.fleet.RolloutInfo;
import dev.basalt.api.fleet.RolloutRequest;
import dev.basalt.api.fleet.EnrollmentTokenRequest;
import dev.basalt.fleet.client.AdminClient;
import dev.basalt.fleet.client.simulate.Simulator;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.IntFunction;
import java.util.function.BooleanSupplier;
import java.util.stream.Collectors;
import org.junit.jupiter.params.AfterParameterizedClassInvocation;
import org.junit.jupiter.params.BeforeParameterizedClassInvocation;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.Parameter;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Rollouts end to end over the real protocol: 1,000 {@link Simulator} devices enrolled once per database (real CSRs,
 * mTLS), following their desired state on virtual threads, on
 * SQLite and PostgreSQL. Each test starts from its own fleet converged on its own base digest.
 */
@ParameterizedClass
@EnumSource(TestFleet.Db.class)
class RolloutFleetTest {
  static final int N = 1000;
  static TestFleet fleet;
  static Simulator sim;
  /** Digest → ids of the devices whose boot trial of it fails. */
  static final Map<String, Set<String>> failing = new ConcurrentHashMap<>();
  static final Map<String, Map<String, String>> labels = new HashMap<>();
  static Path dir;

  @Parameter TestFleet.Db db;

  static String digest(int n) {
    return "sha256:" + String.format("%064x", n);
  }

  @BeforeParameterizedClassInvocation
  static void enroll(TestFleet.Db db) throws Exception {
    dir = Files.createTempDirectory("basalt-rollout-fleet");
    fleet = new TestFleet(db, dir, b -> b.controllerInterval(Duration.ofMillis(50)).maxWait(Duration.ofSeconds(20)));
    long t0 = System.nanoTime();
    // 10 sites of 100; 50 canaries spread over them.
    IntFunction<Map<String, String>> label = i -> Map.of("site", "site-" + (i % 10), "tier", i < 50 ? "canary" : "main");
    sim = simulator(fleet.admin, fleet.deviceUri(), fleet.server.caCertificatePem(), N, label, digest(1))
        .failWhen((id, digest) -> failing.getOrDefault(digest, Set.of()).contains(id)).build();
    sim.enroll();
    System.out.printf("[%s] enrolled %d devices in %d ms%n", db, N, (System.nanoTime() - t0) / 1_000_000);
    List<String> ids = sim.deviceIds();
    labels.clear();
    for (int i = 0; i < N; i++) labels.put(ids.get(i), label.apply(i));
    sim.start();
  }

  /**
   * Simulated devices over the real protocol (CSR, mTLS) that follow their desired state at once (no simulated
   * download or reboot time), booted on {@code factory}; enrolled with 32 auto-approving tokens (label
   * {@code sim=yes}), 32 at a time.
   */
  static Simulator.Builder simulator(AdminClient admin, URI deviceUri, String caPem, int n, IntFunction<Map<String, String>> labels,
      String factory) throws Exception {
    List<String> tokens = new ArrayList<>();
    for (int i = 0; i < 32; i++) {
      tokens.add(admin.createEnrollmentToken(new EnrollmentTokenRequest("sim-" + i, Map.of("sim", "yes"), "sim=yes", null, 0)).token());
    }
    return Simulator.builder().server(deviceUri).caCertificate(caPem).enrollmentTokens(tokens).devices(n).labels(labels)
        .initialImage("sim/os", factory).timing(Duration.ZERO, Duration.ZERO).pollWait(Duration.ofSeconds(20))
        .enrollment(32, Duration.ofMinutes(1));
  }

  static long booted(String digest) {
    return sim.bootedCounts().getOrDefault(digest, 0);
  }

  @AfterParameterizedClassInvocation
  static void stop() throws InterruptedException {
    if (sim != null) sim.close();
    if (fleet != null) fleet.close();
    dev.basalt.testkit.Tools.run(List.of("rm", "-rf", dir.toString()));
  }

  static void await(BooleanSupplier cond, Duration max, String what) throws InterruptedException {
    long end = System.nanoTime() + max.toNanos();
    while (!cond.getAsBoolean()) {
      if (System.nanoTime() > end) throw new AssertionError("timed out after " + max + " waiting until " + what);
      Thread.sleep(20);
    }
  }

  /** A fleet of all simulated devices on {@code base}, every device running it. */
  void fleetOn(String name, String base) throws Exception {
    fleet.admin.createFleet(new FleetSpec(name, "sim=yes", "sim/os@" + base, null, null));
    await(() -> booted(base) == N, Duration.ofSeconds(60), "all devices run " + base);
  }

  RolloutInfo awaitPhase(String id, Set<String> phases) throws Exception {
    RolloutInfo[] last = new RolloutInfo[1];
    await(() -> {
      try {
        last[0] = fleet.admin.rollout(id);
        return phases.contains(last[0].phase());
      } catch (Exception e) {
        return false;
      }
    }, Duration.ofSeconds(120), "rollout " + id + " is " + phases);
    return last[0];
  }

  static Map<String, Object> policy(String action, boolean canary) {
    Map<String, Object> p = new LinkedHashMap<>();
    p.put("batches", canary ? List.of("10%", "50%", "100%") : List.of("5%", "25%", "50%", "100%"));
    if (canary) p.put("canarySelector", Map.of("tier", "canary"));
    p.put("successThreshold", 1.0);
    p.put("soak", "PT0S");
    p.put("failureThreshold", 0.1);
    p.put("failureAction", action);
    p.put("budgets", List.of(Map.of("labelKey", "site", "maxUnavailable", "10%")));
    p.put("downloadFirst", true);
    p.put("offlineTimeout", "PT5M");
    return p;
  }

  /**
   * The disruption budget from the persisted log alone: at each reboot release the engine's own count is within the
   * allowance, and so is a replay that counts a device unavailable from its release until it succeeded, failed or
   * reverted. Returns how many releases filled their group's allowance exactly (the budget was binding).
   */
  static int assertBudgetKept(List<RolloutEventInfo> events) {
    Map<String, String> site = new HashMap<>();
    labels.forEach((id, l) -> site.put(id, l.get("site")));
    Map<String, Set<String>> down = new HashMap<>();
    int binding = 0;
    for (RolloutEventInfo e : events) {
      switch (e.type()) {
        case "REBOOT_RELEASED", "REVERT_RELEASED" -> {
          String g = site.get(e.deviceId());
          Set<String> s = down.computeIfAbsent(g, k -> new HashSet<>());
          s.add(e.deviceId());
          int unavailable = e.counts().get("site=" + g + ".unavailable");
          int allowed = e.counts().get("site=" + g + ".allowed");
          assertThat(allowed).as("site budget: 10%% of 100").isEqualTo(10);
          assertThat(unavailable).as("event %d: engine count", e.seq()).isLessThanOrEqualTo(allowed);
          assertThat(s.size()).as("event %d: replayed unavailable devices of %s: %s", e.seq(), g, s).isLessThanOrEqualTo(allowed);
          if (s.size() == allowed) binding++;
        }
        case "DEVICE_SUCCEEDED", "DEVICE_FAILED", "DEVICE_REVERTED" -> {
          Set<String> s = down.get(site.get(e.deviceId()));
          if (s != null) s.remove(e.deviceId());
        }
        default -> {}
      }
    }
    return binding;
  }

  static void assertSeqsContiguous(List<RolloutEventInfo> events) {
    for (int i = 0; i < events.size(); i++) assertThat(events.get(i).seq()).isEqualTo(i + 1);
  }

  static List<String> types(List<RolloutEventInfo> events) {
    return events.stream().map(RolloutEventInfo::type).toList();
  }

  @Test
  void fourWaveRolloutCompletesWithinTheBudget() throws Exception {
    String base = digest(10);
    String target = digest(11);
    fleetOn("four", base);
    try {
      long t0 = System.nanoTime();
      RolloutInfo r = fleet.admin.startRollout("four", new RolloutRequest("sim/os", target, policy("PAUSE", false)));
      assertThat(r.waveCount()).isEqualTo(4);
      assertThat(r.waves()).extracting(RolloutInfo.Wave::devices).containsExactly(50, 200, 250, 500);
      assertThat(r.previousDigest()).isEqualTo(base);
      RolloutInfo done = awaitPhase(r.id(), Set.of("SUCCEEDED", "PAUSED", "REVERTED", "ABORTED"));
      long ms = (System.nanoTime() - t0) / 1_000_000;
      System.out.printf("[%s] 4-wave rollout of %d devices: %d ms%n", db, N, ms);
      assertThat(done.phase()).isEqualTo("SUCCEEDED");
      assertThat(done.stages()).containsExactly(Map.entry("SUCCEEDED", N));
      assertThat(booted(target)).isEqualTo(N);
      assertThat(fleet.admin.fleet("four").spec().targetDigest()).as("a succeeded rollout becomes the fleet's target").isEqualTo(target);

      List<RolloutEventInfo> events = fleet.admin.rolloutEvents(r.id());
      assertSeqsContiguous(events);
      assertThat(events.stream().filter(e -> e.type().equals("WAVE_STARTED")).map(RolloutEventInfo::wave).distinct())
          .containsExactly(0, 1, 2, 3);
      assertThat(events.stream().filter(e -> e.type().equals("DEVICE_SUCCEEDED")).map(RolloutEventInfo::deviceId).distinct().count())
          .isEqualTo(N);
      assertThat(types(events).getLast()).isEqualTo("SUCCEEDED");
      assertThat(assertBudgetKept(events)).as("the budget was binding at some release").isPositive();
      // the next passes keep the devices where they are (direct assignment of the new target)
      fleet.server.reconcileNow();
      assertThat(fleet.admin.fleetDevices("four")).extracting(DeviceInfo::bootedDigest).containsOnly(target);
    } finally {
      fleet.admin.deleteFleet("four");
    }
  }

  /** Ids of the canary devices that fail {@code digest}: every fifth, 20 % of the canary wave. */
  Set<String> failingCanaries(String digest) {
    Set<String> ids = labels.entrySet().stream().filter(e -> e.getValue().get("tier").equals("canary"))
        .map(Map.Entry::getKey).sorted().filter(new java.util.function.Predicate<String>() {
          int i;

          @Override
          public boolean test(String s) {
            return i++ % 5 == 0;
          }
        }).collect(Collectors.toSet());
    failing.put(digest, ids);
    return ids;
  }

  @Test
  void failingCanariesPauseTheRolloutBeforeWave2() throws Exception {
    String base = digest(20);
    String target = digest(21);
    fleetOn("pause", base);
    try {
      Set<String> bad = failingCanaries(target);
      assertThat(bad).hasSize(10);
      long t0 = System.nanoTime();
      RolloutInfo r = fleet.admin.startRollout("pause", new RolloutRequest("sim/os@" + target, null, policy("PAUSE", true)));
      assertThat(r.waves()).extracting(RolloutInfo.Wave::devices).containsExactly(50, 95, 380, 475);
      RolloutInfo paused = awaitPhase(r.id(), Set.of("PAUSED", "SUCCEEDED", "REVERTED"));
      System.out.printf("[%s] canary pause: %d ms%n", db, (System.nanoTime() - t0) / 1_000_000);
      assertThat(paused.phase()).isEqualTo("PAUSED");
      Thread.sleep(300); // several more controller passes: nothing more is released
      paused = fleet.admin.rollout(r.id());
      assertThat(paused.phase()).isEqualTo("PAUSED");
      assertThat(paused.releasedWaves()).isEqualTo(1);
      assertThat(paused.waves().get(1).stages()).containsExactly(Map.entry("WAITING", 95));
      List<RolloutEventInfo> events = fleet.admin.rolloutEvents(r.id());
      assertSeqsContiguous(events);
      assertThat(types(events)).contains("FAILURE_THRESHOLD_EXCEEDED", "PAUSED");
      assertThat(events).filteredOn(e -> e.type().equals("WAVE_STARTED")).extracting(RolloutEventInfo::wave).containsOnly(0);
      assertThat(events).filteredOn(e -> e.type().equals("DEVICE_FAILED")).extracting(RolloutEventInfo::deviceId)
          .isSubsetOf(bad).isNotEmpty();
      assertBudgetKept(events);
      List<String> ids = sim.deviceIds();
      List<String> bootedNow = sim.bootedDigests();
      for (int i = 0; i < N; i++) {
        String id = ids.get(i);
        if (!labels.get(id).get("tier").equals("canary")) assertThat(bootedNow.get(i)).as(id).isEqualTo(base);
        if (bad.contains(id)) assertThat(bootedNow.get(i)).as("failed device %s is back on the previous digest", id).isEqualTo(base);
      }
      Map<String, DeviceInfo> seen = fleet.admin.fleetDevices("pause").stream().collect(Collectors.toMap(DeviceInfo::id, d -> d));
      for (String id : bad) {
        if (seen.get(id).failedDigests().contains(target)) assertThat(seen.get(id).bootedDigest()).isEqualTo(base);
      }

      // aborting keeps every desired state as it is, also over the next passes
      Map<String, String> desired = new HashMap<>();
      seen.values().forEach(d -> desired.put(d.id(), d.desired().digest() + "/" + d.desired().rebootAllowed()));
      assertThat(fleet.admin.abortRollout(r.id(), "canaries failed").phase()).isEqualTo("ABORTED");
      fleet.server.reconcileNow();
      fleet.server.reconcileNow();
      for (DeviceInfo d : fleet.admin.fleetDevices("pause")) {
        assertThat(d.desired().digest() + "/" + d.desired().rebootAllowed()).as(d.id()).isEqualTo(desired.get(d.id()));
      }
    } finally {
      fleet.admin.deleteFleet("pause");
    }
  }

  @Test
  void failingCanariesRevertTheRolloutWhenThePolicySaysSo() throws Exception {
    String base = digest(30);
    String target = digest(31);
    fleetOn("revert", base);
    try {
      Set<String> bad = failingCanaries(target);
      long t0 = System.nanoTime();
      RolloutInfo r = fleet.admin.startRollout("revert", new RolloutRequest("sim/os", target, policy("REVERT", true)));
      RolloutInfo reverted = awaitPhase(r.id(), Set.of("REVERTED", "PAUSED", "SUCCEEDED"));
      System.out.printf("[%s] canary revert: %d ms%n", db, (System.nanoTime() - t0) / 1_000_000);
      assertThat(reverted.phase()).isEqualTo("REVERTED");
      assertThat(reverted.releasedWaves()).isEqualTo(1);
      List<RolloutEventInfo> events = fleet.admin.rolloutEvents(r.id());
      assertSeqsContiguous(events);
      assertThat(types(events)).contains("FAILURE_THRESHOLD_EXCEEDED", "REVERT_STARTED").last().isEqualTo("REVERTED");
      assertBudgetKept(events);
      // every device runs the previous digest again, as the devices themselves report it
      await(() -> booted(base) == N, Duration.ofSeconds(30), "all devices run the previous digest");
      List<DeviceInfo> seen = fleet.admin.fleetDevices("revert");
      assertThat(seen).hasSize(N).extracting(DeviceInfo::bootedDigest).containsOnly(base);
      assertThat(seen).filteredOn(d -> d.failedDigests().contains(target)).extracting(DeviceInfo::id).isSubsetOf(bad);
      Set<String> rebootedBack = events.stream().filter(e -> e.type().equals("REVERT_RELEASED")).map(RolloutEventInfo::deviceId)
          .collect(Collectors.toSet());
      assertThat(rebootedBack).as("canaries that took the new digest rebooted back").isNotEmpty().doesNotContainAnyElementsOf(bad);
      assertThat(fleet.admin.fleet("revert").spec().targetDigest()).isEqualTo(base);
    } finally {
      fleet.admin.deleteFleet("revert");
    }
  }

  static AdminClient admin() {
    return fleet.admin;
  }
}

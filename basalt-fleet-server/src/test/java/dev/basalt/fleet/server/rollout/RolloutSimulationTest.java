package dev.basalt.fleet.server.rollout;

import static dev.basalt.fleet.server.rollout.FleetSim.NEW;
import static dev.basalt.fleet.server.rollout.FleetSim.OLD;
import static org.assertj.core.api.Assertions.assertThat;

import dev.basalt.api.Health;
import dev.basalt.fleet.server.rollout.RolloutEvent.Type;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalTime;
import java.time.ZoneId;
import java.time.ZonedDateTime;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.ValueSource;

/** Whole rollouts played forward against {@link FleetSim}'s devices. */
class RolloutSimulationTest {
  private static final Instant T0 = Instant.parse("2025-03-10T08:00:00Z");

  private static FleetSim fleet(RolloutPolicy policy, int n, long seed, Instant start) {
    var sim = new FleetSim(policy, start);
    var rnd = new SplittableRandom(seed);
    for (int i = 0; i < n; i++) {
      var d = sim.add(String.format("dev-%05d", i), Map.of("site", "site-" + (i % 5), "rack", "rack-" + (i % 17)));
      d.downloadTicks = 3 + rnd.nextInt(13);
    }
    return sim;
  }

  @Test
  void thousandDevicesInFourWavesAllEndOnTheNewDigest() {
    var policy = RolloutPolicy.builder().batches("1%", "10%", "50%", "100%").soak(Duration.ofMinutes(30))
        .budget("site", "10%").build();
    var sim = fleet(policy, 1000, 1, T0).planAndStart("r-1000");
    sim.runUntil(FleetSim.phase(RolloutPhase.SUCCEEDED), 3000);

    assertThat(sim.violations).isEmpty();
    assertThat(sim.devices.values()).allSatisfy(d -> {
      assertThat(d.booted).isEqualTo(NEW);
      assertThat(d.health).isEqualTo(Health.HEALTHY);
    });
    assertThat(sim.state.stageCounts()).containsEntry(DeviceStage.SUCCEEDED, 1000).hasSize(1);
    assertThat(sim.events(Type.PLANNED).getFirst().counts()).containsExactly(
        Map.entry("wave0", 10), Map.entry("wave1", 90), Map.entry("wave2", 400), Map.entry("wave3", 500));
    assertThat(sim.events(Type.WAVE_STARTED)).extracting(RolloutEvent::wave).containsExactly(0, 1, 2, 3);
    assertThat(sim.events(Type.WAVE_SUCCEEDED)).extracting(RolloutEvent::wave).containsExactly(0, 1, 2, 3);
    // Each wave starts only after the previous one succeeded.
    for (int w = 1; w < 4; w++) {
      int k = w;
      long started = sim.log.stream().filter(e -> e.type() == Type.WAVE_STARTED && e.wave() == k).findFirst().orElseThrow().seq();
      long prev = sim.log.stream().filter(e -> e.type() == Type.WAVE_SUCCEEDED && e.wave() == k - 1).findFirst().orElseThrow().seq();
      assertThat(started).isGreaterThan(prev);
    }
    assertThat(sim.events(Type.REBOOT_RELEASED)).hasSize(1000);
    assertThat(sim.events(Type.SUCCEEDED)).hasSize(1);
    System.out.printf("rollout of 1000 devices in 4 waves: %d virtual minutes, %d events%n", sim.ticks, sim.log.size());
  }

  private static FleetSim canaryFleet(FailureAction action) {
    var policy = RolloutPolicy.builder().canary("ring", "canary").batches("10%", "50%", "100%").soak(Duration.ofMinutes(30))
        .successThreshold(0.9).failureThreshold(0.1).onFailure(action).build();
    var sim = new FleetSim(policy, T0);
    for (int i = 0; i < 200; i++) {
      var d = sim.add(String.format("dev-%03d", i), i < 20 ? Map.of("ring", "canary") : Map.of());
      d.failsNew = i < 20 && i % 5 == 0; // 4 of 20 canaries
      d.downloadTicks = 2 + i % 7;
    }
    return sim.planAndStart("r-canary");
  }

  @Test
  void failingCanariesPauseTheRolloutBeforeTheNextWave() {
    var sim = canaryFleet(FailureAction.PAUSE);
    sim.runUntil(FleetSim.phase(RolloutPhase.PAUSED), 500);
    for (int i = 0; i < 300; i++) sim.tick();

    assertThat(sim.state.phase()).isEqualTo(RolloutPhase.PAUSED);
    assertThat(sim.state.releasedWaves()).isEqualTo(1);
    assertThat(sim.violations).isEmpty();
    var exceeded = sim.events(Type.FAILURE_THRESHOLD_EXCEEDED);
    assertThat(exceeded).singleElement().satisfies(e -> {
      assertThat(e.wave()).isZero();
      assertThat(e.counts().get("failed")).isGreaterThan(2);
    });
    assertThat(sim.gotNew).allMatch(id -> sim.state.devices().get(id).wave() == 0);
    assertThat(sim.devices.values()).filteredOn(d -> !d.labels.containsKey("ring"))
        .allSatisfy(d -> assertThat(d.rebootsIntoNew).isEmpty());
    assertThat(sim.events(Type.WAVE_STARTED)).extracting(RolloutEvent::wave).containsExactly(0);
  }

  @Test
  void failingCanariesRevertTheWholeFleet() {
    var sim = canaryFleet(FailureAction.REVERT);
    sim.runUntil(FleetSim.phase(RolloutPhase.REVERTED), 500);

    assertThat(sim.violations).isEmpty();
    assertThat(sim.gotNew).isNotEmpty().allMatch(id -> sim.state.devices().get(id).wave() == 0);
    assertThat(sim.devices.values()).allSatisfy(d -> {
      assertThat(d.booted).as(d.id).isEqualTo(OLD);
      assertThat(d.staged).as(d.id).isNotEqualTo(NEW);
      assertThat(d.health).as(d.id).isEqualTo(Health.HEALTHY);
    });
    // Healthy canaries that had booted the new digest were rebooted back; failing ones fell back by themselves.
    assertThat(sim.devices.values()).filteredOn(d -> !d.rebootsIntoNew.isEmpty()).hasSizeGreaterThan(4);
    assertThat(sim.devices.values()).filteredOn(d -> d.failsNew).allMatch(d -> d.failed.contains(NEW));
    assertThat(sim.events(Type.REVERT_RELEASED)).isNotEmpty();
    assertThat(sim.events(Type.REVERTED)).hasSize(1);
  }

  @ParameterizedTest(name = "downloadFirst={0}, site budget {1}, rack budget {2}")
  @CsvSource({"true, 10%, 2", "false, 10%, 2", "true, 3, 1", "false, 25%, 3"})
  void disruptionBudgetsOfSeveralLabelGroupsAreNeverExceeded(boolean downloadFirst, String site, String rack) {
    var policy = RolloutPolicy.builder().batches("20%", "100%").soak(Duration.ofMinutes(5)).successThreshold(0.7)
        .failureThreshold(0.3).downloadFirst(downloadFirst).budget("site", site).budget("rack", rack).build();
    var sim = new FleetSim(policy, T0);
    var rnd = new SplittableRandom(7);
    int[] siteSizes = {7, 40, 153};
    int n = 0;
    for (int s = 0; s < siteSizes.length; s++) {
      for (int i = 0; i < siteSizes[s]; i++, n++) {
        // a few devices without a rack label form a group of their own
        var labels = n % 23 == 0 ? Map.of("site", "s" + s) : Map.of("site", "s" + s, "rack", "r" + (n % 9));
        var d = sim.add(String.format("dev-%04d", n), labels);
        d.downloadTicks = 1 + rnd.nextInt(20);
        d.failsNew = rnd.nextInt(100) < 5;
      }
    }
    sim.planAndStart("r-budget");
    var peak = new HashMap<String, Integer>();
    sim.runUntil(st -> {
      recordPeaks(sim, peak);
      return st.phase().terminal();
    }, 5000);

    assertThat(sim.state.phase()).isEqualTo(RolloutPhase.SUCCEEDED);
    assertThat(sim.violations).isEmpty();
    // The audit: every release names its groups' counts after it, within their allowance.
    var releases = sim.events(Type.REBOOT_RELEASED);
    assertThat(releases).isNotEmpty().allSatisfy(e -> {
      assertThat(e.counts().keySet()).anyMatch(k -> k.startsWith("site=")).anyMatch(k -> k.startsWith("rack="));
      e.counts().forEach((k, v) -> {
        if (k.endsWith(".unavailable")) assertThat(v).isLessThanOrEqualTo(e.counts().get(k.replace(".unavailable", ".allowed")));
      });
    });
    // The budgets were binding somewhere (else this test could not fail).
    assertThat(releases).anyMatch(e -> e.counts().entrySet().stream().anyMatch(x -> x.getKey().endsWith(".unavailable")
        && x.getValue().equals(e.counts().get(x.getKey().replace(".unavailable", ".allowed")))));
    assertThat(peak).isNotEmpty();
  }

  private static void recordPeaks(FleetSim sim, Map<String, Integer> peak) {
    var now = new HashMap<String, Integer>();
    for (var d : sim.devices.values()) if (d.unavailable()) now.merge("site=" + d.labels.get("site"), 1, Integer::sum);
    now.forEach((k, v) -> peak.merge(k, v, Math::max));
  }

  /** Whether {@code t} is inside "0 1 * * *" for 3 h in Europe/Berlin, worked out without the engine's code. */
  private static boolean insideBerlinWindow(Instant t) {
    ZoneId berlin = ZoneId.of("Europe/Berlin");
    LocalDate day = t.atZone(berlin).toLocalDate();
    for (LocalDate d : List.of(day, day.minusDays(1))) {
      Instant s = ZonedDateTime.of(d, LocalTime.of(1, 0), berlin).toInstant();
      if (!t.isBefore(s) && t.isBefore(s.plus(Duration.ofHours(3)))) return true;
    }
    return false;
  }

  @ParameterizedTest(name = "downloadFirst={0}")
  @ValueSource(booleans = {true, false})
  void rebootsOnlyInsideAMaintenanceWindowAcrossADstChange(boolean downloadFirst) {
    // 2025-03-30: Europe/Berlin goes from CET to CEST at 02:00. Windows open at 01:00 local for 3 h:
    // 2025-03-30T00:00Z (CET) and 2025-03-30T23:00Z (CEST).
    var policy = RolloutPolicy.builder().batches("10%", "100%").soak(Duration.ofMinutes(30)).approvalBefore(1)
        .downloadFirst(downloadFirst).window("0 1 * * *", Duration.ofHours(3), "Europe/Berlin").build();
    Instant start = Instant.parse("2025-03-29T12:00:00Z");
    var sim = fleet(policy, 300, 3, start).planAndStart("r-dst");
    sim.runUntil(FleetSim.phase(RolloutPhase.WAITING_APPROVAL), 2000);
    sim.runUntil(st -> !sim.clock.now.isBefore(Instant.parse("2025-03-30T12:00:00Z")), 2000);
    sim.apply(sim.engine.approve(sim.state));
    sim.runUntil(FleetSim.phase(RolloutPhase.SUCCEEDED), 3000);

    assertThat(sim.violations).isEmpty();
    var reboots = sim.devices.values().stream().flatMap(d -> d.rebootsIntoNew.stream()).toList();
    assertThat(reboots).hasSize(300).allMatch(RolloutSimulationTest::insideBerlinWindow);
    assertThat(sim.events(Type.REBOOT_RELEASED)).extracting(RolloutEvent::time).allMatch(RolloutSimulationTest::insideBerlinWindow);
    // Both windows were used: wave 0 in the CET one, wave 1 in the CEST one.
    assertThat(reboots).anyMatch(t -> t.isBefore(Instant.parse("2025-03-30T03:00:00Z")))
        .anyMatch(t -> !t.isBefore(Instant.parse("2025-03-30T23:00:00Z")));
    assertThat(sim.events(Type.WINDOW_OPENED)).extracting(RolloutEvent::time)
        .contains(Instant.parse("2025-03-30T00:00:00Z"), Instant.parse("2025-03-30T23:00:00Z"));
    Instant secondWindow = Instant.parse("2025-03-30T23:00:00Z");
    var wave1 = sim.state.waves().get(1);
    if (downloadFirst) {
      // Downloads went out on approval, in the afternoon; every wave-1 device had staged before the window opened.
      assertThat(sim.events(Type.DEVICE_STAGED)).filteredOn(e -> e.wave() == 1).hasSize(wave1.size())
          .allMatch(e -> e.time().isBefore(secondWindow));
    } else {
      assertThat(sim.events(Type.DEVICE_STAGED)).isEmpty();
      assertThat(sim.events(Type.REBOOT_RELEASED)).filteredOn(e -> e.wave() == 1)
          .allMatch(e -> !e.time().isBefore(secondWindow));
    }
  }

  @ParameterizedTest
  @EnumSource(FailureAction.class)
  void devicesGoingOfflineCountAsUnavailableAndTheRolloutStillEnds(FailureAction action) {
    var policy = RolloutPolicy.builder().batches("50%", "100%").soak(Duration.ofMinutes(10)).successThreshold(0.8)
        .failureThreshold(0.2).onFailure(action).budget("site", "1").offlineTimeout(Duration.ofMinutes(3)).build();
    var sim = fleet(policy, 60, 5, T0);
    sim.checkGroundTruth = false;
    var off = sim.devices.get("dev-00003");
    off.online = false; // offline from the start: its site (site-3) is at its budget of 1 until it returns
    sim.planAndStart("r-offline");
    for (int i = 0; i < 60; i++) sim.tick();
    assertThat(sim.events(Type.REBOOT_RELEASED)).isNotEmpty().noneMatch(e -> e.counts().containsKey("site=site-3.unavailable"));
    off.online = true;
    sim.runUntil(FleetSim.phase(RolloutPhase.SUCCEEDED), 2000);
    assertThat(sim.violations).isEmpty();
    assertThat(sim.events(Type.REBOOT_RELEASED)).anyMatch(e -> e.counts().containsKey("site=site-3.unavailable"));
  }
}

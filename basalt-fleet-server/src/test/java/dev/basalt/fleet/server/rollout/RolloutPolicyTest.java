package dev.basalt.fleet.server.rollout;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class RolloutPolicyTest {
  private static RolloutPolicy.Builder b() {
    return RolloutPolicy.builder();
  }

  static Stream<Arguments> invalid() {
    return Stream.<Arguments>of(
        bad(() -> b().batches().build(), "batches must not be empty"),
        bad(() -> b().batches("10%", "5%", "100%").build(), "batches[1] (5%) must be larger than batches[0] (10%): batches are cumulative"),
        bad(() -> b().batches("10", "10", "all").build(), "batches[1] (10) must be larger than batches[0] (10): batches are cumulative"),
        bad(() -> b().batches("100%", "all").build(),
            "batches[1] (all) must be larger than batches[0] (100%): batches are cumulative and 100% already covers every device"),
        bad(() -> b().batches("10", "50%").build(), "the last batch must be \"100%\" or \"all\" so that every device is covered, got \"50%\""),
        bad(() -> b().batches("10", "ten").build(), "batches[1]: \"ten\" is not a count (\"10\"), a percentage (\"10%\") or \"all\""),
        bad(() -> b().batches("0", "all").build(), "batches[0]: \"0\": a count must be at least 1, got 0"),
        bad(() -> b().batches("150%").build(), "batches[0]: \"150%\": a percentage must be more than 0% and at most 100%, got 150.0%"),
        bad(() -> b().successThreshold(0).build(), "successThreshold must be more than 0 and at most 1, got 0.0"),
        bad(() -> b().successThreshold(1.5).build(), "successThreshold must be more than 0 and at most 1, got 1.5"),
        bad(() -> b().failureThreshold(1).build(), "failureThreshold must be at least 0 and less than 1, got 1.0"),
        bad(() -> b().failureThreshold(-0.1).build(), "failureThreshold must be at least 0 and less than 1, got -0.1"),
        bad(() -> b().soak(Duration.ofMinutes(-1)).build(), "soak must be zero or positive, got PT-1M"),
        bad(() -> b().budget("site", "-2").build(), "budget for \"site\": \"-2\": a count must be at least 1, got -2"),
        bad(() -> b().budget(" ", "2").build(), "budget label key must not be blank"),
        bad(() -> b().budget("site", "2").budget("site", "10%").build(), "budgets: label key \"site\" has two budgets"),
        bad(() -> b().window("0 25 * * *", Duration.ofHours(1), "UTC").build(), "cron \"0 25 * * *\": hour field \"25\": 25 is out of range 0-23"),
        bad(() -> b().window("0 1 * * *", Duration.ofHours(1), "Europe/Berlln").build(), "window \"0 1 * * *\": \"Europe/Berlln\" is not an IANA time zone"),
        bad(() -> b().window("0 1 * * *", Duration.ofSeconds(30), "UTC").build(), "window \"0 1 * * *\": duration must be 1 minute to 7 days, got PT30S"),
        bad(() -> b().batches("50%", "100%").approvalBefore(2).build(), "approval gate before wave 2: no such wave, the plan has waves 0-1"),
        bad(() -> b().canary("ring", "c").batches("50%", "100%").approvalBefore(3).build(),
            "approval gate before wave 3: no such wave, the plan has waves 0-2 (wave 0 is the canary wave)"),
        bad(() -> b().approvalBefore(-1).build(), "approval gate before wave -1: waves are numbered from 0"),
        bad(() -> b().offlineTimeout(Duration.ZERO).build(), "offlineTimeout must be positive, got PT0S"),
        bad(() -> b().soak(Duration.ofHours(1)).deviceTimeout(Duration.ofMinutes(30)).build(), "deviceTimeout (PT30M) must be longer than soak (PT1H)"),
        bad(() -> b().onFailure(null).build(), "failureAction must be PAUSE or REVERT, got null"),
        bad(() -> b().canary("", "x").build(), "canary: label key and value must be set, got =x"));
  }

  private static Arguments bad(Supplier<RolloutPolicy> s, String message) {
    return Arguments.of(s, message);
  }

  @ParameterizedTest(name = "{1}")
  @MethodSource("invalid")
  void invalidPoliciesAreRejectedWithPreciseMessages(Supplier<RolloutPolicy> s, String message) {
    assertThatThrownBy(s::get).isInstanceOf(IllegalArgumentException.class).hasMessage(message);
  }

  @Test
  void theRecordConstructorChecksTooSoJsonFromTheStoreIsValidated() {
    var ok = b().build();
    assertThatThrownBy(() -> new RolloutPolicy(ok.batches(), ok.canarySelector(), 2, ok.soak(), ok.failureThreshold(),
        ok.failureAction(), ok.budgets(), ok.windows(), ok.approvalGates(), true, ok.offlineTimeout(), null))
        .hasMessage("successThreshold must be more than 0 and at most 1, got 2.0");
  }

  @Test
  void defaultsAndWaveCount() {
    var p = b().build();
    assertThat(p.batches()).containsExactly(new Quantity.All());
    assertThat(p.waveCount()).isEqualTo(1);
    assertThat(p.downloadFirst()).isTrue();
    assertThat(p.failureAction()).isEqualTo(FailureAction.PAUSE);
    assertThat(b().canary("ring", "c").batches("1%", "100%").approvalBefore(2).approvalBefore(0).build())
        .satisfies(q -> assertThat(q.waveCount()).isEqualTo(3))
        .satisfies(q -> assertThat(q.approvalGates()).containsExactly(0, 2));
  }
}

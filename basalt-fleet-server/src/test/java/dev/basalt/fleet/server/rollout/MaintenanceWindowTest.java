package dev.basalt.fleet.server.rollout;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class MaintenanceWindowTest {
  @ParameterizedTest(name = "{0} for {1} at {2}: {3}")
  @CsvSource({
      // Berlin: CET (UTC+1) until 2025-03-30 02:00, then CEST (UTC+2); back to CET on 2025-10-26 03:00.
      "0 1 * * *, PT3H, 2025-03-29T23:59:59Z, false",
      "0 1 * * *, PT3H, 2025-03-30T00:00:00Z, true",
      "0 1 * * *, PT3H, 2025-03-30T02:59:59Z, true",   // 04:59 CEST: 3 h of elapsed time, not of wall clock
      "0 1 * * *, PT3H, 2025-03-30T03:00:00Z, false",
      "0 1 * * *, PT3H, 2025-03-30T22:59:00Z, false",
      "0 1 * * *, PT3H, 2025-03-30T23:00:00Z, true",   // 01:00 CEST the next night
      "30 2 * * *, PT1H, 2025-03-30T01:30:00Z, false", // 02:30 does not exist that day: no window
      "30 2 * * *, PT1H, 2025-03-29T01:30:00Z, true",
      "30 2 * * *, PT1H, 2025-03-31T00:30:00Z, true",
      "30 2 * * *, PT30M, 2025-10-26T00:45:00Z, true", // 02:30 CEST, first occurrence
      "30 2 * * *, PT30M, 2025-10-26T01:05:00Z, false",
      "30 2 * * *, PT30M, 2025-10-26T01:45:00Z, true", // 02:30 CET, second occurrence
      "0 23 * * SUN, PT4H, 2025-06-02T00:30:00Z, true", // Monday 02:30 CEST, opened on Sunday
      "0 23 * * SUN, PT4H, 2025-06-02T21:30:00Z, false"})
  void berlinWindowsAcrossDstChanges(String cron, Duration duration, Instant t, boolean open) {
    assertThat(MaintenanceWindow.of(cron, duration, "Europe/Berlin").isOpen(t)).isEqualTo(open);
  }
}

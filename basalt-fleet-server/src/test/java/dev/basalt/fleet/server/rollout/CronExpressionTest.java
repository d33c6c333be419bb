package dev.basalt.fleet.server.rollout;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.LocalDateTime;
import java.time.ZoneOffset;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class CronExpressionTest {
  @ParameterizedTest(name = "{0} at {1}: {2}")
  @CsvSource(delimiter = ';', value = {
      "0 1 * * *; 2025-06-02T01:00; true",
      "0 1 * * *; 2025-06-02T01:01; false",
      "*/15 * * * *; 2025-06-02T13:45; true",
      "*/15 * * * *; 2025-06-02T13:50; false",
      "0 22-23,0-4/2 * * *; 2025-06-02T02:00; true",
      "0 22-23,0-4/2 * * *; 2025-06-02T03:00; false",
      "30 2 * * MON-FRI; 2025-06-02T02:30; true",
      "30 2 * * MON-FRI; 2025-06-01T02:30; false",
      "0 0 * * 7; 2025-06-01T00:00; true",
      "0 0 * * 0; 2025-06-01T00:00; true",
      "0 0 1 jan *; 2025-01-01T00:00; true",
      "0 0 1 JAN *; 2025-02-01T00:00; false",
      // both day fields restricted: either matches (crontab(5))
      "0 0 13 * FRI; 2025-06-13T00:00; true",
      "0 0 13 * FRI; 2025-06-06T00:00; true",
      "0 0 13 * FRI; 2025-06-05T00:00; false",
      // one restricted: both must match
      "0 0 * * FRI; 2025-06-05T00:00; false",
      "5/20 * * * *; 2025-06-05T00:45; true"})
  void matches(String cron, String local, boolean expected) {
    assertThat(CronExpression.parse(cron).matches(LocalDateTime.parse(local).atZone(ZoneOffset.UTC))).isEqualTo(expected);
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource(delimiter = ';', value = {
      "0 1 * *; cron \"0 1 * *\" must have 5 fields (minute hour day-of-month month day-of-week), got 4",
      "60 * * * *; cron \"60 * * * *\": minute field \"60\": 60 is out of range 0-59",
      "* * 0 * *; cron \"* * 0 * *\": day-of-month field \"0\": 0 is out of range 1-31",
      "* * * 13 *; cron \"* * * 13 *\": month field \"13\": 13 is out of range 1-12",
      "* * * * 8; cron \"* * * * 8\": day-of-week field \"8\": 8 is out of range 0-7",
      "5-1 * * * *; cron \"5-1 * * * *\": minute field \"5-1\": range 5-1 is reversed",
      "*/0 * * * *; cron \"*/0 * * * *\": minute field \"*/0\": step must be at least 1",
      "* * * * MOO; cron \"* * * * MOO\": day-of-week field \"MOO\": \"MOO\" is not a number or a name",
      "1,,2 * * * *; cron \"1,,2 * * * *\": minute field \"\": \"\" is not a number"})
  void badExpressionsAreNamed(String cron, String message) {
    assertThatThrownBy(() -> CronExpression.parse(cron)).isInstanceOf(IllegalArgumentException.class).hasMessage(message);
  }
}

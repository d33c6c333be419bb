package dev.basalt.fleet.server.rollout;

import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.temporal.ChronoUnit;
import java.util.Objects;

/**
 * A maintenance window: it opens at every wall-clock minute of {@code zone} that {@code cron} matches and stays
 * open for {@code duration} of elapsed time (so a window that spans a DST change is still that long). A start
 * minute that does not exist on a spring-forward day (e.g. 02:30 in Europe/Berlin on the last Sunday of March)
 * opens nothing that day; one that happens twice in autumn opens at its first occurrence and again at the second.
 *
 * @param cron when the window opens
 * @param duration how long it stays open, 1 minute to 7 days
 * @param zone the IANA time zone the cron fields are read in
 */
public record MaintenanceWindow(CronExpression cron, Duration duration, ZoneId zone) {
  static final Duration MAX = Duration.ofDays(7);

  public MaintenanceWindow {
    Objects.requireNonNull(cron, "cron");
    if (duration == null || duration.compareTo(Duration.ofMinutes(1)) < 0 || duration.compareTo(MAX) > 0) {
      throw new IllegalArgumentException("window \"" + cron + "\": duration must be 1 minute to 7 days, got " + duration);
    }
    Objects.requireNonNull(zone, "zone");
  }

  /** Parses the cron expression and the IANA zone name; the message names which one is wrong. */
  public static MaintenanceWindow of(String cron, Duration duration, String zone) {
    ZoneId z;
    try {
      z = ZoneId.of(zone);
    } catch (RuntimeException e) {
      throw new IllegalArgumentException("window \"" + cron + "\": \"" + zone + "\" is not an IANA time zone");
    }
    return new MaintenanceWindow(CronExpression.parse(cron), duration, z);
  }

  /** Whether the window is open at {@code t}: some start {@code s <= t} matches with {@code t < s + duration}. */
  public boolean isOpen(Instant t) {
    Instant first = t.minus(duration);
    for (Instant s = t.truncatedTo(ChronoUnit.MINUTES); s.isAfter(first); s = s.minus(1, ChronoUnit.MINUTES)) {
      if (cron.matches(s.atZone(zone))) return true;
    }
    return false;
  }
}

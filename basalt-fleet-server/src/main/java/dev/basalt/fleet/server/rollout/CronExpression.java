package dev.basalt.fleet.server.rollout;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonValue;
import java.time.ZonedDateTime;
import java.util.BitSet;
import java.util.List;
import java.util.Locale;

/**
 * A five-field cron expression (minute hour day-of-month month day-of-week) as in crontab(5): {@code *}, numbers,
 * ranges {@code a-b}, steps {@code * /n} and {@code a-b/n}, lists {@code a,b}, month names {@code JAN}–{@code DEC},
 * day names {@code SUN}–{@code SAT}, day of week 0 or 7 for Sunday. When both day fields are restricted a day
 * matches either of them (crontab(5)). The JSON form is the text.
 */
public final class CronExpression {
  private record Field(String name, int min, int max, List<String> names) {}

  private static final List<String> MONTHS =
      List.of("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC");
  private static final List<String> DAYS = List.of("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT");
  private static final Field[] FIELDS = {
    new Field("minute", 0, 59, List.of()), new Field("hour", 0, 23, List.of()),
    new Field("day-of-month", 1, 31, List.of()), new Field("month", 1, 12, MONTHS), new Field("day-of-week", 0, 7, DAYS)
  };

  private final String text;
  private final BitSet[] bits = new BitSet[5];
  private final boolean domRestricted;
  private final boolean dowRestricted;

  private CronExpression(String text) {
    this.text = text;
    String[] parts = text.strip().split("\\s+");
    if (parts.length != 5) {
      throw new IllegalArgumentException("cron \"" + text + "\" must have 5 fields (minute hour day-of-month month"
          + " day-of-week), got " + (text.isBlank() ? 0 : parts.length));
    }
    for (int i = 0; i < 5; i++) bits[i] = parseField(parts[i], FIELDS[i]);
    if (bits[4].get(7)) bits[4].set(0);
    domRestricted = !parts[2].startsWith("*");
    dowRestricted = !parts[4].startsWith("*");
  }

  /**
   * Parses a five-field expression.
   *
   * @throws IllegalArgumentException quoting the expression, the field and the offending part
   */
  @JsonCreator
  public static CronExpression parse(String text) {
    if (text == null) throw new IllegalArgumentException("cron expression must not be null");
    return new CronExpression(text);
  }

  private BitSet parseField(String spec, Field f) {
    BitSet set = new BitSet(f.max() + 1);
    for (String part : spec.split(",", -1)) {
      String range = part;
      int step = 1;
      int slash = part.indexOf('/');
      if (slash >= 0) {
        range = part.substring(0, slash);
        step = number(part.substring(slash + 1), f, part, true);
        if (step < 1) throw bad(f, part, "step must be at least 1");
      }
      int lo;
      int hi;
      if (range.equals("*")) {
        lo = f.min();
        hi = f.name().equals("day-of-week") ? 6 : f.max();
      } else {
        int dash = range.indexOf('-');
        lo = value(dash < 0 ? range : range.substring(0, dash), f, part);
        hi = dash < 0 ? (slash >= 0 ? f.max() : lo) : value(range.substring(dash + 1), f, part);
        if (hi < lo) throw bad(f, part, "range " + lo + "-" + hi + " is reversed");
      }
      for (int v = lo; v <= hi; v += step) set.set(v);
    }
    return set;
  }

  private int value(String s, Field f, String part) {
    int i = f.names().indexOf(s.toUpperCase(Locale.ROOT));
    int v = i >= 0 ? i + f.min() : number(s, f, part, false);
    if (v < f.min() || v > f.max()) throw bad(f, part, v + " is out of range " + f.min() + "-" + f.max());
    return v;
  }

  private int number(String s, Field f, String part, boolean isStep) {
    if (s.isEmpty() || !s.chars().allMatch(Character::isDigit) || s.length() > 4) {
      throw bad(f, part, "\"" + s + "\" is not " + (isStep ? "a step" : "a number" + (f.names().isEmpty() ? "" : " or a name")));
    }
    return Integer.parseInt(s);
  }

  private IllegalArgumentException bad(Field f, String part, String why) {
    return new IllegalArgumentException("cron \"" + text + "\": " + f.name() + " field \"" + part + "\": " + why);
  }

  /** Whether the local wall-clock minute of {@code t} matches (seconds are ignored). */
  public boolean matches(ZonedDateTime t) {
    if (!bits[0].get(t.getMinute()) || !bits[1].get(t.getHour()) || !bits[3].get(t.getMonthValue())) return false;
    boolean dom = bits[2].get(t.getDayOfMonth());
    boolean dow = bits[4].get(t.getDayOfWeek().getValue() % 7);
    return domRestricted && dowRestricted ? dom || dow : dom && dow;
  }

  @JsonValue
  @Override
  public String toString() {
    return text;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof CronExpression c && c.text.equals(text);
  }

  @Override
  public int hashCode() {
    return text.hashCode();
  }
}

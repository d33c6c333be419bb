package dev.basalt.fleet.server.rollout;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonValue;
import java.math.BigDecimal;

/**
 * A number of devices given as a count ({@code "10"}), a percentage ({@code "2.5%"}) or {@code "all"}; the JSON
 * form is that text.
 */
public sealed interface Quantity {
  /** A fixed number of devices, at least 1. */
  record Count(int count) implements Quantity {
    public Count {
      if (count < 1) throw new IllegalArgumentException("a count must be at least 1, got " + count);
    }

    @Override
    public String text() {
      return Integer.toString(count);
    }
  }

  /** A percentage of the devices, more than 0 and at most 100. */
  record Percent(double percent) implements Quantity {
    public Percent {
      if (!(percent > 0 && percent <= 100)) {
        throw new IllegalArgumentException("a percentage must be more than 0% and at most 100%, got " + percent + "%");
      }
    }

    @Override
    public String text() {
      return BigDecimal.valueOf(percent).stripTrailingZeros().toPlainString() + "%";
    }
  }

  /** Every device. */
  record All() implements Quantity {
    @Override
    public String text() {
      return "all";
    }
  }

  /** The text form: {@code "10"}, {@code "2.5%"} or {@code "all"}. */
  @JsonValue
  String text();

  /** Whether this covers every device whatever their number. */
  default boolean coversAll() {
    return this instanceof All || this instanceof Percent p && p.percent() == 100;
  }

  /** As a cumulative batch of {@code total} devices: a percentage rounds up, so that a non-empty fleet never gets an empty batch. */
  default int ofBatch(int total) {
    return switch (this) {
      case Count c -> Math.min(c.count(), total);
      case Percent p -> (int) Math.min(total, Math.ceil(p.percent() * total / 100.0 - 1e-9));
      case All a -> total;
    };
  }

  /**
   * As a disruption budget of a group of {@code size} devices: a percentage rounds down but is at least 1 (so
   * that every group can make progress); 0 for an empty group.
   */
  default int ofBudget(int size) {
    if (size == 0) return 0;
    return switch (this) {
      case Count c -> c.count();
      case Percent p -> Math.max(1, (int) Math.floor(p.percent() * size / 100.0 + 1e-9));
      case All a -> size;
    };
  }

  /**
   * Parses {@code "10"}, {@code "2.5%"} or {@code "all"}.
   *
   * @throws IllegalArgumentException quoting the text and saying what is wrong
   */
  @JsonCreator
  static Quantity parse(String text) {
    if (text == null) throw new IllegalArgumentException("a quantity must be a count, a percentage or \"all\", got null");
    String t = text.strip();
    try {
      if (t.equalsIgnoreCase("all")) return new All();
      if (t.endsWith("%")) return new Percent(Double.parseDouble(t.substring(0, t.length() - 1).strip()));
      return new Count(Integer.parseInt(t));
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("\"" + text + "\" is not a count (\"10\"), a percentage (\"10%\") or \"all\"");
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("\"" + text + "\": " + e.getMessage());
    }
  }
}

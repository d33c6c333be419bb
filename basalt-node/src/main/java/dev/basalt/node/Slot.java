package dev.basalt.node;

import java.util.Locale;

/** One of the two A/B root slots: GPT partitions {@code root-<id>} and {@code verity-<id>}, ESP directory {@code basalt/<id>/}. */
public enum Slot {
  A, B;

  /** {@code "a"} or {@code "b"}, as in entry names and JSON. */
  public String id() { return name().toLowerCase(Locale.ROOT); }

  /** GPT label of the root partition. */
  public String rootLabel() { return "root-" + id(); }

  /** GPT label of the verity partition. */
  public String verityLabel() { return "verity-" + id(); }

  public Slot other() { return this == A ? B : A; }

  /** The slot for {@code "a"} or {@code "b"}. */
  public static Slot of(String id) {
    return switch (id) {
      case "a" -> A;
      case "b" -> B;
      default -> throw new IllegalArgumentException("slot must be \"a\" or \"b\", got '" + id + "'");
    };
  }
}

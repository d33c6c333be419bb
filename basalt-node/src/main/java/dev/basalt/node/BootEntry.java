package dev.basalt.node;

import java.util.Locale;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A Basalt boot entry file {@code loader/entries/basalt-<serial, 8 digits>-<slot>[+LEFT[-DONE]].conf}
 * (Boot Loader Specification type 1 with systemd's boot counting).
 *
 * @param fileName the file name in {@code loader/entries/}
 * @param serial the deploy serial (decides the order: the highest name boots on systemd-boot 252)
 * @param slot the slot it boots
 * @param triesLeft tries left, or -1 when the entry has no counter (blessed, or never counted)
 * @param triesDone tries spent, 0 when absent
 * @param title its {@code title} line
 * @param options its {@code options} line (kernel command line)
 */
public record BootEntry(String fileName, int serial, Slot slot, int triesLeft, int triesDone, String title,
    String options) {
  static final Pattern NAME = Pattern.compile("basalt-(\\d{8})-([ab])(?:\\+(\\d+)(?:-(\\d+))?)?\\.conf");

  /** The parts of a Basalt entry file name; empty for any other name. */
  record Name(int serial, Slot slot, int triesLeft, int triesDone) {}

  static Optional<Name> parseName(String fileName) {
    Matcher m = NAME.matcher(fileName);
    if (!m.matches()) return Optional.empty();
    int left = m.group(3) == null ? -1 : Integer.parseInt(m.group(3));
    int done = m.group(4) == null ? 0 : Integer.parseInt(m.group(4));
    return Optional.of(new Name(Integer.parseInt(m.group(1)), Slot.of(m.group(2)), left, done));
  }

  /** {@code basalt-00000002-b+3.conf}; {@code tries} 0 gives a name without counter. */
  public static String fileName(int serial, Slot slot, int tries) {
    return String.format(Locale.ROOT, "basalt-%08d-%s%s.conf", serial, slot.id(), tries > 0 ? "+" + tries : "");
  }

  /** Whether the entry carries a boot counter (on trial). */
  public boolean counted() { return triesLeft >= 0; }

  /** Whether its tries are spent ({@code +0}): systemd-boot sorts it after all others. */
  public boolean bad() { return triesLeft == 0; }

  /** Whether systemd-boot has tried it at least once since it was written. */
  public boolean tried() { return triesDone > 0 || triesLeft == 0; }

  /** The name once blessed: the counter dropped. */
  public String blessedName() { return fileName(serial, slot, 0); }
}

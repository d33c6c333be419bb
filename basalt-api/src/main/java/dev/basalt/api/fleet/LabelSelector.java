package dev.basalt.api.fleet;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * A label selector: requirements separated by commas, all of which must hold (an empty selector matches every device).
 *
 * <pre>
 *   key=value   key==value   the label is set to value
 *   key!=value               the label is not set, or set to another value
 *   key in (a,b)             the label is set to one of the values
 *   key notin (a,b)          the label is not set, or set to none of the values
 *   key                      the label is set
 *   !key                     the label is not set
 * </pre>
 *
 * Keys: letters, digits, {@code . _ / -}, starting and ending with a letter or digit, at most 63 characters;
 * values: letters, digits, {@code . _ -}, at most 63 characters. Example: {@code site=lab,tier in (canary,edge),!frozen}.
 */
public final class LabelSelector {
  private static final Pattern KEY = Pattern.compile("[A-Za-z0-9]([A-Za-z0-9._/-]{0,61}[A-Za-z0-9])?");
  private static final Pattern VALUE = Pattern.compile("[A-Za-z0-9._-]{0,63}");

  /** One requirement of a selector. */
  public sealed interface Requirement {
    String key();

    boolean test(Map<String, String> labels);
  }

  /** {@code key in (values)}, or {@code key=value} with one value; negated: {@code notin}, {@code !=}. */
  public record In(String key, Set<String> values, boolean negated) implements Requirement {
    @Override
    public boolean test(Map<String, String> labels) {
      String v = labels.get(key);
      return negated != (v != null && values.contains(v));
    }
  }

  /** {@code key} (the label is set), negated: {@code !key}. */
  public record Exists(String key, boolean negated) implements Requirement {
    @Override
    public boolean test(Map<String, String> labels) {
      return negated != labels.containsKey(key);
    }
  }

  private final String text;
  private final List<Requirement> requirements;

  private LabelSelector(String text, List<Requirement> requirements) {
    this.text = text;
    this.requirements = List.copyOf(requirements);
  }

  /** The selector that matches everything. */
  public static LabelSelector all() {
    return new LabelSelector("", List.of());
  }

  /**
   * Parses a selector.
   *
   * @throws IllegalArgumentException naming the requirement and column that is wrong
   */
  public static LabelSelector parse(String text) {
    if (text == null || text.isBlank()) return all();
    List<Requirement> out = new ArrayList<>();
    int i = 0;
    int n = text.length();
    while (i < n) {
      int start = i;
      int depth = 0;
      while (i < n && (text.charAt(i) != ',' || depth > 0)) {
        if (text.charAt(i) == '(') depth++;
        if (text.charAt(i) == ')') depth--;
        i++;
      }
      out.add(requirement(text, text.substring(start, i).strip(), start));
      i++; // skip the comma
      if (i == n) throw error(text, n, "a requirement is missing after the last ','");
    }
    return new LabelSelector(text.strip(), out);
  }

  private static Requirement requirement(String text, String r, int col) {
    if (r.isEmpty()) throw error(text, col, "empty requirement");
    if (r.startsWith("!") && !r.contains("=")) return new Exists(key(text, r.substring(1).strip(), col), true);
    int ne = r.indexOf("!=");
    if (ne > 0) return new In(key(text, r.substring(0, ne).strip(), col), Set.of(value(text, r.substring(ne + 2).strip(), col)), true);
    int eq = r.indexOf('=');
    if (eq > 0) {
      String v = r.substring(r.startsWith("==", eq) ? eq + 2 : eq + 1).strip();
      return new In(key(text, r.substring(0, eq).strip(), col), Set.of(value(text, v, col)), false);
    }
    if (eq == 0) throw error(text, col, "'" + r + "' has no key before '='");
    String[] words = r.split("\\s+", 2);
    if (words.length == 1) return new Exists(key(text, words[0], col), false);
    String rest = words[1].strip();
    boolean negated;
    if (rest.startsWith("notin")) {
      negated = true;
      rest = rest.substring(5).strip();
    } else if (rest.startsWith("in")) {
      negated = false;
      rest = rest.substring(2).strip();
    } else {
      throw error(text, col, "'" + r + "': expected =, !=, in or notin after the key");
    }
    if (!rest.startsWith("(") || !rest.endsWith(")")) throw error(text, col, "'" + r + "': the values must be in parentheses, e.g. (a,b)");
    Set<String> values = new LinkedHashSet<>();
    for (String v : rest.substring(1, rest.length() - 1).split(",", -1)) values.add(value(text, v.strip(), col));
    return new In(key(text, words[0], col), values, negated);
  }

  private static String key(String text, String k, int col) {
    if (!KEY.matcher(k).matches()) throw error(text, col, "invalid label key '" + k + "'");
    return k;
  }

  private static String value(String text, String v, int col) {
    if (!VALUE.matcher(v).matches()) throw error(text, col, "invalid label value '" + v + "'");
    return v;
  }

  private static IllegalArgumentException error(String text, int col, String what) {
    return new IllegalArgumentException("label selector '" + text + "' at column " + (col + 1) + ": " + what);
  }

  /**
   * Checks a label map: valid keys and values.
   *
   * @throws IllegalArgumentException naming the first bad key or value
   */
  public static void checkLabels(Map<String, String> labels) {
    for (var e : labels.entrySet()) {
      if (e.getKey() == null || !KEY.matcher(e.getKey()).matches()) throw new IllegalArgumentException("invalid label key '" + e.getKey() + "'");
      if (e.getValue() == null || !VALUE.matcher(e.getValue()).matches()) {
        throw new IllegalArgumentException("invalid value '" + e.getValue() + "' of label '" + e.getKey() + "'");
      }
    }
  }

  /** Whether every requirement holds for these labels. */
  public boolean matches(Map<String, String> labels) {
    for (Requirement r : requirements) if (!r.test(labels)) return false;
    return true;
  }

  /** The requirements, in order. */
  public List<Requirement> requirements() {
    return requirements;
  }

  /** Whether it matches everything. */
  public boolean isEmpty() {
    return requirements.isEmpty();
  }

  @Override
  public String toString() {
    return text;
  }
}

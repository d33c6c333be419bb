package dev.basalt.node;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.UUID;

/** The arguments of a kernel command line ({@code /proc/cmdline}, an entry's {@code options}). */
record KernelCmdline(List<String> args) {
  KernelCmdline {
    args = List.copyOf(args);
  }

  /** Splits on blanks, keeping double-quoted values together (quotes kept, as the kernel shows them). */
  static KernelCmdline parse(String line) {
    List<String> out = new ArrayList<>();
    StringBuilder cur = new StringBuilder();
    boolean quoted = false;
    for (char c : line.strip().toCharArray()) {
      if (c == '"') quoted = !quoted;
      if (!quoted && Character.isWhitespace(c)) {
        if (!cur.isEmpty()) out.add(cur.toString());
        cur.setLength(0);
      } else {
        cur.append(c);
      }
    }
    if (!cur.isEmpty()) out.add(cur.toString());
    return new KernelCmdline(out);
  }

  /** The value of the last {@code key=value}. */
  Optional<String> value(String key) {
    String prefix = key + "=";
    String v = null;
    for (String a : args) if (a.startsWith(prefix)) v = a.substring(prefix.length());
    return Optional.ofNullable(v);
  }

  /** The root partition's UUID from {@code root=PARTUUID=...}. */
  Optional<UUID> rootPartUuid() {
    return value("root").filter(v -> v.toUpperCase(Locale.ROOT).startsWith("PARTUUID=")).map(v -> {
      try {
        return UUID.fromString(v.substring(9));
      } catch (IllegalArgumentException e) {
        return null;
      }
    });
  }

  /** The arguments whose key (the part before {@code =}) is not in {@code keys}. */
  List<String> without(List<String> keys) {
    List<String> out = new ArrayList<>();
    for (String a : args) {
      int eq = a.indexOf('=');
      String k = eq < 0 ? a : a.substring(0, eq);
      if (!keys.contains(k)) out.add(a);
    }
    return out;
  }

  @Override
  public String toString() {
    return String.join(" ", args);
  }
}

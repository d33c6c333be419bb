package dev.basalt.image.lint;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.dataformat.toml.TomlMapper;

/**
 * One bootc {@code kargs.d} file: {@code kargs = ["..."]} and optionally
 * {@code match-architectures = ["x86_64", ...]}; other keys are refused, as bootc does.
 */
record KargsFile(List<String> kargs, List<String> matchArchitectures) {
  private static final TomlMapper TOML = TomlMapper.builder().build();
  private static final Set<String> KEYS = Set.of("kargs", "match-architectures");

  /** Parses a file; the exception message says what is wrong and where. */
  static KargsFile parse(byte[] content) throws KargsException {
    JsonNode root;
    try {
      root = TOML.readTree(content);
    } catch (JacksonException e) {
      throw new KargsException("not valid TOML: " + e.getOriginalMessage() + location(e));
    }
    if (root == null || !root.isObject()) throw new KargsException("not a TOML table");
    for (String key : root.propertyNames()) {
      if (!KEYS.contains(key)) {
        throw new KargsException("unknown key '" + key + "' (bootc allows only kargs and match-architectures)");
      }
    }
    JsonNode kargs = root.get("kargs");
    if (kargs == null) throw new KargsException("missing the required key 'kargs'");
    JsonNode arch = root.get("match-architectures");
    return new KargsFile(strings(kargs, "kargs"), arch == null ? null : strings(arch, "match-architectures"));
  }

  /** Whether this file applies to {@code architecture} (Rust naming: x86_64, aarch64). */
  boolean appliesTo(String architecture) {
    return matchArchitectures == null || matchArchitectures.contains(architecture);
  }

  private static List<String> strings(JsonNode node, String key) throws KargsException {
    if (!node.isArray()) throw new KargsException("'" + key + "' must be an array of strings, got " + describe(node));
    List<String> out = new ArrayList<>();
    int i = 0;
    for (JsonNode v : node.values()) {
      if (!v.isString()) {
        throw new KargsException("'" + key + "'[" + i + "] must be a string, got " + describe(v));
      }
      out.add(v.stringValue());
      i++;
    }
    return List.copyOf(out);
  }

  private static String describe(JsonNode n) {
    return n.getNodeType().name().toLowerCase(java.util.Locale.ROOT) + " " + n;
  }

  private static String location(JacksonException e) {
    var loc = e.getLocation();
    if (loc == null || loc.getLineNr() < 1) return "";
    return " (line " + loc.getLineNr() + ", column " + loc.getColumnNr() + ")";
  }

  static final class KargsException extends Exception {
    KargsException(String message) { super(message); }
  }
}

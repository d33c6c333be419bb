package dev.basalt.image.build;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import tools.jackson.core.JacksonException;
import tools.jackson.core.JsonParser;
import tools.jackson.core.JsonToken;
import tools.jackson.dataformat.yaml.YAMLMapper;

/**
 * A YAML value with the line it starts on, so that every validation error can point at the line. Jackson's
 * tree model drops locations; this reads the token stream instead.
 */
record SpecNode(Object value, int line, String source) {
  private static final YAMLMapper YAML = YAMLMapper.builder().build();

  static SpecNode parse(String text, String source) throws SpecException {
    try (JsonParser p = YAML.createParser(text)) {
      JsonToken t = p.nextToken();
      if (t == null) throw new SpecException(source + ": empty spec");
      SpecNode root = read(p, source);
      return root;
    } catch (JacksonException e) {
      var loc = e.getLocation();
      String where = loc != null && loc.getLineNr() > 0 ? ":" + loc.getLineNr() : "";
      throw new SpecException(source + where + ": not valid YAML: " + e.getOriginalMessage());
    }
  }

  private static SpecNode read(JsonParser p, String source) throws SpecException {
    int line = p.currentTokenLocation().getLineNr();
    JsonToken t = p.currentToken();
    switch (t) {
      case START_OBJECT -> {
        Map<String, SpecNode> m = new LinkedHashMap<>();
        while (p.nextToken() == JsonToken.PROPERTY_NAME) {
          String name = p.currentName();
          int keyLine = p.currentTokenLocation().getLineNr();
          p.nextToken();
          SpecNode v = read(p, source);
          if (m.put(name, v) != null) throw new SpecException(source + ":" + keyLine + ": key '" + name + "' appears twice");
        }
        return new SpecNode(m, line, source);
      }
      case START_ARRAY -> {
        List<SpecNode> l = new ArrayList<>();
        while (p.nextToken() != JsonToken.END_ARRAY) l.add(read(p, source));
        return new SpecNode(l, line, source);
      }
      case VALUE_NULL -> { return new SpecNode(null, line, source); }
      case VALUE_TRUE, VALUE_FALSE -> { return new SpecNode(t == JsonToken.VALUE_TRUE, line, source); }
      default -> { return new SpecNode(p.getString(), line, source); }
    }
  }

  SpecException error(String message) {
    return new SpecException(source + ":" + line + ": " + message);
  }

  boolean isMap() { return value instanceof Map; }

  @SuppressWarnings("unchecked")
  Map<String, SpecNode> map(String what, Set<String> allowed) throws SpecException {
    if (!(value instanceof Map)) throw error(what + " must be a mapping");
    Map<String, SpecNode> m = (Map<String, SpecNode>) value;
    for (var e : m.entrySet()) {
      if (!allowed.contains(e.getKey())) {
        throw e.getValue().error("unknown key '" + e.getKey() + "' in " + what + " (allowed: "
            + String.join(", ", new java.util.TreeSet<>(allowed)) + ")");
      }
    }
    return m;
  }

  @SuppressWarnings("unchecked")
  List<SpecNode> list(String what) throws SpecException {
    if (!(value instanceof List)) throw error(what + " must be a list");
    return (List<SpecNode>) value;
  }

  String string(String what) throws SpecException {
    if (value instanceof String s) return s;
    throw error(what + " must be a string" + (value == null ? ", got nothing" : ""));
  }

  boolean bool(String what) throws SpecException {
    if (value instanceof Boolean b) return b;
    throw error(what + " must be true or false");
  }

  @SuppressWarnings("unchecked")
  Map<String, String> stringMap(String what) throws SpecException {
    if (!(value instanceof Map)) throw error(what + " must be a mapping of strings");
    Map<String, String> out = new java.util.TreeMap<>();
    for (var e : ((Map<String, SpecNode>) value).entrySet()) out.put(e.getKey(), e.getValue().string(what + "." + e.getKey()));
    return out;
  }

  List<String> strings(String what) throws SpecException {
    List<String> out = new ArrayList<>();
    for (SpecNode n : list(what)) out.add(n.string("each entry of " + what));
    return out;
  }
}

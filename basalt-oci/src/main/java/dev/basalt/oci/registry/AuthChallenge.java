package dev.basalt.oci.registry;

import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * A parsed {@code WWW-Authenticate} header: scheme plus auth-params (RFC 7235), in any order, quoted or not.
 *
 * @param scheme lower case: {@code bearer} or {@code basic}
 */
record AuthChallenge(String scheme, Map<String, String> params) {
  static AuthChallenge parse(String header) {
    if (header == null || header.isBlank()) return null;
    String h = header.trim();
    int sp = h.indexOf(' ');
    String scheme = (sp < 0 ? h : h.substring(0, sp)).toLowerCase(Locale.ROOT);
    Map<String, String> params = new LinkedHashMap<>();
    int i = sp < 0 ? h.length() : sp + 1;
    while (i < h.length()) {
      while (i < h.length() && (h.charAt(i) == ' ' || h.charAt(i) == ',')) i++;
      int eq = h.indexOf('=', i);
      if (eq < 0) break;
      String key = h.substring(i, eq).trim().toLowerCase(Locale.ROOT);
      i = eq + 1;
      StringBuilder v = new StringBuilder();
      if (i < h.length() && h.charAt(i) == '"') {
        i++;
        while (i < h.length() && h.charAt(i) != '"') {
          if (h.charAt(i) == '\\' && i + 1 < h.length()) i++;
          v.append(h.charAt(i++));
        }
        i++;
      } else {
        while (i < h.length() && h.charAt(i) != ',') v.append(h.charAt(i++));
      }
      params.put(key, v.toString().trim());
    }
    return new AuthChallenge(scheme, Map.copyOf(params));
  }

  boolean bearer() {
    return scheme.equals("bearer");
  }

  boolean basic() {
    return scheme.equals("basic");
  }

  String param(String key) {
    return params.get(key);
  }
}

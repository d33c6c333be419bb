package dev.basalt.oci.sign;

import dev.basalt.oci.api.Manifests;
import java.util.Base64;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ObjectNode;

/** Strict little JSON readers whose errors name the object and the field. */
final class Json {
  private Json() {}

  static ObjectNode object() {
    return Manifests.json().createObjectNode();
  }

  static JsonNode parse(byte[] bytes, String what) throws SignException {
    try {
      JsonNode n = Manifests.json().readTree(bytes);
      if (n == null || !n.isObject()) throw new SignException(what + " is not a JSON object");
      return n;
    } catch (JacksonException e) {
      throw new SignException(what + " is not valid JSON: " + e.getOriginalMessage());
    }
  }

  /** Compact, in insertion order: the same tree always gives the same bytes. */
  static byte[] bytes(JsonNode n) {
    return Manifests.json().writeValueAsBytes(n);
  }

  static JsonNode obj(JsonNode parent, String field, String what) throws SignException {
    JsonNode n = parent.get(field);
    if (n == null || !n.isObject()) throw new SignException(what + ": '" + field + "' is missing or not an object");
    return n;
  }

  static String str(JsonNode parent, String field, String what) throws SignException {
    JsonNode n = parent.get(field);
    if (n == null || !n.isString()) throw new SignException(what + ": '" + field + "' is missing or not a string");
    return n.stringValue();
  }

  static byte[] b64(JsonNode parent, String field, String what) throws SignException {
    String s = str(parent, field, what);
    try {
      return Base64.getDecoder().decode(s);
    } catch (IllegalArgumentException e) {
      throw new SignException(what + ": '" + field + "' is not valid base64");
    }
  }

  static long integer(JsonNode parent, String field, String what) throws SignException {
    JsonNode n = parent.get(field);
    if (n == null || !n.isIntegralNumber() || !n.canConvertToLong()) {
      throw new SignException(what + ": '" + field + "' is missing or not an integer");
    }
    return n.longValue();
  }
}

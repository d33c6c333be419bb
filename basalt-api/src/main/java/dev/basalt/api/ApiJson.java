package dev.basalt.api;

import tools.jackson.core.JacksonException;
import tools.jackson.databind.ObjectMapper;
import tools.jackson.databind.SerializationFeature;
import tools.jackson.databind.json.JsonMapper;

/** The JSON form of the API records: camelCase fields, nulls written out, instants as ISO-8601 strings. */
public final class ApiJson {
  private static final JsonMapper MAPPER = JsonMapper.builder().enable(SerializationFeature.INDENT_OUTPUT).build();

  private ApiJson() {}

  /** The shared mapper (thread-safe). */
  public static ObjectMapper mapper() {
    return MAPPER;
  }

  /** Pretty-printed JSON of an API record. */
  public static String write(Object value) {
    return MAPPER.writeValueAsString(value);
  }

  /**
   * Parses {@code json} as {@code type}.
   *
   * @throws IllegalArgumentException naming {@code what} and the problem when it is not valid
   */
  public static <T> T read(String json, Class<T> type, String what) {
    try {
      return MAPPER.readValue(json, type);
    } catch (JacksonException e) {
      throw new IllegalArgumentException(what + " is not a valid " + type.getSimpleName() + ": " + e.getOriginalMessage(), e);
    }
  }
}

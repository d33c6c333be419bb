package dev.basalt.fleet.server.http;

import dev.basalt.api.fleet.ApiError;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.DeserializationFeature;
import tools.jackson.databind.json.JsonMapper;

/** Request bodies (bounded, strict) and JSON answers. */
final class Json {
  /** Strict on input: an unknown or misspelt field is an error, not silently dropped. */
  static final JsonMapper STRICT = JsonMapper.builder()
      .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
      .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
      .build();
  static final JsonMapper OUT = JsonMapper.builder().build();

  private Json() {}

  /** The body, at most {@code max} bytes (413 beyond). */
  static byte[] body(ServerRequest req, long max) {
    long declared = req.headers().contentLength().orElse(-1L);
    if (declared > max) throw new HttpError(413, "request body of " + declared + " bytes exceeds the limit of " + max + " bytes");
    if (!req.content().hasEntity()) return new byte[0];
    try (InputStream in = req.content().inputStream()) {
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      byte[] buf = new byte[8192];
      long total = 0;
      int n;
      while ((n = in.read(buf)) > 0) {
        total += n;
        if (total > max) throw new HttpError(413, "request body exceeds the limit of " + max + " bytes");
        out.write(buf, 0, n);
      }
      return out.toByteArray();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Parses the body as {@code type}; 400 naming the field, line and column of the problem. */
  static <T> T read(ServerRequest req, Class<T> type, long max) {
    byte[] b = body(req, max);
    if (b.length == 0) throw new HttpError(400, "request body is empty; expected a JSON " + type.getSimpleName());
    return parse(b, type);
  }

  private static <T> T parse(byte[] b, Class<T> type) {
    try {
      T v = STRICT.readValue(b, type);
      if (v == null) throw new HttpError(400, "request body is null; expected a JSON " + type.getSimpleName());
      return v;
    } catch (JacksonException e) {
      Throwable c = e.getCause();
      if (c instanceof IllegalArgumentException || c instanceof NullPointerException) {
        throw new HttpError(400, "invalid " + type.getSimpleName() + ": " + c.getMessage());
      }
      String where = e.getLocation() == null ? "" : " at line " + e.getLocation().getLineNr() + " column " + e.getLocation().getColumnNr();
      String path = e.getPathReference() == null || e.getPath().isEmpty() ? "" : " (field " + fieldPath(e) + ")";
      throw new HttpError(400, "malformed " + type.getSimpleName() + " JSON" + where + path + ": " + e.getOriginalMessage());
    }
  }

  /** Like {@link #read}, but an empty body gives null. */
  static <T> T readOptional(ServerRequest req, Class<T> type, long max) {
    byte[] b = body(req, max);
    if (b.length == 0) return null;
    return parse(b, type);
  }

  private static String fieldPath(JacksonException e) {
    StringBuilder sb = new StringBuilder();
    for (var r : e.getPath()) {
      if (r.getPropertyName() != null) sb.append(sb.isEmpty() ? "" : ".").append(r.getPropertyName());
      else if (r.getIndex() >= 0) sb.append('[').append(r.getIndex()).append(']');
    }
    return sb.toString();
  }

  static void send(ServerResponse res, int status, Object value) {
    byte[] b = OUT.writeValueAsBytes(value);
    res.status(status).header("Content-Type", "application/json").send(b);
  }

  static void error(ServerResponse res, int status, String message) {
    send(res, status, new ApiError(status, message));
  }
}

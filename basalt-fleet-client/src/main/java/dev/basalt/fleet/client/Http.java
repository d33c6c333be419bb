package dev.basalt.fleet.client;

import dev.basalt.api.ApiJson;
import dev.basalt.api.fleet.ApiError;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import tools.jackson.core.type.TypeReference;

/** JSON over java.net.http with ApiError decoding. */
final class Http {
  private Http() {}

  static HttpRequest.BodyPublisher json(Object body) {
    return HttpRequest.BodyPublishers.ofByteArray(ApiJson.mapper().writeValueAsBytes(body));
  }

  static HttpRequest.Builder request(URI base, String path, Duration timeout) {
    return HttpRequest.newBuilder(base.resolve(path)).timeout(timeout).header("Accept", "application/json");
  }

  static HttpResponse<byte[]> send(HttpClient client, HttpRequest req) throws FleetClientException {
    try {
      return client.send(req, HttpResponse.BodyHandlers.ofByteArray());
    } catch (IOException e) {
      throw new FleetClientException(req.method() + " " + req.uri() + " failed: " + e, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new FleetClientException(req.method() + " " + req.uri() + " interrupted", e);
    }
  }

  /** The body as {@code type} when the status is 2xx; a FleetClientException with the server's message otherwise. */
  static <T> T expect(HttpResponse<byte[]> res, TypeReference<T> type) throws FleetClientException {
    check(res);
    return ApiJson.mapper().readValue(res.body(), type);
  }

  static <T> T expect(HttpResponse<byte[]> res, Class<T> type) throws FleetClientException {
    check(res);
    return ApiJson.mapper().readValue(res.body(), type);
  }

  static void check(HttpResponse<byte[]> res) throws FleetClientException {
    if (res.statusCode() / 100 == 2) return;
    String msg;
    try {
      msg = ApiJson.mapper().readValue(res.body(), ApiError.class).error();
    } catch (RuntimeException e) {
      msg = new String(res.body(), StandardCharsets.UTF_8);
    }
    throw new FleetClientException(res.statusCode(), res.request().method() + " " + res.uri().getPath() + ": "
        + res.statusCode() + " " + msg);
  }
}

package dev.basalt.fleet.server.http;

import dev.basalt.fleet.server.store.StoreException;
import io.helidon.webserver.http.HttpRouting;

/** Maps exceptions to {@link dev.basalt.api.fleet.ApiError} answers. */
final class Errors {
  private static final System.Logger LOG = System.getLogger(Errors.class.getName());

  private Errors() {}

  static void install(HttpRouting.Builder r) {
    r.error(HttpError.class, (req, res, e) -> {
      if (e.retryAfterSeconds > 0) res.header("Retry-After", Long.toString(e.retryAfterSeconds));
      if (e.status == 401) res.header("WWW-Authenticate", "Bearer");
      Json.error(res, e.status, e.getMessage());
    });
    r.error(StoreException.class, (req, res, e) -> Json.error(res, switch (e.kind()) {
      case NOT_FOUND -> 404;
      case GONE -> 410;
      case CONFLICT -> 409;
      case INVALID -> 400;
    }, e.getMessage()));
    r.error(io.helidon.http.HttpException.class, (req, res, e) -> Json.error(res, e.status().code(), e.getMessage()));
    r.error(IllegalArgumentException.class, (req, res, e) -> Json.error(res, 400, e.getMessage()));
    r.error(Exception.class, (req, res, e) -> {
      // The exception text can quote request data; log its type and route only.
      LOG.log(System.Logger.Level.ERROR, "internal error on " + req.prologue().method().text() + " "
          + req.matchingPattern().orElse("?") + ": " + e.getClass().getName());
      Json.error(res, 500, "internal server error");
    });
  }
}

package dev.basalt.fleet.server.http;

/** An error answer with its status; the message is shown to the client, so it never carries a secret. */
final class HttpError extends RuntimeException {
  private static final long serialVersionUID = 1L;
  final int status;
  final long retryAfterSeconds;

  HttpError(int status, String message) {
    this(status, message, 0);
  }

  HttpError(int status, String message, long retryAfterSeconds) {
    super(message, null, false, false);
    this.status = status;
    this.retryAfterSeconds = retryAfterSeconds;
  }
}

package dev.basalt.fleet.server.store;

/** A store operation refused for a reason the caller can show: the HTTP layer maps the kind to a status. */
public final class StoreException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  /** Why it was refused. */
  public enum Kind { NOT_FOUND, GONE, CONFLICT, INVALID }

  private final Kind kind;

  public StoreException(Kind kind, String message) {
    super(message);
    this.kind = kind;
  }

  public Kind kind() {
    return kind;
  }

  static StoreException notFound(String what) {
    return new StoreException(Kind.NOT_FOUND, what + " does not exist");
  }
}

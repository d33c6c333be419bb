package dev.basalt.fleet.server.web;

import dev.basalt.fleet.server.identity.Tokens;
import java.security.MessageDigest;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;

/**
 * Server-side UI sessions. The cookie holds only a random session id; the session remembers which admin token logged
 * in (by its hash, so every request re-checks the token: revoking it ends its sessions) and its CSRF token.
 * In memory: a restart, or another replica, asks for the token again.
 */
final class Sessions {
  /** One logged-in browser. */
  record Session(String id, String tokenHash, String csrf, Instant created, Instant lastUsed) {}

  static final int MAX_SESSIONS = 10_000;
  private final Map<String, Session> byId = new ConcurrentHashMap<>();
  private final Supplier<Instant> clock;
  private final Duration idle;
  private final Duration absolute;

  Sessions(Supplier<Instant> clock, Duration idle, Duration absolute) {
    this.clock = clock;
    this.idle = idle;
    this.absolute = absolute;
  }

  Session create(String tokenHash) {
    Instant now = clock.get();
    if (byId.size() >= MAX_SESSIONS) byId.values().removeIf(s -> expired(s, now));
    if (byId.size() >= MAX_SESSIONS) throw new IllegalStateException("too many UI sessions (" + MAX_SESSIONS + ")");
    Session s = new Session(Tokens.secret("s_"), tokenHash, Tokens.secret(""), now, now);
    byId.put(s.id(), s);
    return s;
  }

  /** The live session with this id, its idle timer reset; empty when unknown or expired. */
  Optional<Session> find(String id) {
    if (id == null) return Optional.empty();
    Session s = byId.get(id);
    if (s == null) return Optional.empty();
    Instant now = clock.get();
    if (expired(s, now)) {
      byId.remove(id);
      return Optional.empty();
    }
    Session touched = new Session(s.id(), s.tokenHash(), s.csrf(), s.created(), now);
    byId.replace(id, s, touched);
    return Optional.of(touched);
  }

  void remove(String id) {
    if (id != null) byId.remove(id);
  }

  private boolean expired(Session s, Instant now) {
    return !s.lastUsed().plus(idle).isAfter(now) || !s.created().plus(absolute).isAfter(now);
  }

  /** Constant-time comparison of a submitted CSRF token with the session's. */
  static boolean csrfMatches(Session s, String submitted) {
    return submitted != null && MessageDigest.isEqual(s.csrf().getBytes(StandardCharsets.US_ASCII),
        submitted.getBytes(StandardCharsets.UTF_8));
  }
}

package dev.basalt.api.fleet;

import java.time.Instant;
import java.util.Objects;
import java.util.Set;

/**
 * A new admin API token, {@code POST /api/v1/admin-tokens}.
 *
 * @param name who or what uses it
 * @param scopes any of {@code fleet:read}, {@code fleet:write}, {@code devices:approve}, {@code admin}
 *     ({@code admin} implies all)
 * @param expiresAt when it stops working; null: never
 */
public record AdminTokenRequest(String name, Set<String> scopes, Instant expiresAt) {
  /** The scopes a token may carry. */
  public static final Set<String> SCOPES = Set.of("fleet:read", "fleet:write", "devices:approve", "admin");

  public AdminTokenRequest {
    Objects.requireNonNull(name, "admin token name is missing");
    if (scopes == null || scopes.isEmpty()) throw new IllegalArgumentException("admin token needs at least one scope of " + SCOPES);
    for (String s : scopes) {
      if (!SCOPES.contains(s)) throw new IllegalArgumentException("unknown scope '" + s + "' (expected one of " + SCOPES + ")");
    }
    scopes = Set.copyOf(scopes);
  }
}

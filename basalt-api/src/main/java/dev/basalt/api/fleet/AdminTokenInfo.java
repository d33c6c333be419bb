package dev.basalt.api.fleet;

import java.time.Instant;
import java.util.Set;

/**
 * An admin token as the admin API shows it.
 *
 * @param id its id (not secret)
 * @param name who uses it
 * @param scopes its scopes
 * @param createdAt creation time
 * @param expiresAt expiry; null when never
 * @param token the secret ({@code bst_...}); only in the answer to its creation, null afterwards
 */
public record AdminTokenInfo(String id, String name, Set<String> scopes, Instant createdAt, Instant expiresAt,
    String token) {}

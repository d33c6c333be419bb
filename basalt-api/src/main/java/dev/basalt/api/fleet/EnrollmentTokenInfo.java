package dev.basalt.api.fleet;

import java.time.Instant;
import java.util.Map;

/**
 * An enrollment token as the admin API shows it.
 *
 * @param id its id (not secret)
 * @param name what it is for
 * @param labels labels it gives
 * @param autoApprove its auto-approve selector; null when none
 * @param expiresAt expiry; null when never
 * @param maxUses allowed enrollments; 0 unlimited
 * @param uses enrollments so far
 * @param createdAt creation time
 * @param token the secret ({@code bet_...}); only in the answer to its creation, null afterwards
 */
public record EnrollmentTokenInfo(String id, String name, Map<String, String> labels, String autoApprove,
    Instant expiresAt, int maxUses, int uses, Instant createdAt, String token) {}

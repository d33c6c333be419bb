package dev.basalt.api.fleet;

import java.time.Instant;

/**
 * A fleet as the admin API shows it.
 *
 * @param spec what the operator wrote (target split into reference and digest)
 * @param members how many devices belong to it now
 * @param createdAt creation time
 * @param updatedAt last change
 */
public record FleetInfo(FleetSpec spec, int members, Instant createdAt, Instant updatedAt) {}

package dev.basalt.api.fleet;

import java.time.Instant;
import java.util.Map;

/**
 * One row of the audit log: every change made through the API writes one, in the same transaction.
 *
 * @param id increasing id
 * @param time when
 * @param actor {@code token:<name>}, {@code device:<id>} or {@code system}
 * @param action e.g. {@code device.approve}, {@code fleet.create}
 * @param object what it acted on, e.g. {@code device:<id>}
 * @param details action-specific details (never secrets)
 */
public record AuditEntry(long id, Instant time, String actor, String action, String object,
    Map<String, Object> details) {}

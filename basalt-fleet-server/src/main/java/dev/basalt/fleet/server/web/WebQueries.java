package dev.basalt.fleet.server.web;

import dev.basalt.api.ApiJson;
import dev.basalt.api.fleet.AuditEntry;
import dev.basalt.fleet.server.store.Store;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.jdbi.v3.core.Jdbi;
import tools.jackson.core.type.TypeReference;

/**
 * The read-only queries only the UI needs (device aggregates, a device's audit history). Everything the store
 * already offers is read through {@link Store}, rollouts and their events through
 * {@link dev.basalt.fleet.server.store.RolloutStore}.
 */
final class WebQueries {
  private static final TypeReference<Map<String, Object>> OBJECT = new TypeReference<>() {};

  /** Devices of one fleet (null: in none) that run {@code value} (a booted digest or a health word; null: unknown). */
  record Count(String fleet, String value, long count) {}

  private final Jdbi jdbi;

  WebQueries(Store store) {
    this.jdbi = store.database().jdbi();
  }

  private static Instant instant(ResultSet rs, String col) throws SQLException {
    long v = rs.getLong(col);
    return rs.wasNull() ? null : Instant.ofEpochMilli(v);
  }

  private static Map<String, Object> object(String json) {
    return json == null ? null : ApiJson.mapper().readValue(json, OBJECT);
  }

  /** Active devices by fleet and booted digest. */
  List<Count> digestCounts() {
    return counts("booted_digest");
  }

  /** Active devices by fleet and health. */
  List<Count> healthCounts() {
    return counts("health");
  }

  private List<Count> counts(String column) {
    // column is one of two constants above, never request data
    return jdbi.withHandle(h -> h.createQuery("SELECT fleet, " + column + " AS v, COUNT(*) AS n FROM devices"
            + " WHERE state = 'active' GROUP BY fleet, " + column + " ORDER BY fleet, " + column)
        .map((rs, ctx) -> new Count(rs.getString("fleet"), rs.getString("v"), rs.getLong("n"))).list());
  }

  long pendingCount() {
    return jdbi.withHandle(h -> h.createQuery("SELECT COUNT(*) FROM devices WHERE state = 'pending'").mapTo(Long.class).one());
  }

  /** Audit rows about one object ({@code device:<id>}), newest first. */
  List<AuditEntry> auditOf(String object, int limit) {
    return jdbi.withHandle(h -> h.createQuery("SELECT id, time, actor, action, object, details FROM audit_log"
            + " WHERE object = :o ORDER BY id DESC LIMIT :limit")
        .bind("o", object).bind("limit", limit)
        .map((rs, ctx) -> new AuditEntry(rs.getLong("id"), instant(rs, "time"), rs.getString("actor"),
            rs.getString("action"), rs.getString("object"), object(rs.getString("details"))))
        .list());
  }
}

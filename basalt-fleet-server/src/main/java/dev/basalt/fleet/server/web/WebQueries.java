package dev.basalt.fleet.server.web;

import dev.basalt.api.ApiJson;
import dev.basalt.api.fleet.AuditEntry;
import dev.basalt.fleet.server.store.Store;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.jdbi.v3.core.Jdbi;
import tools.jackson.core.type.TypeReference;

/**
 * The read-only queries only the UI needs (aggregates, rollouts, events, a device's history). Everything the store
 * already offers is read through {@link Store}.
 */
final class WebQueries {
  private static final TypeReference<Map<String, Object>> OBJECT = new TypeReference<>() {};

  /** Devices of one fleet (null: in none) that run {@code value} (a booted digest or a health word; null: unknown). */
  record Count(String fleet, String value, long count) {}

  /** A row of the rollouts table. */
  record RolloutRow(String id, String fleet, String stateJson, boolean active, Instant createdAt, Instant updatedAt) {}

  /** A row of the rollout_events table; {@code details} is null when the row has none. */
  record EventRow(long id, String rolloutId, Instant time, String type, Map<String, Object> details) {}

  /** What changes when a rollout changes: its row's update time and its newest event. */
  record Fingerprint(long updatedAt, long lastEventId) {}

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

  private static RolloutRow rollout(ResultSet rs) throws SQLException {
    return new RolloutRow(rs.getString("id"), rs.getString("fleet"), rs.getString("state"), rs.getInt("active") != 0,
        instant(rs, "created_at"), instant(rs, "updated_at"));
  }

  /** Rollouts, newest first; of one fleet when {@code fleet} is not null. */
  List<RolloutRow> rollouts(String fleet, int limit) {
    return jdbi.withHandle(h -> h.createQuery("SELECT id, fleet, state, active, created_at, updated_at FROM rollouts"
            + (fleet == null ? "" : " WHERE fleet = :f") + " ORDER BY active DESC, created_at DESC, id LIMIT :limit")
        .bind("f", fleet).bind("limit", limit).map((rs, ctx) -> rollout(rs)).list());
  }

  Optional<RolloutRow> rollout(String id) {
    return jdbi.withHandle(h -> h.createQuery("SELECT id, fleet, state, active, created_at, updated_at FROM rollouts WHERE id = :id")
        .bind("id", id).map((rs, ctx) -> rollout(rs)).findOne());
  }

  /** Cheap change detection for the live stream: two indexed lookups. */
  Optional<Fingerprint> fingerprint(String rolloutId) {
    return jdbi.withHandle(h -> h.createQuery("SELECT updated_at, (SELECT COALESCE(MAX(id), 0) FROM rollout_events"
            + " WHERE rollout_id = :id) AS last_event FROM rollouts WHERE id = :id")
        .bind("id", rolloutId).map((rs, ctx) -> new Fingerprint(rs.getLong(1), rs.getLong(2))).findOne());
  }

  private static EventRow event(ResultSet rs) throws SQLException {
    return new EventRow(rs.getLong("id"), rs.getString("rollout_id"), instant(rs, "time"), rs.getString("type"),
        object(rs.getString("details")));
  }

  /** The newest {@code limit} events of a rollout after {@code afterId}, oldest first. */
  List<EventRow> events(String rolloutId, long afterId, int limit) {
    List<EventRow> newestFirst = jdbi.withHandle(h -> h.createQuery("SELECT id, rollout_id, time, type, details FROM rollout_events"
            + " WHERE rollout_id = :r AND id > :after ORDER BY id DESC LIMIT :limit")
        .bind("r", rolloutId).bind("after", afterId).bind("limit", limit).map((rs, ctx) -> event(rs)).list());
    return newestFirst.reversed();
  }

  /** Rollout events that name a device (ids are random enough for a text match), newest first. */
  List<EventRow> deviceEvents(String deviceId, int limit) {
    return jdbi.withHandle(h -> h.createQuery("SELECT id, rollout_id, time, type, details FROM rollout_events"
            + " WHERE details LIKE :pattern ORDER BY id DESC LIMIT :limit")
        .bind("pattern", "%\"" + like(deviceId) + "\"%").bind("limit", limit).map((rs, ctx) -> event(rs)).list());
  }

  private static String like(String s) {
    // device ids are [a-z0-9-]; anything else cannot match a stored id
    return s.replaceAll("[^A-Za-z0-9-]", "_");
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

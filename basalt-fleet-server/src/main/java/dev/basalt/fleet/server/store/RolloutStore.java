package dev.basalt.fleet.server.store;

import dev.basalt.fleet.server.rollout.ImageTarget;
import dev.basalt.fleet.server.rollout.RolloutEvent;
import dev.basalt.fleet.server.rollout.RolloutPolicy;
import dev.basalt.fleet.server.rollout.RolloutState;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import org.jdbi.v3.core.Handle;
import org.jdbi.v3.core.Jdbi;
import org.jdbi.v3.core.statement.PreparedBatch;
import tools.jackson.core.type.TypeReference;
import tools.jackson.databind.json.JsonMapper;

/**
 * Rollout persistence: one row per rollout (target, previous image, policy and the engine's {@link RolloutState} as
 * JSON, phase, whether it is its fleet's active one) and its numbered events. Rows stay after a rollout ends (the
 * history). The methods taking a {@link Handle} run in the caller's transaction; on PostgreSQL {@link #active} and
 * {@link #forUpdate} lock the row, so the controller and operator actions never step the same state twice.
 */
public final class RolloutStore {
  /** Compact JSON: a 1,000-device state is written on every change. */
  private static final JsonMapper JSON = JsonMapper.builder().build();
  private static final TypeReference<Map<String, Integer>> COUNTS = new TypeReference<>() {};
  private static final String COLUMNS = "id, fleet, target_ref, target_digest, previous_ref, previous_digest, policy,"
      + " state, phase, active, created_by, created_at, updated_at";

  private final Database db;
  private final Jdbi jdbi;

  public RolloutStore(Database db) {
    this.db = db;
    this.jdbi = db.jdbi();
  }

  /**
   * A stored rollout.
   *
   * @param policyJson the policy as given (JSON object), for display
   * @param active whether it is its fleet's active rollout
   */
  public record RolloutRecord(String id, String fleet, ImageTarget target, ImageTarget previous, RolloutPolicy policy,
      Map<String, Object> policyJson, RolloutState state, boolean active, String createdBy, Instant createdAt,
      Instant updatedAt) {}

  /**
   * The policy object as the engine reads it: the fields given override those of the default policy
   * ({@link RolloutPolicy#builder()}).
   *
   * @throws IllegalArgumentException naming the field and the problem when it is not valid
   */
  public static RolloutPolicy policy(Map<String, Object> json) {
    Map<String, Object> merged = new java.util.LinkedHashMap<>(DEFAULTS);
    for (var e : json.entrySet()) {
      if (!merged.containsKey(e.getKey())) {
        throw new IllegalArgumentException("invalid rollout policy: unknown field \"" + e.getKey() + "\" (known: "
            + String.join(", ", new java.util.TreeSet<>(DEFAULTS.keySet())) + ")");
      }
      merged.put(e.getKey(), e.getValue());
    }
    try {
      return JSON.convertValue(merged, RolloutPolicy.class);
    } catch (tools.jackson.core.JacksonException e) {
      Throwable c = e.getCause();
      String why = c instanceof IllegalArgumentException ? c.getMessage() : e.getOriginalMessage();
      throw new IllegalArgumentException("invalid rollout policy: " + why, e);
    }
  }

  private static final Map<String, Object> DEFAULTS = defaults();

  @SuppressWarnings("unchecked")
  private static Map<String, Object> defaults() {
    Map<String, Object> m = new java.util.LinkedHashMap<>(JSON.convertValue(RolloutPolicy.builder().build(), Map.class));
    for (var rc : RolloutPolicy.class.getRecordComponents()) m.putIfAbsent(rc.getName(), null);
    return java.util.Collections.unmodifiableMap(m);
  }

  /** The JSON object form of a policy. */
  @SuppressWarnings("unchecked")
  public static Map<String, Object> json(RolloutPolicy p) {
    return new TreeMap<>(JSON.convertValue(p, Map.class));
  }

  private RolloutRecord row(ResultSet rs) throws SQLException {
    @SuppressWarnings("unchecked")
    Map<String, Object> policy = JSON.readValue(rs.getString("policy"), Map.class);
    return new RolloutRecord(rs.getString("id"), rs.getString("fleet"),
        new ImageTarget(rs.getString("target_ref"), rs.getString("target_digest")),
        new ImageTarget(rs.getString("previous_ref"), rs.getString("previous_digest")), JSON.convertValue(policy, RolloutPolicy.class),
        policy, JSON.readValue(rs.getString("state"), RolloutState.class), rs.getInt("active") != 0, rs.getString("created_by"),
        Store.instant(rs, "created_at"), Store.instant(rs, "updated_at"));
  }

  private String lock() {
    return db.dialect() == Database.Dialect.POSTGRESQL ? " FOR UPDATE" : "";
  }

  /**
   * Inserts a new rollout, active unless its state is terminal.
   *
   * @throws StoreException CONFLICT when the fleet already has an active rollout
   */
  public void insert(Handle h, String fleet, RolloutPolicy policy, RolloutState state, String createdBy) {
    if (active(h, fleet).isPresent()) {
      throw new StoreException(StoreException.Kind.CONFLICT, "fleet " + fleet + " already has an active rollout ("
          + active(h, fleet).get().id() + "); abort it or wait until it ends");
    }
    h.createUpdate("INSERT INTO rollouts (" + COLUMNS + ") VALUES (:id, :fleet, :tr, :td, :pr, :pd, :policy, :state,"
            + " :phase, :active, :by, :t, :t)")
        .bind("id", state.id()).bind("fleet", fleet).bind("tr", state.target().imageRef()).bind("td", state.target().digest())
        .bind("pr", state.previous().imageRef()).bind("pd", state.previous().digest()).bind("policy", JSON.writeValueAsString(json(policy)))
        .bind("state", JSON.writeValueAsString(state)).bind("phase", state.phase().name()).bind("active", state.phase().terminal() ? 0 : 1)
        .bind("by", createdBy).bind("t", state.updatedAt().toEpochMilli()).execute();
  }

  /** Writes the state (and phase) the engine returned; a terminal phase ends the rollout's activity. */
  public void update(Handle h, RolloutState state) {
    h.createUpdate("UPDATE rollouts SET state = :state, phase = :phase, active = CASE WHEN :terminal = 1 THEN 0 ELSE active END,"
            + " updated_at = :t WHERE id = :id")
        .bind("state", JSON.writeValueAsString(state)).bind("phase", state.phase().name())
        .bind("terminal", state.phase().terminal() ? 1 : 0).bind("t", state.updatedAt().toEpochMilli()).bind("id", state.id()).execute();
  }

  /** Appends events (numbered by the engine, continuing the rollout's seq). */
  public void appendEvents(Handle h, String rolloutId, List<RolloutEvent> events) {
    if (events.isEmpty()) return;
    PreparedBatch b = h.prepareBatch("INSERT INTO rollout_events (rollout_id, seq, time, type, wave, device_id, counts, message)"
        + " VALUES (:r, :seq, :t, :type, :wave, :dev, :counts, :msg)");
    for (RolloutEvent e : events) {
      b.bind("r", rolloutId).bind("seq", e.seq()).bind("t", e.time().toEpochMilli()).bind("type", e.type().name())
          .bind("wave", e.wave()).bind("dev", e.deviceId()).bind("counts", JSON.writeValueAsString(e.counts()))
          .bind("msg", e.message()).add();
    }
    b.execute();
  }

  /** The fleet's active rollout, locked for this transaction on PostgreSQL. */
  public Optional<RolloutRecord> active(Handle h, String fleet) {
    return h.createQuery("SELECT " + COLUMNS + " FROM rollouts WHERE fleet = :f AND active = 1" + lock()).bind("f", fleet)
        .map((rs, ctx) -> row(rs)).findOne();
  }

  /** A rollout by id, locked for this transaction on PostgreSQL. */
  public Optional<RolloutRecord> forUpdate(Handle h, String id) {
    return h.createQuery("SELECT " + COLUMNS + " FROM rollouts WHERE id = :id" + lock()).bind("id", id).map((rs, ctx) -> row(rs)).findOne();
  }

  /** The fleet's newest rollout (active or not). */
  public Optional<RolloutRecord> latest(Handle h, String fleet) {
    return h.createQuery("SELECT " + COLUMNS + " FROM rollouts WHERE fleet = :f ORDER BY created_at DESC, id DESC LIMIT 1")
        .bind("f", fleet).map((rs, ctx) -> row(rs)).findOne();
  }

  public Optional<RolloutRecord> rollout(String id) {
    return jdbi.withHandle(h -> h.createQuery("SELECT " + COLUMNS + " FROM rollouts WHERE id = :id").bind("id", id)
        .map((rs, ctx) -> row(rs)).findOne());
  }

  /** The fleet's rollouts, newest first. */
  public List<RolloutRecord> rollouts(String fleet, int limit) {
    return jdbi.withHandle(h -> h.createQuery("SELECT " + COLUMNS + " FROM rollouts WHERE fleet = :f"
            + " ORDER BY created_at DESC, id DESC LIMIT :limit").bind("f", fleet).bind("limit", limit)
        .map((rs, ctx) -> row(rs)).list());
  }

  /** Rollouts of every fleet, the active ones first, then newest first. */
  public List<RolloutRecord> recent(int limit) {
    return jdbi.withHandle(h -> h.createQuery("SELECT " + COLUMNS + " FROM rollouts"
            + " ORDER BY active DESC, created_at DESC, id DESC LIMIT :limit").bind("limit", limit)
        .map((rs, ctx) -> row(rs)).list());
  }

  /**
   * What moves when a rollout changes, read without its state: a cheap poll for live views (also of changes made by
   * another replica).
   *
   * @param updatedAt the row's update time (epoch ms)
   * @param lastSeq the seq of its newest event, 0 before any
   */
  public record Revision(long updatedAt, long lastSeq) {}

  public Optional<Revision> revision(String id) {
    return jdbi.withHandle(h -> h.createQuery("SELECT updated_at, (SELECT COALESCE(MAX(seq), 0) FROM rollout_events"
            + " WHERE rollout_id = :id) AS last_seq FROM rollouts WHERE id = :id")
        .bind("id", id).map((rs, ctx) -> new Revision(rs.getLong("updated_at"), rs.getLong("last_seq"))).findOne());
  }

  private static final String EVENT_COLUMNS = "rollout_id, seq, time, type, wave, device_id, counts, message";

  private static RolloutEvent event(ResultSet rs) throws SQLException {
    int wave = rs.getInt("wave");
    Integer w = rs.wasNull() ? null : wave;
    return new RolloutEvent(rs.getLong("seq"), Store.instant(rs, "time"), RolloutEvent.Type.valueOf(rs.getString("type")),
        w, rs.getString("device_id"), JSON.readValue(rs.getString("counts"), COUNTS), rs.getString("message"));
  }

  /** Events with a seq above {@code afterSeq}, in order, at most {@code limit}. */
  public List<RolloutEvent> events(String rolloutId, long afterSeq, int limit) {
    return jdbi.withHandle(h -> h.createQuery("SELECT " + EVENT_COLUMNS + " FROM rollout_events"
            + " WHERE rollout_id = :r AND seq > :after ORDER BY seq LIMIT :limit")
        .bind("r", rolloutId).bind("after", afterSeq).bind("limit", limit)
        .map((rs, ctx) -> event(rs)).list());
  }

  /** An event of a rollout, with the rollout's id. */
  public record RolloutEventRecord(String rolloutId, RolloutEvent event) {}

  /** The events naming {@code deviceId}, of every rollout, newest first. */
  public List<RolloutEventRecord> deviceEvents(String deviceId, int limit) {
    return jdbi.withHandle(h -> h.createQuery("SELECT " + EVENT_COLUMNS + " FROM rollout_events WHERE device_id = :d"
            + " ORDER BY time DESC, id DESC LIMIT :limit")
        .bind("d", deviceId).bind("limit", limit)
        .map((rs, ctx) -> new RolloutEventRecord(rs.getString("rollout_id"), event(rs))).list());
  }
}

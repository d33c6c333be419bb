package dev.basalt.fleet.server.store;

import dev.basalt.api.ApiJson;
import dev.basalt.api.Deployment;
import dev.basalt.api.Health;
import dev.basalt.api.NodeStatus;
import dev.basalt.api.UpdatePhase;
import dev.basalt.api.fleet.AdminTokenInfo;
import dev.basalt.api.fleet.AuditEntry;
import dev.basalt.api.fleet.DesiredState;
import dev.basalt.api.fleet.DeviceInfo;
import dev.basalt.api.fleet.DeviceState;
import dev.basalt.api.fleet.EnrollmentTokenInfo;
import dev.basalt.api.fleet.FleetInfo;
import dev.basalt.api.fleet.FleetSpec;
import dev.basalt.api.fleet.LabelSelector;
import dev.basalt.api.fleet.SignatureRequirement;
import dev.basalt.api.fleet.StatusReport;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import org.jdbi.v3.core.Handle;
import org.jdbi.v3.core.HandleCallback;
import org.jdbi.v3.core.Jdbi;
import org.jdbi.v3.core.statement.Query;
import tools.jackson.core.type.TypeReference;

/**
 * Every query of the fleet server. Changes made for an actor write their audit row in the same transaction. Times
 * are epoch milliseconds from the injected clock.
 */
public final class Store {
  private static final TypeReference<Map<String, String>> LABELS = new TypeReference<>() {};
  private static final TypeReference<Map<String, Object>> OBJECT = new TypeReference<>() {};
  private static final TypeReference<List<String>> STRINGS = new TypeReference<>() {};
  private static final String DEVICE_COLUMNS = "id, name, labels, state, fleet, membership_error, booted_digest,"
      + " staged_digest, slot, health, phase, last_error, failed_digests, bytes_downloaded, last_seen, enrolled_at,"
      + " cert_serial, cert_expires, desired_rev, desired_ref, desired_digest, desired_reboot, desired_fleet";

  private final Database db;
  private final Jdbi jdbi;
  private final Clock clock;
  private final java.util.concurrent.locks.ReentrantLock writeLock;

  public Store(Database db, Clock clock) {
    this.db = db;
    this.jdbi = db.jdbi();
    this.clock = clock;
    this.writeLock = db.dialect() == Database.Dialect.SQLITE ? new java.util.concurrent.locks.ReentrantLock() : null;
  }

  public Database database() {
    return db;
  }

  public Instant now() {
    return clock.instant();
  }

  private long nowMillis() {
    return clock.millis();
  }

  /** Runs {@code callback} in one transaction. */
  public <R> R inTransaction(HandleCallback<R, RuntimeException> callback) {
    return tx(callback);
  }

  // SQLite has one writer at a time; queueing writers here is much faster than its busy-timeout sleeps.
  private <R> R tx(HandleCallback<R, RuntimeException> callback) {
    if (writeLock == null) return jdbi.inTransaction(callback);
    writeLock.lock();
    try {
      return jdbi.inTransaction(callback);
    } finally {
      writeLock.unlock();
    }
  }

  /** Runs {@code callback} on a connection of its own outside any transaction: reads that need no write lock. */
  public <R> R read(HandleCallback<R, RuntimeException> callback) {
    return jdbi.withHandle(callback);
  }

  private void useTx(org.jdbi.v3.core.HandleConsumer<RuntimeException> callback) {
    tx(h -> {
      callback.useHandle(h);
      return null;
    });
  }

  private <R> R write(HandleCallback<R, RuntimeException> callback) {
    if (writeLock == null) return jdbi.withHandle(callback);
    writeLock.lock();
    try {
      return jdbi.withHandle(callback);
    } finally {
      writeLock.unlock();
    }
  }

  // ---- JSON columns

  static String json(Object o) {
    return o == null ? null : ApiJson.mapper().writeValueAsString(o);
  }

  // Devices mostly share a few label sets: parsing each distinct one once keeps the controller's scan cheap.
  private static final int LABEL_CACHE_MAX = 4096;
  private static final java.util.concurrent.ConcurrentHashMap<String, Map<String, String>> LABEL_CACHE = new java.util.concurrent.ConcurrentHashMap<>();

  static Map<String, String> labels(String json) {
    if (json == null) return Map.of();
    Map<String, String> m = LABEL_CACHE.get(json);
    if (m != null) return m;
    m = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(ApiJson.mapper().readValue(json, LABELS)));
    if (LABEL_CACHE.size() >= LABEL_CACHE_MAX) LABEL_CACHE.clear();
    LABEL_CACHE.put(json, m);
    return m;
  }

  private static <E extends Enum<E>> Map<String, E> byWireName(Class<E> type) {
    Map<String, E> m = new java.util.HashMap<>();
    for (E e : type.getEnumConstants()) m.put(wire(e), e);
    return Map.copyOf(m);
  }

  private static final Map<String, Health> HEALTHS = byWireName(Health.class);
  private static final Map<String, UpdatePhase> PHASES = byWireName(UpdatePhase.class);

  static Map<String, Object> object(String json) {
    return json == null ? null : ApiJson.mapper().readValue(json, OBJECT);
  }

  static SignatureRequirement signatures(String json) {
    return json == null ? null : ApiJson.mapper().readValue(json, SignatureRequirement.class);
  }

  static Instant instant(ResultSet rs, String col) throws SQLException {
    long v = rs.getLong(col);
    return rs.wasNull() ? null : Instant.ofEpochMilli(v);
  }

  static Long millis(Instant i) {
    return i == null ? null : i.toEpochMilli();
  }

  // ---- audit

  /** Writes one audit row in the caller's transaction. */
  public void audit(Handle h, String actor, String action, String object, Map<String, ?> details) {
    h.createUpdate("INSERT INTO audit_log (time, actor, action, object, details) VALUES (:t, :actor, :action, :object, :details)")
        .bind("t", nowMillis()).bind("actor", actor).bind("action", action).bind("object", object)
        .bind("details", json(details == null ? Map.of() : new TreeMap<>(details))).execute();
  }

  /** The newest audit rows first; {@code afterId} pages backwards (0: from the newest). */
  public List<AuditEntry> audit(int limit, long beforeId) {
    return jdbi.withHandle(h -> h.createQuery("SELECT id, time, actor, action, object, details FROM audit_log"
            + (beforeId > 0 ? " WHERE id < :before" : "") + " ORDER BY id DESC LIMIT :limit")
        .bind("before", beforeId).bind("limit", limit)
        .map((rs, ctx) -> new AuditEntry(rs.getLong("id"), instant(rs, "time"), rs.getString("actor"),
            rs.getString("action"), rs.getString("object"), object(rs.getString("details"))))
        .list());
  }

  // ---- CA

  /** The stored CA (certificate PEM, private key PEM), if one was created. */
  public Optional<String[]> ca() {
    return jdbi.withHandle(h -> h.createQuery("SELECT certificate, private_key FROM server_ca WHERE id = 1")
        .map((rs, ctx) -> new String[] {rs.getString(1), rs.getString(2)}).findOne());
  }

  /** Stores the CA unless another replica stored one first; returns the one that is stored. */
  public String[] storeCaIfAbsent(String certPem, String keyPem) {
    useTx(h -> {
      h.createUpdate("INSERT INTO server_ca (id, certificate, private_key, created_at) VALUES (1, :c, :k, :t)"
              + " ON CONFLICT (id) DO NOTHING")
          .bind("c", certPem).bind("k", keyPem).bind("t", nowMillis()).execute();
    });
    return ca().orElseThrow();
  }

  // ---- admin tokens

  /** A stored admin token. */
  public record AdminTokenRecord(String id, String name, Set<String> scopes, Instant createdAt, Instant expiresAt,
      boolean revoked) {
    public AdminTokenInfo info() {
      return new AdminTokenInfo(id, name, scopes, createdAt, expiresAt, null);
    }
  }

  private static AdminTokenRecord adminToken(ResultSet rs) throws SQLException {
    return new AdminTokenRecord(rs.getString("id"), rs.getString("name"),
        new TreeSet<>(ApiJson.mapper().readValue(rs.getString("scopes"), STRINGS)), instant(rs, "created_at"),
        instant(rs, "expires_at"), rs.getInt("revoked") != 0);
  }

  public Optional<AdminTokenRecord> adminTokenByHash(String hash) {
    return jdbi.withHandle(h -> h.createQuery("SELECT * FROM admin_tokens WHERE token_hash = :h").bind("h", hash)
        .map((rs, ctx) -> adminToken(rs)).findOne());
  }

  public List<AdminTokenRecord> adminTokens() {
    return jdbi.withHandle(h -> h.createQuery("SELECT * FROM admin_tokens WHERE revoked = 0 ORDER BY created_at, id")
        .map((rs, ctx) -> adminToken(rs)).list());
  }

  public boolean hasAdminTokens() {
    return jdbi.withHandle(h -> h.createQuery("SELECT COUNT(*) FROM admin_tokens").mapTo(Long.class).one()) > 0;
  }

  public AdminTokenRecord createAdminToken(String actor, String id, String name, Set<String> scopes, String hash,
      Instant expiresAt) {
    return tx(h -> {
      h.createUpdate("INSERT INTO admin_tokens (id, name, token_hash, scopes, created_at, expires_at)"
              + " VALUES (:id, :name, :hash, :scopes, :t, :exp)")
          .bind("id", id).bind("name", name).bind("hash", hash).bind("scopes", json(new TreeSet<>(scopes)))
          .bind("t", nowMillis()).bind("exp", millis(expiresAt)).execute();
      audit(h, actor, "admin-token.create", "admin-token:" + id, Map.of("name", name, "scopes", new TreeSet<>(scopes)));
      return h.createQuery("SELECT * FROM admin_tokens WHERE id = :id").bind("id", id).map((rs, ctx) -> adminToken(rs)).one();
    });
  }

  public void revokeAdminToken(String actor, String id) {
    useTx(h -> {
      if (h.createUpdate("UPDATE admin_tokens SET revoked = 1 WHERE id = :id AND revoked = 0").bind("id", id).execute() == 0) {
        throw StoreException.notFound("admin token " + id);
      }
      audit(h, actor, "admin-token.revoke", "admin-token:" + id, Map.of());
    });
  }

  // ---- enrollment tokens

  /** A stored enrollment token. */
  public record EnrollmentTokenRecord(String id, String name, Map<String, String> labels, String autoApprove,
      Instant expiresAt, int maxUses, int uses, Instant createdAt, boolean revoked) {
    public EnrollmentTokenInfo info(String secret) {
      return new EnrollmentTokenInfo(id, name, labels, autoApprove, expiresAt, maxUses, uses, createdAt, secret);
    }
  }

  private static EnrollmentTokenRecord enrollmentToken(ResultSet rs) throws SQLException {
    return new EnrollmentTokenRecord(rs.getString("id"), rs.getString("name"), labels(rs.getString("labels")),
        rs.getString("auto_approve"), instant(rs, "expires_at"), rs.getInt("max_uses"), rs.getInt("uses"),
        instant(rs, "created_at"), rs.getInt("revoked") != 0);
  }

  public Optional<EnrollmentTokenRecord> enrollmentTokenByHash(String hash) {
    return jdbi.withHandle(h -> h.createQuery("SELECT * FROM enrollment_tokens WHERE token_hash = :h").bind("h", hash)
        .map((rs, ctx) -> enrollmentToken(rs)).findOne());
  }

  public List<EnrollmentTokenRecord> enrollmentTokens() {
    return jdbi.withHandle(h -> h.createQuery("SELECT * FROM enrollment_tokens WHERE revoked = 0 ORDER BY created_at, id")
        .map((rs, ctx) -> enrollmentToken(rs)).list());
  }

  public EnrollmentTokenRecord createEnrollmentToken(String actor, String id, String name, Map<String, String> labels,
      String autoApprove, Instant expiresAt, int maxUses, String hash) {
    return tx(h -> {
      h.createUpdate("INSERT INTO enrollment_tokens (id, name, token_hash, labels, auto_approve, expires_at, max_uses, created_at)"
              + " VALUES (:id, :name, :hash, :labels, :auto, :exp, :max, :t)")
          .bind("id", id).bind("name", name).bind("hash", hash).bind("labels", json(new TreeMap<>(labels)))
          .bind("auto", autoApprove).bind("exp", millis(expiresAt)).bind("max", maxUses).bind("t", nowMillis()).execute();
      Map<String, Object> d = new LinkedHashMap<>();
      d.put("name", name);
      d.put("labels", new TreeMap<>(labels));
      if (autoApprove != null) d.put("autoApprove", autoApprove);
      audit(h, actor, "enrollment-token.create", "enrollment-token:" + id, d);
      return h.createQuery("SELECT * FROM enrollment_tokens WHERE id = :id").bind("id", id)
          .map((rs, ctx) -> enrollmentToken(rs)).one();
    });
  }

  public void revokeEnrollmentToken(String actor, String id) {
    useTx(h -> {
      if (h.createUpdate("UPDATE enrollment_tokens SET revoked = 1 WHERE id = :id AND revoked = 0").bind("id", id).execute() == 0) {
        throw StoreException.notFound("enrollment token " + id);
      }
      audit(h, actor, "enrollment-token.revoke", "enrollment-token:" + id, Map.of());
    });
  }

  // ---- devices

  /** A certificate issued to a device. */
  public record IssuedCertificate(String pem, String serial, String fingerprint, Instant expires) {}

  /** A device row with the enrollment material the API does not show. */
  public record DeviceRecord(DeviceInfo info, String csr, String certificate) {}

  private static DeviceInfo deviceInfo(ResultSet rs) throws SQLException {
    String health = rs.getString("health");
    String phase = rs.getString("phase");
    String failed = rs.getString("failed_digests");
    DesiredState desired = new DesiredState(rs.getLong("desired_rev"), rs.getString("desired_ref"),
        rs.getString("desired_digest"), rs.getInt("desired_reboot") != 0, rs.getString("desired_fleet"));
    return new DeviceInfo(rs.getString("id"), rs.getString("name"), labels(rs.getString("labels")),
        DeviceState.ofWireName(rs.getString("state")), rs.getString("fleet"), rs.getString("membership_error"),
        rs.getString("booted_digest"), rs.getString("staged_digest"), rs.getString("slot"),
        health == null ? null : HEALTHS.get(health), phase == null ? null : PHASES.get(phase),
        rs.getString("last_error"), failed == null || failed.equals("[]") ? List.of() : ApiJson.mapper().readValue(failed, STRINGS),
        rs.getLong("bytes_downloaded"), instant(rs, "last_seen"), instant(rs, "enrolled_at"),
        rs.getString("cert_serial"), instant(rs, "cert_expires"), desired);
  }

  public Optional<DeviceRecord> device(String id) {
    return jdbi.withHandle(h -> device(h, id));
  }

  private Optional<DeviceRecord> device(Handle h, String id) {
    return h.createQuery("SELECT " + DEVICE_COLUMNS + ", csr, certificate FROM devices WHERE id = :id").bind("id", id)
        .map((rs, ctx) -> new DeviceRecord(deviceInfo(rs), rs.getString("csr"), rs.getString("certificate"))).findOne();
  }

  private DeviceRecord existing(Handle h, String id) {
    DeviceRecord d = device(h, id).orElseThrow(() -> StoreException.notFound("device " + id));
    if (d.info().state() == DeviceState.DECOMMISSIONED) {
      throw new StoreException(StoreException.Kind.GONE, "device " + id + " was decommissioned");
    }
    return d;
  }

  /** Devices (decommissioned ones only when asked by state), filtered by state, fleet and selector, by id. */
  public List<DeviceInfo> devices(DeviceState state, String fleet, LabelSelector selector, int limit, int offset) {
    return jdbi.withHandle(h -> {
      StringBuilder sql = new StringBuilder("SELECT " + DEVICE_COLUMNS + " FROM devices WHERE ");
      sql.append(state == null ? "state <> 'decommissioned'" : "state = :state");
      if (fleet != null) sql.append(" AND fleet = :fleet");
      sql.append(" ORDER BY id");
      Query q = h.createQuery(sql.toString());
      if (state != null) q.bind("state", state.wireName());
      if (fleet != null) q.bind("fleet", fleet);
      List<DeviceInfo> out = new ArrayList<>();
      int skipped = 0;
      try (var it = q.map((rs, ctx) -> deviceInfo(rs)).iterator()) {
        while (it.hasNext() && out.size() < limit) {
          DeviceInfo d = it.next();
          if (selector != null && !selector.matches(d.labels())) continue;
          if (skipped++ < offset) continue;
          out.add(d);
        }
      }
      return out;
    });
  }

  /** Device counts by state (for metrics). */
  public Map<String, Long> deviceCountsByState() {
    return jdbi.withHandle(h -> {
      Map<String, Long> out = new TreeMap<>();
      for (DeviceState s : DeviceState.values()) out.put(s.wireName(), 0L);
      h.createQuery("SELECT state, COUNT(*) AS n FROM devices GROUP BY state")
          .map((rs, ctx) -> Map.entry(rs.getString("state"), rs.getLong("n"))).forEach(e -> out.put(e.getKey(), e.getValue()));
      return out;
    });
  }

  /** What to insert for a new enrollment. */
  public record NewDevice(String id, String name, Map<String, String> labels, String csr, IssuedCertificate certificate) {}

  /**
   * Inserts an enrolled device (active when {@code certificate} is set, else pending) and counts one use of its token.
   *
   * @throws StoreException CONFLICT when the token has no uses left
   */
  public DeviceInfo enroll(EnrollmentTokenRecord token, NewDevice d) {
    return tx(h -> {
      int n = h.createUpdate("UPDATE enrollment_tokens SET uses = uses + 1 WHERE id = :id AND revoked = 0"
              + " AND (max_uses = 0 OR uses < max_uses)").bind("id", token.id()).execute();
      if (n == 0) throw new StoreException(StoreException.Kind.CONFLICT, "enrollment token " + token.name() + " has no uses left");
      IssuedCertificate c = d.certificate();
      h.createUpdate("INSERT INTO devices (id, name, labels, state, enrolled_at, enrollment_token_id, csr, certificate,"
              + " cert_serial, cert_fingerprint, cert_expires) VALUES (:id, :name, :labels, :state, :t, :tok, :csr, :cert,"
              + " :serial, :fp, :exp)")
          .bind("id", d.id()).bind("name", d.name()).bind("labels", json(new TreeMap<>(d.labels())))
          .bind("state", (c == null ? DeviceState.PENDING : DeviceState.ACTIVE).wireName()).bind("t", nowMillis())
          .bind("tok", token.id()).bind("csr", d.csr()).bind("cert", c == null ? null : c.pem())
          .bind("serial", c == null ? null : c.serial()).bind("fp", c == null ? null : c.fingerprint())
          .bind("exp", c == null ? null : millis(c.expires())).execute();
      audit(h, "enrollment-token:" + token.name(), "device.enroll", "device:" + d.id(),
          Map.of("name", d.name(), "labels", new TreeMap<>(d.labels()), "autoApproved", c != null));
      if (c != null) audit(h, "system", "device.approve", "device:" + d.id(), Map.of("rule", token.autoApprove(), "serial", c.serial()));
      return device(h, d.id()).orElseThrow().info();
    });
  }

  /**
   * Approves a pending device with the certificate issued from its CSR.
   *
   * @param issue makes the certificate from the stored CSR (called inside the transaction)
   */
  public DeviceInfo approve(String actor, String id, java.util.function.Function<String, IssuedCertificate> issue) {
    return tx(h -> {
      DeviceRecord d = existing(h, id);
      if (d.info().state() != DeviceState.PENDING) {
        throw new StoreException(StoreException.Kind.CONFLICT, "device " + id + " is " + d.info().state().wireName() + ", not pending");
      }
      IssuedCertificate c = issue.apply(d.csr());
      h.createUpdate("UPDATE devices SET state = 'active', certificate = :cert, cert_serial = :serial,"
              + " cert_fingerprint = :fp, cert_expires = :exp WHERE id = :id AND state = 'pending'")
          .bind("cert", c.pem()).bind("serial", c.serial()).bind("fp", c.fingerprint()).bind("exp", millis(c.expires()))
          .bind("id", id).execute();
      audit(h, actor, "device.approve", "device:" + id, Map.of("serial", c.serial()));
      return device(h, id).orElseThrow().info();
    });
  }

  /** Revokes a device: its certificate is refused from the next request on. */
  public DeviceInfo revoke(String actor, String id) {
    return tx(h -> {
      DeviceRecord d = existing(h, id);
      if (d.info().state() == DeviceState.REVOKED) throw new StoreException(StoreException.Kind.CONFLICT, "device " + id + " is already revoked");
      h.createUpdate("UPDATE devices SET state = 'revoked', fleet = NULL WHERE id = :id").bind("id", id).execute();
      audit(h, actor, "device.revoke", "device:" + id, Map.of("serial", String.valueOf(d.info().certificateSerial())));
      return device(h, id).orElseThrow().info();
    });
  }

  /** Decommissions a device: no certificate, no fleet, no desired state; the row stays as a tombstone. */
  public void decommission(String actor, String id) {
    useTx(h -> {
      existing(h, id);
      h.createUpdate("UPDATE devices SET state = 'decommissioned', cert_serial = NULL, certificate = NULL, csr = NULL,"
          + " fleet = NULL, membership_error = NULL, desired_ref = NULL, desired_digest = NULL, desired_fleet = NULL,"
          + " desired_rev = desired_rev + 1 WHERE id = :id").bind("id", id).execute();
      audit(h, actor, "device.decommission", "device:" + id, Map.of());
    });
  }

  /** Changes name and/or labels; {@code check} vets the new labels (fleet overlap) inside the transaction. */
  public DeviceInfo updateDevice(String actor, String id, String name, Map<String, String> labels,
      java.util.function.BiConsumer<Handle, Map<String, String>> check) {
    return tx(h -> {
      DeviceRecord d = existing(h, id);
      Map<String, Object> details = new LinkedHashMap<>();
      if (name != null && !name.equals(d.info().name())) {
        h.createUpdate("UPDATE devices SET name = :n WHERE id = :id").bind("n", name).bind("id", id).execute();
        details.put("name", name);
      }
      if (labels != null && !labels.equals(d.info().labels())) {
        check.accept(h, labels);
        h.createUpdate("UPDATE devices SET labels = :l WHERE id = :id").bind("l", json(new TreeMap<>(labels))).bind("id", id).execute();
        details.put("labels", new TreeMap<>(labels));
      }
      audit(h, actor, "device.update", "device:" + id, details);
      return device(h, id).orElseThrow().info();
    });
  }

  /** Replaces an active device's certificate (renewal): the old serial stops working at once. */
  public void renew(String id, String oldSerial, String csr, IssuedCertificate c) {
    useTx(h -> {
      int n = h.createUpdate("UPDATE devices SET certificate = :cert, cert_serial = :serial, cert_fingerprint = :fp,"
              + " cert_expires = :exp, csr = :csr WHERE id = :id AND cert_serial = :old AND state = 'active'")
          .bind("csr", csr).bind("cert", c.pem()).bind("serial", c.serial()).bind("fp", c.fingerprint()).bind("exp", millis(c.expires()))
          .bind("id", id).bind("old", oldSerial).execute();
      if (n == 0) throw new StoreException(StoreException.Kind.CONFLICT, "device " + id + " is not active with certificate " + oldSerial);
      audit(h, "device:" + id, "device.renew", "device:" + id, Map.of("oldSerial", oldSerial, "serial", c.serial()));
    });
  }

  // ---- the device hot path: one statement each, authenticated by (id, serial, active)

  /** What an authenticated device poll sees. */
  public record DevicePoll(DesiredState desired, Instant lastSeen) {}

  /** The desired state of the active device holding certificate {@code serial}; empty when not (or no longer) valid. */
  public Optional<DevicePoll> desired(String id, String serial) {
    return jdbi.withHandle(h -> h.createQuery("SELECT desired_rev, desired_ref, desired_digest, desired_reboot,"
            + " desired_fleet, last_seen FROM devices WHERE id = :id AND cert_serial = :serial AND state = 'active'")
        .bind("id", id).bind("serial", serial)
        .map((rs, ctx) -> new DevicePoll(new DesiredState(rs.getLong(1), rs.getString(2), rs.getString(3),
            rs.getInt(4) != 0, rs.getString(5)), instant(rs, "last_seen")))
        .findOne());
  }

  /** Notes a check-in (polls update it at most once a minute, so idle polls stay reads). */
  public void touch(String id, String serial) {
    write(h -> h.createUpdate("UPDATE devices SET last_seen = :t WHERE id = :id AND cert_serial = :serial")
        .bind("t", nowMillis()).bind("id", id).bind("serial", serial).execute());
  }

  /** What a status report did. */
  public enum ReportResult {
    /** The device is not (or no longer) active with that certificate: nothing was written. */
    NOT_ACTIVE,
    /** Recorded; nothing the controller looks at changed (digests, health, phase, failed digests). */
    UNCHANGED,
    /** Recorded, and something the controller looks at changed: a pass may move a rollout on. */
    CHANGED
  }

  /**
   * Records a status report: one UPDATE when nothing the controller reads changed (the common check-in), else a
   * second one that writes everything. The caller wakes the controller only for {@link ReportResult#CHANGED}, so a
   * fleet of idle devices reporting does not make it rescan every device after every report.
   */
  public ReportResult report(String id, String serial, StatusReport r) {
    PendingReport p = new PendingReport(id, serial, r, nowMillis());
    if (writeLock == null) {
      // PostgreSQL: a status report is telemetry the device sends again, so its commit need not wait for the WAL flush
      // (a crash of the database loses at most the last moment of reports, never consistency).
      return jdbi.inTransaction(h -> {
        h.execute("SET LOCAL synchronous_commit TO OFF");
        return report(h, p);
      });
    }
    boolean flusher;
    synchronized (reportQueue) {
      reportQueue.add(p);
      flusher = !flushing;
      flushing = true;
    }
    if (flusher) Thread.ofVirtual().name("basalt-fleet-status-writer").start(this::flushReports);
    return p.result.join();
  }

  /** A status report waiting for the next batch, its columns made by the request's thread. */
  private record PendingReport(String id, String serial, long now, String status, String booted, String staged,
      String slot, String health, String phase, String failed, String lastError, long bytes,
      java.util.concurrent.CompletableFuture<ReportResult> result) {
    PendingReport(String id, String serial, StatusReport r, long now) {
      this(id, serial, now, json(r.node()), digest(r.node().booted()), digest(r.node().staged()),
          r.node().booted() == null ? null : r.node().booted().slot(),
          r.node().booted() == null ? null : wire(r.node().booted().health()), wire(r.node().updatePhase()),
          json(r.node().failedDigests()), r.node().lastError(), r.bytesDownloaded(), new java.util.concurrent.CompletableFuture<>());
    }

    private static String digest(Deployment d) {
      return d == null ? null : d.manifestDigest();
    }
  }

  private static final int REPORT_BATCH = 512;
  private final java.util.ArrayDeque<PendingReport> reportQueue = new java.util.ArrayDeque<>();
  private boolean flushing;

  /**
   * SQLite: writes the queued status reports, many per transaction, until the queue is empty (group commit). Reports
   * arriving while a batch is written wait for the next one instead of each queueing on the write lock for a
   * transaction of its own; at low rates a batch is one report and nothing waits longer than before.
   */
  private void flushReports() {
    while (true) {
      List<PendingReport> batch = new ArrayList<>();
      synchronized (reportQueue) {
        while (batch.size() < REPORT_BATCH && !reportQueue.isEmpty()) batch.add(reportQueue.poll());
        if (batch.isEmpty()) {
          flushing = false;
          return;
        }
      }
      try {
        List<ReportResult> results = tx(h -> {
          List<ReportResult> out = new ArrayList<>(batch.size());
          for (PendingReport p : batch) out.add(report(h, p));
          return out;
        });
        for (int i = 0; i < batch.size(); i++) batch.get(i).result().complete(results.get(i));
      } catch (RuntimeException e) {
        // One at a time, so that one report's failure is its own.
        for (PendingReport p : batch) {
          try {
            p.result().complete(write(h -> report(h, p)));
          } catch (RuntimeException e2) {
            p.result().completeExceptionally(e2);
          }
        }
      }
    }
  }

  private ReportResult report(Handle h, PendingReport p) {
    String id = p.id();
    String serial = p.serial();
    long now = p.now();
    String status = p.status();
    String bootedDigest = p.booted();
    String stagedDigest = p.staged();
    String slot = p.slot();
    String health = p.health();
    String phase = p.phase();
    String failed = p.failed();
    int same = h.createUpdate("UPDATE devices SET status = :status, last_error = :err, bytes_downloaded = :bytes,"
            + " last_seen = :t WHERE id = :id AND cert_serial = :serial AND state = 'active'"
            + " AND booted_digest IS NOT DISTINCT FROM :b AND staged_digest IS NOT DISTINCT FROM :s"
            + " AND slot IS NOT DISTINCT FROM :slot AND health IS NOT DISTINCT FROM :health"
            + " AND phase IS NOT DISTINCT FROM :phase AND failed_digests IS NOT DISTINCT FROM :failed"
            + " AND booted_since IS NOT NULL")
        .bind("status", status).bind("err", p.lastError()).bind("bytes", p.bytes()).bind("t", now)
        .bind("id", id).bind("serial", serial).bind("b", bootedDigest).bind("s", stagedDigest).bind("slot", slot)
        .bind("health", health).bind("phase", phase).bind("failed", failed).execute();
    if (same == 1) return ReportResult.UNCHANGED;
    int n = h.createUpdate("UPDATE devices SET status = :status, booted_digest = :b,"
            + " staged_digest = :s, slot = :slot, health = :health, phase = :phase, last_error = :err,"
            + " failed_digests = :failed, bytes_downloaded = :bytes, last_seen = :t,"
            + " booted_since = CASE WHEN booted_digest IS NOT DISTINCT FROM :b2 AND booted_since IS NOT NULL"
            + " THEN booted_since ELSE :t2 END WHERE id = :id AND cert_serial = :serial AND state = 'active'")
        .bind("status", status).bind("b", bootedDigest).bind("b2", bootedDigest).bind("s", stagedDigest)
        .bind("slot", slot).bind("health", health).bind("phase", phase).bind("err", p.lastError())
        .bind("failed", failed).bind("bytes", p.bytes()).bind("t", now).bind("t2", now)
        .bind("id", id).bind("serial", serial).execute();
    return n == 1 ? ReportResult.CHANGED : ReportResult.NOT_ACTIVE;
  }

  private static String wire(Enum<?> e) {
    String j = ApiJson.mapper().writeValueAsString(e);
    return j.substring(1, j.length() - 1);
  }

  // ---- fleets

  private static FleetInfo fleet(ResultSet rs, int members) throws SQLException {
    return new FleetInfo(new FleetSpec(rs.getString("name"), rs.getString("selector"), rs.getString("target_ref"),
        rs.getString("target_digest"), object(rs.getString("policy")), signatures(rs.getString("signatures"))), members,
        instant(rs, "created_at"), instant(rs, "updated_at"));
  }

  public List<FleetInfo> fleets() {
    return jdbi.withHandle(h -> {
      Map<String, Integer> counts = new TreeMap<>();
      h.createQuery("SELECT fleet, COUNT(*) FROM devices WHERE fleet IS NOT NULL GROUP BY fleet")
          .map((rs, ctx) -> Map.entry(rs.getString(1), rs.getInt(2))).forEach(e -> counts.put(e.getKey(), e.getValue()));
      return h.createQuery("SELECT * FROM fleets ORDER BY name").map((rs, ctx) -> fleet(rs, counts.getOrDefault(rs.getString("name"), 0))).list();
    });
  }

  public Optional<FleetInfo> fleet(String name) {
    return jdbi.withHandle(h -> fleet(h, name));
  }

  /** The fleet named {@code name}, read in the caller's transaction. */
  public Optional<FleetInfo> fleet(Handle h, String name) {
    int members = h.createQuery("SELECT COUNT(*) FROM devices WHERE fleet = :n").bind("n", name).mapTo(Integer.class).one();
    return h.createQuery("SELECT * FROM fleets WHERE name = :n").bind("n", name).map((rs, ctx) -> fleet(rs, members)).findOne();
  }

  /** Labels of every device that can belong to a fleet (pending and active), by id. */
  public Map<String, Map<String, String>> memberCandidates(Handle h) {
    Map<String, Map<String, String>> out = new TreeMap<>();
    h.createQuery("SELECT id, labels FROM devices WHERE state IN ('pending', 'active')")
        .map((rs, ctx) -> Map.entry(rs.getString(1), labels(rs.getString(2)))).forEach(e -> out.put(e.getKey(), e.getValue()));
    return out;
  }

  /** Name and selector of every fleet. */
  public Map<String, LabelSelector> selectors(Handle h) {
    Map<String, LabelSelector> out = new TreeMap<>();
    h.createQuery("SELECT name, selector FROM fleets").map((rs, ctx) -> Map.entry(rs.getString(1), LabelSelector.parse(rs.getString(2))))
        .forEach(e -> out.put(e.getKey(), e.getValue()));
    return out;
  }

  /**
   * Creates ({@code create}) or replaces a fleet; {@code check} vets the new selector against the other fleets inside the
   * transaction.
   */
  public FleetInfo putFleet(String actor, FleetSpec spec, boolean create, java.util.function.Consumer<Handle> check) {
    return tx(h -> {
      boolean exists = fleet(h, spec.name()).isPresent();
      if (create && exists) throw new StoreException(StoreException.Kind.CONFLICT, "fleet " + spec.name() + " already exists");
      if (!create && !exists) throw StoreException.notFound("fleet " + spec.name());
      long now = nowMillis();
      if (create) {
        h.createUpdate("INSERT INTO fleets (name, selector, target_ref, target_digest, policy, signatures, created_at,"
                + " updated_at) VALUES (:n, :sel, :ref, :dig, :pol, :sig, :t, :t)")
            .bind("sig", json(spec.signatures()))
            .bind("n", spec.name()).bind("sel", spec.selector()).bind("ref", spec.targetRef()).bind("dig", spec.targetDigest())
            .bind("pol", spec.policy() == null ? null : json(new TreeMap<>(spec.policy()))).bind("t", now).execute();
      } else {
        h.createUpdate("UPDATE fleets SET selector = :sel, target_ref = :ref, target_digest = :dig, policy = :pol,"
                + " signatures = :sig, updated_at = :t WHERE name = :n")
            .bind("sig", json(spec.signatures()))
            .bind("n", spec.name()).bind("sel", spec.selector()).bind("ref", spec.targetRef()).bind("dig", spec.targetDigest())
            .bind("pol", spec.policy() == null ? null : json(new TreeMap<>(spec.policy()))).bind("t", now).execute();
      }
      check.accept(h);
      Map<String, Object> d = new LinkedHashMap<>();
      d.put("selector", spec.selector());
      d.put("targetRef", spec.targetRef());
      d.put("targetDigest", spec.targetDigest());
      audit(h, actor, create ? "fleet.create" : "fleet.update", "fleet:" + spec.name(), d);
      return fleet(h, spec.name()).orElseThrow();
    });
  }

  public void deleteFleet(String actor, String name) {
    useTx(h -> {
      if (h.createUpdate("DELETE FROM fleets WHERE name = :n").bind("n", name).execute() == 0) throw StoreException.notFound("fleet " + name);
      h.createUpdate("UPDATE devices SET fleet = NULL WHERE fleet = :n").bind("n", name).execute();
      h.createUpdate("UPDATE rollouts SET active = 0 WHERE fleet = :n").bind("n", name).execute();
      audit(h, actor, "fleet.delete", "fleet:" + name, Map.of());
    });
  }

  // ---- controller support (called inside the controller's transaction)

  /** A fleet as the controller sees it. */
  public record FleetRow(String name, LabelSelector selector, String targetRef, String targetDigest, Map<String, Object> policy) {}

  /** Sets a fleet's target (a rollout succeeded); no audit row: the rollout's events say why. */
  public void setFleetTarget(Handle h, String fleet, String ref, String digest) {
    h.createUpdate("UPDATE fleets SET target_ref = :r, target_digest = :d, updated_at = :t WHERE name = :n")
        .bind("r", ref).bind("d", digest).bind("t", nowMillis()).bind("n", fleet).execute();
  }

  /** A device as the controller sees it. */
  public record MemberRow(String id, Map<String, String> labels, String fleet, String membershipError, DesiredState desired,
      String bootedDigest, String stagedDigest, Health health, UpdatePhase phase, List<String> failedDigests,
      Instant lastSeen, Instant bootedSince) {}

  public List<FleetRow> fleetRows(Handle h) {
    return h.createQuery("SELECT name, selector, target_ref, target_digest, policy FROM fleets ORDER BY name")
        .map((rs, ctx) -> new FleetRow(rs.getString(1), LabelSelector.parse(rs.getString(2)), rs.getString(3),
            rs.getString(4), object(rs.getString(5))))
        .list();
  }

  public List<MemberRow> activeDevices(Handle h) {
    return h.createQuery("SELECT " + DEVICE_COLUMNS + ", booted_since FROM devices WHERE state = 'active' ORDER BY id")
        .map((rs, ctx) -> {
          DeviceInfo d = deviceInfo(rs);
          return new MemberRow(d.id(), d.labels(), d.fleet(), d.membershipError(), d.desired(), d.bootedDigest(),
              d.stagedDigest(), d.health(), d.updatePhase(), d.failedDigests(), d.lastSeen(), instant(rs, "booted_since"));
        })
        .list();
  }

  public void setMembership(Handle h, String id, String fleet, String error) {
    h.createUpdate("UPDATE devices SET fleet = :f, membership_error = :e WHERE id = :id AND state = 'active'")
        .bind("f", fleet).bind("e", error).bind("id", id).execute();
  }

  /** The PostgreSQL channel on which desired-state changes are announced to every replica. */
  public static final String DESIRED_CHANNEL = "basalt_desired";

  /**
   * Announces, on PostgreSQL, that these devices' desired states changed (delivered to every replica's
   * {@link DesiredListener} when the transaction commits), so that long polls held by another replica wake up too.
   * Nothing on SQLite (one process).
   */
  public void notifyDesired(Handle h, java.util.Collection<String> ids) {
    if (db.dialect() != Database.Dialect.POSTGRESQL || ids.isEmpty()) return;
    StringBuilder chunk = new StringBuilder();
    for (String id : ids) {
      if (chunk.length() + id.length() + 1 > 7000) { // a NOTIFY payload must stay under 8000 bytes
        h.createQuery("SELECT pg_notify(:c, :p)").bind("c", DESIRED_CHANNEL).bind("p", chunk.toString()).mapTo(String.class).one();
        chunk.setLength(0);
      }
      if (!chunk.isEmpty()) chunk.append(',');
      chunk.append(id);
    }
    h.createQuery("SELECT pg_notify(:c, :p)").bind("c", DESIRED_CHANNEL).bind("p", chunk.toString()).mapTo(String.class).one();
  }

  /** Sets a device's desired state and bumps its revision (so its ETag changes). */
  public void setDesired(Handle h, String id, String ref, String digest, boolean reboot, String fleet) {
    h.createUpdate("UPDATE devices SET desired_ref = :r, desired_digest = :d, desired_reboot = :rb, desired_fleet = :f,"
            + " desired_rev = desired_rev + 1 WHERE id = :id AND state = 'active'")
        .bind("r", ref).bind("d", digest).bind("rb", reboot ? 1 : 0).bind("f", fleet).bind("id", id).execute();
  }
}

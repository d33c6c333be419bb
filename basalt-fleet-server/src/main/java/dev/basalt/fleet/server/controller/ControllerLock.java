package dev.basalt.fleet.server.controller;

import dev.basalt.fleet.server.store.Database;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;

/** Lets one rollout controller run at a time across server replicas. */
public interface ControllerLock extends AutoCloseable {
  /** Takes or keeps the lock; true while this instance holds it. Never blocks for long. */
  boolean tryHold();

  /** Gives the lock up (another replica may take it at its next tick). */
  @Override
  void close();

  /** The lock that suits the database: an advisory lock on PostgreSQL, trivially held on SQLite (one process). */
  static ControllerLock forDatabase(Database db) {
    return db.dialect() == Database.Dialect.POSTGRESQL ? new PostgresAdvisoryLock(db) : new ControllerLock() {
      @Override
      public boolean tryHold() {
        return true;
      }

      @Override
      public void close() {}
    };
  }

  /**
   * {@code pg_try_advisory_lock} on a dedicated connection: the lock lives as long as that session, so a replica that
   * dies (or loses its connection) frees it for the others.
   */
  final class PostgresAdvisoryLock implements ControllerLock {
    /** Arbitrary 64-bit key: "basalt-c". */
    static final long KEY = 0x6261_7361_6c74_2d63L;
    private final Database db;
    private Connection conn;
    private boolean held;

    PostgresAdvisoryLock(Database db) {
      this.db = db;
    }

    @Override
    public synchronized boolean tryHold() {
      try {
        if (conn != null && !conn.isValid(2)) {
          drop();
        }
        if (held) return true;
        if (conn == null) conn = db.dedicatedConnection();
        try (PreparedStatement ps = conn.prepareStatement("SELECT pg_try_advisory_lock(?)")) {
          ps.setLong(1, KEY);
          try (ResultSet rs = ps.executeQuery()) {
            rs.next();
            held = rs.getBoolean(1);
          }
        }
        return held;
      } catch (SQLException e) {
        drop();
        return false;
      }
    }

    private void drop() {
      held = false;
      if (conn != null) {
        try {
          conn.close();
        } catch (SQLException ignored) {
          // the session is gone either way, and the lock with it
        }
        conn = null;
      }
    }

    @Override
    public synchronized void close() {
      drop();
    }
  }
}

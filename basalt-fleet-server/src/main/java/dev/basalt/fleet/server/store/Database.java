package dev.basalt.fleet.server.store;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.util.Objects;
import org.flywaydb.core.Flyway;
import org.jdbi.v3.core.Jdbi;

/**
 * The fleet database: SQLite (a file under the data dir, WAL, busy timeout, immediate write transactions) or
 * PostgreSQL ({@code jdbc:postgresql://...}), pooled by HikariCP and migrated by Flyway on open.
 */
public final class Database implements AutoCloseable {
  /** The SQL dialects the migrations and queries are written for. */
  public enum Dialect { SQLITE, POSTGRESQL }

  private final Dialect dialect;
  private final String url;
  private final String user;
  private final String password;
  private final HikariDataSource dataSource;
  private final Jdbi jdbi;

  private Database(Dialect dialect, String url, String user, String password, HikariDataSource ds) {
    this.dialect = dialect;
    this.url = url;
    this.user = user;
    this.password = password;
    this.dataSource = ds;
    this.jdbi = Jdbi.create(ds);
  }

  /** The SQLite database {@code fleet.db} in {@code dataDir}. */
  public static Database sqlite(Path dataDir) {
    try {
      Files.createDirectories(dataDir);
    } catch (java.io.IOException e) {
      throw new IllegalStateException("cannot create data dir " + dataDir + ": " + e.getMessage(), e);
    }
    return open("jdbc:sqlite:" + dataDir.resolve("fleet.db"), null, null);
  }

  /**
   * Opens and migrates the database at {@code url} ({@code jdbc:sqlite:...} or {@code jdbc:postgresql:...}).
   *
   * @throws IllegalArgumentException for another kind of URL
   */
  public static Database open(String url, String user, String password) {
    Objects.requireNonNull(url, "database url");
    Dialect dialect;
    HikariConfig hc = new HikariConfig();
    hc.setJdbcUrl(url);
    hc.setPoolName("basalt-fleet");
    if (url.startsWith("jdbc:sqlite:")) {
      dialect = Dialect.SQLITE;
      // Immediate transactions take the write lock at BEGIN, so concurrent writers queue on the busy timeout
      // instead of failing with SQLITE_BUSY when a read transaction upgrades.
      hc.addDataSourceProperty("journalMode", "WAL");
      hc.addDataSourceProperty("busyTimeout", "10000");
      hc.addDataSourceProperty("transactionMode", "IMMEDIATE");
      hc.addDataSourceProperty("synchronous", "NORMAL");
      hc.setDataSourceClassName("org.sqlite.SQLiteDataSource");
      hc.addDataSourceProperty("url", url);
      hc.setJdbcUrl(null);
      hc.setMaximumPoolSize(8);
    } else if (url.startsWith("jdbc:postgresql:")) {
      dialect = Dialect.POSTGRESQL;
      if (user != null) hc.setUsername(user);
      if (password != null) hc.setPassword(password);
      hc.setMaximumPoolSize(16);
    } else {
      throw new IllegalArgumentException("database url must start with jdbc:sqlite: or jdbc:postgresql:, got " + url);
    }
    HikariDataSource ds = new HikariDataSource(hc);
    try {
      Flyway.configure().dataSource(ds)
          .locations("classpath:db/migration/" + (dialect == Dialect.SQLITE ? "sqlite" : "postgresql"))
          .load().migrate();
    } catch (RuntimeException e) {
      ds.close();
      throw e;
    }
    return new Database(dialect, url, user, password, ds);
  }

  public Dialect dialect() {
    return dialect;
  }

  public Jdbi jdbi() {
    return jdbi;
  }

  /** A new connection outside the pool (the controller lock holds one for as long as it leads). */
  public Connection dedicatedConnection() throws SQLException {
    return user == null ? DriverManager.getConnection(url) : DriverManager.getConnection(url, user, password);
  }

  @Override
  public void close() {
    dataSource.close();
  }
}

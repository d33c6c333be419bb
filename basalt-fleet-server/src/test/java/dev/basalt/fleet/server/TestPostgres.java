package dev.basalt.fleet.server;

import dev.basalt.testkit.LocalPostgres;

/** The JVM's shared test PostgreSQL; each caller gets a fresh database. */
final class TestPostgres {
  record Database(String url, String user) {}

  private TestPostgres() {}

  static Database freshDatabase() {
    LocalPostgres pg = LocalPostgres.shared();
    return new Database(pg.jdbcUrl(pg.createDatabase()), LocalPostgres.USER);
  }
}

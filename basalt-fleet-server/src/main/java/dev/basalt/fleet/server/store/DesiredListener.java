package dev.basalt.fleet.server.store;

import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Arrays;
import java.util.Collection;
import java.util.function.Consumer;
import org.postgresql.PGConnection;
import org.postgresql.PGNotification;

/**
 * Listens, on PostgreSQL, for the desired-state changes any replica announces ({@link Store#notifyDesired}) and hands
 * the device ids on, so that a long poll wakes up whichever replica holds it. Reconnects after a lost connection.
 */
public final class DesiredListener implements AutoCloseable {
  private static final System.Logger LOG = System.getLogger(DesiredListener.class.getName());
  private final Database db;
  private final Consumer<Collection<String>> changed;
  private volatile boolean running = true;
  private final Thread thread;

  public DesiredListener(Database db, Consumer<Collection<String>> changed) {
    this.db = db;
    this.changed = changed;
    this.thread = Thread.ofVirtual().name("basalt-desired-listener").start(this::loop);
  }

  private void loop() {
    while (running) {
      try (Connection c = db.dedicatedConnection()) {
        try (Statement st = c.createStatement()) {
          st.execute("LISTEN " + Store.DESIRED_CHANNEL);
        }
        PGConnection pg = c.unwrap(PGConnection.class);
        while (running) {
          PGNotification[] ns = pg.getNotifications(500);
          if (ns == null) continue;
          for (PGNotification n : ns) {
            if (!n.getParameter().isEmpty()) changed.accept(Arrays.asList(n.getParameter().split(",")));
          }
        }
      } catch (SQLException e) {
        if (!running) return;
        LOG.log(System.Logger.Level.WARNING, "desired-state listener lost its connection, reconnecting: " + e.getMessage());
        try {
          Thread.sleep(1000);
        } catch (InterruptedException ie) {
          return;
        }
      }
    }
  }

  @Override
  public void close() {
    running = false;
    thread.interrupt();
    try {
      thread.join(5000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}

package dev.basalt.fleet.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.basalt.api.Deployment;
import dev.basalt.api.Health;
import dev.basalt.api.NodeStatus;
import dev.basalt.api.UpdatePhase;
import dev.basalt.api.fleet.DeviceInfo;
import dev.basalt.api.fleet.StatusReport;
import dev.basalt.fleet.client.simulate.Simulator;
import dev.basalt.fleet.server.store.Database;
import dev.basalt.fleet.server.store.Store;
import dev.basalt.fleet.server.store.Store.ReportResult;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.Parameter;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * {@link Store#report}: what a report changed decides whether the controller is woken, and concurrent reports (group
 * committed on SQLite) each land with their own answer.
 */
@ParameterizedClass
@EnumSource(TestFleet.Db.class)
class StatusReportTest {
  static final String D1 = Simulator.digestOf("one");
  static final String D2 = Simulator.digestOf("two");

  @Parameter TestFleet.Db db;
  @TempDir Path dir;
  Database database;
  Store store;

  @BeforeEach
  void open() {
    if (db == TestFleet.Db.SQLITE) {
      database = Database.sqlite(dir);
    } else {
      TestPostgres.Database pg = TestPostgres.freshDatabase();
      database = Database.open(pg.url(), pg.user(), null);
    }
    store = new Store(database, Clock.systemUTC());
  }

  @AfterEach
  void close() {
    database.close();
  }

  private String device(String id, Store.EnrollmentTokenRecord token) {
    String serial = "5e7" + id.hashCode();
    store.enroll(token, new Store.NewDevice(id, id, Map.of(), "csr",
        new Store.IssuedCertificate("pem", serial, "fp-" + id, Instant.now().plusSeconds(3600))));
    return serial;
  }

  private Store.EnrollmentTokenRecord token() {
    return store.createEnrollmentToken("test", "t-1", "t", Map.of(), "", null, 0, "hash-" + db);
  }

  static StatusReport report(String booted, String staged, UpdatePhase phase, long bytes) {
    Instant at = Instant.parse("2026-01-01T00:00:00Z");
    Deployment b = new Deployment("r.example/os", booted, null, "a", 1, at, Health.HEALTHY);
    Deployment s = staged == null ? null : new Deployment("r.example/os", staged, null, "b", 2, at, Health.PENDING);
    return new StatusReport(new NodeStatus(b, s, null, List.of(), phase, null), bytes);
  }

  @Test
  void onlyAChangeOfWhatTheControllerReadsCountsAsChanged() {
    String serial = device("d-1", token());
    assertThat(store.report("d-1", serial, report(D1, null, UpdatePhase.IDLE, 0))).as("first report").isEqualTo(ReportResult.CHANGED);
    assertThat(store.report("d-1", serial, report(D1, null, UpdatePhase.IDLE, 5))).as("same again").isEqualTo(ReportResult.UNCHANGED);
    DeviceInfo d = store.device("d-1").orElseThrow().info();
    assertThat(d.bytesDownloaded()).as("an unchanged report still writes its counters").isEqualTo(5);
    assertThat(store.report("d-1", serial, report(D1, null, UpdatePhase.DOWNLOADING, 9))).isEqualTo(ReportResult.CHANGED);
    assertThat(store.report("d-1", serial, report(D1, D2, UpdatePhase.STAGED, 9))).isEqualTo(ReportResult.CHANGED);
    assertThat(store.report("d-1", serial, report(D2, null, UpdatePhase.IDLE, 9))).isEqualTo(ReportResult.CHANGED);
    d = store.device("d-1").orElseThrow().info();
    assertThat(d.bootedDigest()).isEqualTo(D2);
    assertThat(d.updatePhase()).isEqualTo(UpdatePhase.IDLE);
    assertThat(d.stagedDigest()).isNull();
    assertThat(store.report("d-1", "bad-serial", report(D2, null, UpdatePhase.IDLE, 9))).isEqualTo(ReportResult.NOT_ACTIVE);
    assertThat(store.report("d-nope", serial, report(D2, null, UpdatePhase.IDLE, 9))).isEqualTo(ReportResult.NOT_ACTIVE);
  }

  @Test
  void concurrentReportsEachLandWithTheirOwnAnswer() throws Exception {
    Store.EnrollmentTokenRecord t = token();
    int devices = 40;
    int perDevice = 25;
    List<String> serials = new ArrayList<>();
    for (int i = 0; i < devices; i++) serials.add(device("d-" + i, t));
    List<Future<List<ReportResult>>> fs = new ArrayList<>();
    try (ExecutorService ex = Executors.newVirtualThreadPerTaskExecutor()) {
      for (int i = 0; i < devices; i++) {
        int index = i;
        fs.add(ex.submit(() -> {
          List<ReportResult> out = new ArrayList<>();
          // odd devices use a wrong serial: their reports must fail alone, in whatever batch they land
          String serial = index % 2 == 0 ? serials.get(index) : "wrong";
          for (int n = 1; n <= perDevice; n++) out.add(store.report("d-" + index, serial, report(D1, null, UpdatePhase.IDLE, n)));
          return out;
        }));
      }
    }
    for (int i = 0; i < devices; i++) {
      List<ReportResult> r = fs.get(i).get();
      if (i % 2 == 0) {
        assertThat(r.getFirst()).isEqualTo(ReportResult.CHANGED);
        assertThat(r.subList(1, perDevice)).containsOnly(ReportResult.UNCHANGED);
        assertThat(store.device("d-" + i).orElseThrow().info().bytesDownloaded()).as("d-%d: the last report wins", i).isEqualTo(perDevice);
      } else {
        assertThat(r).containsOnly(ReportResult.NOT_ACTIVE);
        assertThat(store.device("d-" + i).orElseThrow().info().bytesDownloaded()).isZero();
      }
    }
  }
}

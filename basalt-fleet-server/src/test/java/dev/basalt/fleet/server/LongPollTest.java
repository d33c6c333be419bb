package dev.basalt.fleet.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.basalt.api.fleet.DesiredState;
import dev.basalt.api.fleet.FleetSpec;
import dev.basalt.fleet.client.DeviceClient;
import java.net.URI;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.Parameter;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.EnumSource;

/** Long-poll of the desired state: 304 after the wait, prompt 200 on a change, the wait capped. */
@ParameterizedClass
@EnumSource(TestFleet.Db.class)
class LongPollTest {
  static final String D1 = "sha256:" + "1a".repeat(32);
  static final String D2 = "sha256:" + "2b".repeat(32);

  @Parameter TestFleet.Db db;
  @TempDir Path dir;
  TestFleet fleet;
  DeviceClient c;
  DesiredState first;

  @BeforeEach
  void start() throws Exception {
    // a long controller interval: only the wake-up after the API change can make the poll return quickly
    fleet = new TestFleet(db, dir, b -> b.maxWait(Duration.ofSeconds(2)).controllerInterval(Duration.ofMinutes(5)));
    c = fleet.activeDevice("lp", Map.of("site", "lab"));
    fleet.admin.createFleet(new FleetSpec("lab", "site=lab", "r.example/os@" + D1, null, null));
    first = c.pollDesired(null, Duration.ZERO).orElseThrow();
    for (int i = 0; first.digest() == null && i < 100; i++) {
      Thread.sleep(20);
      first = c.pollDesired(null, Duration.ZERO).orElseThrow();
    }
    assertThat(first.digest()).isEqualTo(D1);
  }

  @AfterEach
  void stop() {
    fleet.close();
  }

  @Test
  void unchangedStateAnswers304AfterTheWait() throws Exception {
    long t0 = System.nanoTime();
    Optional<DesiredState> r = c.pollDesired(first.etag(), Duration.ofSeconds(1));
    Duration took = Duration.ofNanos(System.nanoTime() - t0);
    assertThat(r).isEmpty();
    assertThat(took).isBetween(Duration.ofMillis(900), Duration.ofSeconds(3));
    assertThat(c.pollDesired("\"0\"", Duration.ofSeconds(1))).as("a stale ETag answers at once").contains(first);
  }

  @Test
  void theWaitIsCappedByTheServer() throws Exception {
    long t0 = System.nanoTime();
    assertThat(c.pollDesired(first.etag(), Duration.ofSeconds(60))).isEmpty();
    assertThat(Duration.ofNanos(System.nanoTime() - t0)).isBetween(Duration.ofMillis(1900), Duration.ofSeconds(6));
  }

  @Test
  void aWaitingPollReturnsPromptlyWhenTheDesiredStateChanges() throws Exception {
    fleet.close();
    fleet = new TestFleet(db, dir.resolve("second"), b -> b.maxWait(Duration.ofSeconds(20)).controllerInterval(Duration.ofMinutes(5)));
    c = fleet.activeDevice("lp2", Map.of("site", "lab"));
    fleet.admin.createFleet(new FleetSpec("lab", "site=lab", "r.example/os@" + D1, null, null));
    DesiredState s = c.pollDesired(null, Duration.ZERO).orElseThrow();
    while (s.digest() == null) s = c.awaitDesired(s.etag());
    String etag = s.etag();
    CompletableFuture<Optional<DesiredState>> poll = CompletableFuture.supplyAsync(() -> {
      try {
        return c.pollDesired(etag, Duration.ofSeconds(20));
      } catch (Exception e) {
        throw new RuntimeException(e);
      }
    });
    Thread.sleep(500);
    assertThat(poll).as("still waiting").isNotDone();
    long t0 = System.nanoTime();
    fleet.admin.updateFleet(new FleetSpec("lab", "site=lab", "r.example/os@" + D2, null, null));
    Optional<DesiredState> r = poll.get(10, TimeUnit.SECONDS);
    Duration took = Duration.ofNanos(System.nanoTime() - t0);
    assertThat(r).isPresent();
    assertThat(r.get().digest()).isEqualTo(D2);
    assertThat(r.get().etag()).isNotEqualTo(etag);
    assertThat(took).as("woken by the change, not by the 20 s wait").isLessThan(Duration.ofSeconds(2));
    System.out.println("long-poll wake latency (" + db + "): " + took.toMillis() + " ms");
  }

  @Test
  void etagHeaderMatchesTheBody() throws Exception {
    HttpResponse<String> r = Raw.send(Raw.mtls(fleet.server.caCertificatePem(), dir.resolve("dev-lp")), "GET",
        URI.create("https://localhost:" + fleet.server.devicePort() + "/device/v1/desired"), null, null);
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.headers().firstValue("ETag")).hasValue(first.etag());
  }
}

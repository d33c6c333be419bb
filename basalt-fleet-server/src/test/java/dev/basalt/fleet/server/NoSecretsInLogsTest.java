package dev.basalt.fleet.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.basalt.api.fleet.AdminTokenRequest;
import dev.basalt.fleet.client.DeviceClient;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import java.util.logging.SimpleFormatter;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Runs a whole session (bootstrap, tokens, enrollment, bad requests, errors) with every logger at its most verbose
 * level and stdout/stderr captured, then checks that no secret appears anywhere but the one console line.
 */
class NoSecretsInLogsTest {
  @TempDir Path dir;

  @Test
  void secretsNeverReachTheLogs() throws Exception {
    List<String> records = new ArrayList<>();
    Handler capture = new Handler() {
      final SimpleFormatter f = new SimpleFormatter();

      @Override
      public void publish(LogRecord r) {
        records.add(f.format(r));
      }

      @Override
      public void flush() {}

      @Override
      public void close() {}
    };
    capture.setLevel(Level.ALL);
    Logger root = Logger.getLogger("");
    Level before = root.getLevel();
    root.setLevel(Level.ALL);
    root.addHandler(capture);
    PrintStream out = System.out;
    PrintStream err = System.err;
    ByteArrayOutputStream streams = new ByteArrayOutputStream();
    PrintStream both = new PrintStream(streams, true, StandardCharsets.UTF_8);
    System.setOut(both);
    System.setErr(both);
    List<String> secrets = new ArrayList<>();
    String console;
    try (TestFleet fleet = new TestFleet(TestFleet.Db.SQLITE, dir)) {
      secrets.add(fleet.adminToken);
      var et = fleet.token(Map.of(), "");
      secrets.add(et.token());
      var at = fleet.admin.createAdminToken(new AdminTokenRequest("ci", Set.of("admin"), null));
      secrets.add(at.token());
      DeviceClient c = fleet.device("s", et.token()).build();
      c.enroll(java.time.Duration.ofSeconds(10));
      c.pollDesired(null, java.time.Duration.ZERO);
      secrets.add(Files.readString(dir.resolve("dev-s/device.key")).lines().filter(l -> !l.startsWith("-----")).findFirst().orElseThrow());
      // errors on purpose: a wrong token, bad JSON carrying a token, a bad enrollment
      Raw.send(Raw.plain(), "GET", fleet.httpUri("/api/v1/devices"), at.token() + "x", null);
      Raw.send(Raw.plain(), "POST", fleet.httpUri("/api/v1/fleets"), at.token(), "{\"name\":\"" + at.token() + "\"");
      HttpResponse<String> r = Raw.send(Raw.mtls(fleet.server.caCertificatePem(), null), "POST",
          java.net.URI.create("https://localhost:" + fleet.server.devicePort() + "/device/v1/enroll"), null,
          "{\"token\":\"" + et.token() + "\",\"csr\":\"junk\"}");
      assertThat(r.statusCode()).isEqualTo(400);
      console = fleet.console.toString(StandardCharsets.UTF_8);
    } finally {
      System.setOut(out);
      System.setErr(err);
      root.removeHandler(capture);
      root.setLevel(before);
    }
    assertThat(records).as("logging was captured").isNotEmpty();
    String logs = String.join("", records) + streams.toString(StandardCharsets.UTF_8);
    for (String s : secrets) assertThat(logs).doesNotContain(s);
    assertThat(logs).doesNotContain("bst_").doesNotContain("bet_");
    assertThat(console).as("the bootstrap token is shown once, on the console").containsOnlyOnce(secrets.getFirst());
  }
}

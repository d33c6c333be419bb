package dev.basalt.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.basalt.api.ApiJson;
import dev.basalt.api.fleet.DeviceInfo;
import dev.basalt.api.fleet.DeviceState;
import dev.basalt.api.fleet.EnrollmentTokenRequest;
import dev.basalt.api.fleet.FleetInfo;
import dev.basalt.api.fleet.RolloutEventInfo;
import dev.basalt.fleet.client.AdminClient;
import dev.basalt.fleet.client.DeviceClient;
import dev.basalt.fleet.client.simulate.Simulator;
import dev.basalt.fleet.server.FleetServer;
import dev.basalt.testkit.LocalRegistry;
import dev.basalt.testkit.Tools;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.core.type.TypeReference;

/** {@code basalt fleet ...} against a real fleet server (SQLite) started in the test. */
class FleetCommandTest {
  static final String D1 = "sha256:" + "1a".repeat(32);
  @TempDir Path tmp;
  FleetServer server;
  String adminToken;
  Path tokenFile;
  String url;
  final List<Cli.Run> runs = new ArrayList<>();

  @BeforeEach
  void start() throws Exception {
    server = FleetServer.builder().dataDir(tmp.resolve("server")).bindAddress("127.0.0.1").httpPort(0).devicePort(0)
        .deviceHosts(List.of("localhost")).console(new PrintStream(new ByteArrayOutputStream(), true))
        .controllerInterval(Duration.ofMillis(100)).enrollRetryAfterSeconds(1).build().start();
    adminToken = server.bootstrapAdminToken().orElseThrow();
    tokenFile = Files.writeString(tmp.resolve("admin.token"), adminToken + "\n");
    url = "http://127.0.0.1:" + server.httpPort();
  }

  @AfterEach
  void stop() {
    server.close();
    FleetOptions.env = System::getenv;
    // never printed, whatever the command
    assertThat(runs).allSatisfy(r -> assertThat(r.out() + r.err()).doesNotContain(adminToken));
  }

  private Cli.Run fleet(String... args) {
    List<String> a = new ArrayList<>(List.of("fleet"));
    a.addAll(List.of(args));
    a.addAll(List.of("--server", url, "--token-file", tokenFile.toString()));
    Cli.Run r = Cli.run(a.toArray(String[]::new));
    runs.add(r);
    return r;
  }

  private DeviceClient device(String name, String token) throws Exception {
    return DeviceClient.builder().server(URI.create("https://localhost:" + server.devicePort())).stateDir(tmp.resolve("dev-" + name))
        .caCertificate(server.caCertificatePem()).enrollmentToken(token).name(name).retry(Duration.ofMillis(50), Duration.ofMillis(500))
        .pollJitter(Duration.ZERO).build();
  }

  private static CompletableFuture<String> enrollAsync(DeviceClient c) {
    return CompletableFuture.supplyAsync(() -> {
      try {
        return c.enroll(Duration.ofSeconds(30));
      } catch (Exception e) {
        throw new RuntimeException(e);
      }
    });
  }

  @Test
  void devicesFromEnrollmentToApprovalLabelsRevocationAndRejection() throws Exception {
    Path secret = tmp.resolve("enroll.token");
    Cli.Run created = fleet("enrollment-tokens", "create", "kiosk-image", "--label", "site=lab", "--secret-file", secret.toString()).ok();
    assertThat(created.out()).contains("created enrollment token et-").contains("written to " + secret);
    String token = Files.readString(secret).strip();
    assertThat(token).startsWith("bet_");
    assertThat(Files.getPosixFilePermissions(secret)).isEqualTo(PosixFilePermissions.fromString("rw-------"));
    assertThat(fleet("enrollment-tokens", "list").ok().out()).contains("kiosk-image").contains("site=lab").contains("0/unlimited")
        .doesNotContain(token);

    DeviceClient k1 = device("kiosk-1", token);
    DeviceClient k2 = device("kiosk-2", token);
    CompletableFuture<String> e1 = enrollAsync(k1);
    CompletableFuture<String> e2 = enrollAsync(k2);
    List<DeviceInfo> pending = awaitPending(2);
    String id1 = pending.stream().filter(d -> d.name().equals("kiosk-1")).findFirst().orElseThrow().id();
    String id2 = pending.stream().filter(d -> d.name().equals("kiosk-2")).findFirst().orElseThrow().id();
    assertThat(fleet("devices", "list", "--state", "pending").ok().out()).contains(id1).contains(id2).contains("pending");

    assertThat(fleet("devices", "approve", id1).ok().out()).contains("approved " + id1 + " (kiosk-1)");
    assertThat(e1.get(20, TimeUnit.SECONDS)).isEqualTo(id1);
    assertThat(fleet("devices", "reject", id1).exitCode()).isEqualTo(1);
    assertThat(runs.getLast().err()).contains("device " + id1 + " is active, not pending: use revoke or decommission");
    assertThat(fleet("devices", "reject", id2).ok().out()).contains("rejected " + id2);
    assertThat(e2).failsWithin(20, TimeUnit.SECONDS);

    String shown = fleet("devices", "label", id1, "tier=canary", "site-").ok().out();
    assertThat(shown).contains("labels:").contains("tier=canary").doesNotContain("site=lab");
    DeviceInfo json = ApiJson.read(fleet("devices", "show", id1, "--format", "json").ok().out(), DeviceInfo.class, "show");
    assertThat(json.labels()).containsExactlyEntriesOf(Map.of("tier", "canary"));
    assertThat(json.state()).isEqualTo(DeviceState.ACTIVE);

    assertThat(fleet("devices", "revoke", id1).ok().out()).contains("revoked " + id1);
    assertThat(fleet("devices", "list", "--state", "revoked", "--format", "json").ok().out()).contains(id1);
    fleet("devices", "decommission", id1).ok();
    assertThat(fleet("devices", "show", id1).exitCode()).isEqualTo(1);
    assertThat(runs.getLast().err()).contains("410").contains("decommissioned");

    String audit = fleet("audit", "--limit", "20").ok().out();
    assertThat(audit).contains("device.approve").contains("token:bootstrap");
  }

  private List<DeviceInfo> awaitPending(int n) throws Exception {
    AdminClient a = new AdminClient(URI.create(url), adminToken);
    long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
    while (true) {
      List<DeviceInfo> ds = a.devices(DeviceState.PENDING, null, null);
      if (ds.size() == n || System.nanoTime() > deadline) return ds;
      Thread.sleep(50);
    }
  }

  @Test
  void fleetsPinTagsThroughTheRegistryAndTakeAPolicy() throws Exception {
    Path rootfs = Files.createDirectories(tmp.resolve("rootfs/etc"));
    Files.writeString(rootfs.resolve("os-release"), "ID=test\n");
    String digest = Cli.run("image", "import", tmp.resolve("rootfs").toString(), "oci:" + tmp.resolve("img") + ":v1").ok().lastLine();
    try (LocalRegistry reg = LocalRegistry.start()) {
      String ref = "docker://" + reg.hostPort() + "/fleet/os:v1";
      Cli.run("copy", "--dest-tls-verify=false", "oci:" + tmp.resolve("img") + ":v1", ref).ok();
      assertThat(Tools.check("skopeo", "inspect", "--tls-verify=false", "--format", "{{.Digest}}", ref).strip()).isEqualTo(digest);

      assertThat(fleet("fleets", "create", "web", "--selector", "role=web").ok().out()).contains("web").contains("role=web");
      assertThat(fleet("fleets", "set-target", "web", ref, "--tls-verify=false").ok().out())
          .contains("fleet web now targets " + ref + "@" + digest);
      FleetInfo f = ApiJson.read(fleet("fleets", "show", "web", "--format", "json").ok().out(), FleetInfo.class, "show");
      assertThat(f.spec().targetRef()).isEqualTo(ref);
      assertThat(f.spec().targetDigest()).isEqualTo(digest);
    }
    // a reference with a digest is pinned as given (no registry); a partial policy merges onto the defaults
    fleet("fleets", "create", "edge", "--selector", "role=edge", "--target", "r.example/os@" + D1, "--policy", "{\"soak\":\"PT0S\"}").ok();
    List<FleetInfo> all = ApiJson.mapper().readValue(fleet("fleets", "list", "--format", "json").ok().out(), new TypeReference<List<FleetInfo>>() {});
    assertThat(all).extracting(i -> i.spec().name()).containsExactlyInAnyOrder("web", "edge");
    assertThat(all.stream().filter(i -> i.spec().name().equals("edge")).findFirst().orElseThrow().spec().policy()).containsEntry("soak", "PT0S");
    assertThat(fleet("fleets", "create", "bad", "--policy", "{\"waves\":5}").exitCode()).isEqualTo(1);
    assertThat(runs.getLast().err()).contains("unknown field \"waves\"");
    assertThat(fleet("rollouts", "status", "edge").exitCode()).isEqualTo(1);
    assertThat(runs.getLast().err()).contains("fleet edge has no rollout yet");
    fleet("fleets", "delete", "edge").ok();
    assertThat(fleet("fleets", "list").ok().out()).doesNotContain("edge");
  }

  static final String D2 = "sha256:" + "2b".repeat(32);
  static final String D3 = "sha256:" + "3c".repeat(32);
  static final Pattern ROLLOUT_ID = Pattern.compile("started rollout (\\S+) of edge");

  /** A rollout of four simulated devices from start to success, steered through the CLI only. */
  @Test
  void rolloutsStartStatusPauseResumeApproveAndFollowToTheEnd() throws Exception {
    fleet("fleets", "create", "edge", "--selector", "role=edge", "--target", "r.example/os@" + D1, "--policy",
        "{\"batches\":[\"50%\",\"100%\"],\"soak\":\"PT0S\",\"approvalGates\":[0]}").ok();
    AdminClient admin = new AdminClient(URI.create(url), adminToken);
    String et = admin.createEnrollmentToken(new EnrollmentTokenRequest("sim", Map.of("role", "edge"), "", null, 0)).token();
    try (Simulator sim = Simulator.builder().server(URI.create("https://localhost:" + server.devicePort())).caCertificate(server.caCertificatePem())
        .enrollmentToken(et).devices(4).initialImage("r.example/os", D1).timing(Duration.ZERO, Duration.ZERO).pollWait(Duration.ofSeconds(5))
        .build()) {
      sim.enroll();
      sim.start();
      String started = fleet("rollouts", "start", "edge", "r.example/os@" + D2).ok().out();
      Matcher m = ROLLOUT_ID.matcher(started);
      assertThat(m.find()).as(started).isTrue();
      String id = m.group(1);
      assertThat(started).contains("follow it with: basalt fleet rollouts status " + id + " --watch");

      // held at the gate of wave 0
      String held = fleet("rollouts", "status", id, "--watch", "--interval", "1s").ok().out();
      assertThat(held).contains("rollout " + id + " of fleet edge").contains("target:   r.example/os@" + D2)
          .contains("previous: r.example/os@" + D1).contains("WAITING_APPROVAL").contains("WAVE").contains("waiting");
      assertThat(held.strip().lines().toList().getLast()).contains("WAITING_APPROVAL").contains("0/2 waves done");

      assertThat(fleet("rollouts", "pause", "edge", "--reason", "hold on").ok().out()).contains("rollout " + id + " of edge PAUSED")
          .contains("reason: hold on");
      assertThat(fleet("rollouts", "status", "edge").ok().out()).contains("PAUSED").contains("reason:   hold on");
      assertThat(fleet("rollouts", "pause", id).exitCode()).as("already paused").isEqualTo(1);
      assertThat(runs.getLast().err()).contains("409").contains("PAUSED");
      assertThat(fleet("rollouts", "resume", id).ok().out()).contains("RUNNING");
      assertThat(fleet("rollouts", "approve", id, "--wave", "0").ok().out()).contains("rollout " + id);

      String watched = fleet("rollouts", "status", id, "--watch", "--interval", "1s").ok().out();
      assertThat(watched).contains("DEVICE_SUCCEEDED").contains("WAVE_SUCCEEDED wave 1");
      assertThat(watched.strip().lines().toList().getLast()).contains("SUCCEEDED").contains("2/2 waves done").contains("4 succeeded");
      assertThat(sim.bootedCounts()).containsExactly(Map.entry(D2, 4));

      assertThat(fleet("rollouts", "list", "edge").ok().out()).contains(id).contains("SUCCEEDED").contains("2/2").contains("token:bootstrap");
      List<RolloutEventInfo> events = ApiJson.mapper().readValue(fleet("rollouts", "events", id, "--format", "json").ok().out(),
          new TypeReference<List<RolloutEventInfo>>() {});
      assertThat(events).extracting(RolloutEventInfo::type).contains("PLANNED", "PAUSED", "RESUMED", "APPROVED").last().isEqualTo("SUCCEEDED");
      for (int i = 0; i < events.size(); i++) assertThat(events.get(i).seq()).isEqualTo(i + 1);
      assertThat(fleet("rollouts", "events", id, "--after", Long.toString(events.size() - 1)).ok().out().lines().toList())
          .hasSize(2).last().asString().contains("SUCCEEDED");

      // a new target for a fleet with a policy: the server starts a rollout, the fleet keeps its target meanwhile
      String set = fleet("fleets", "set-target", "edge", "r.example/os@" + D3).ok().out();
      assertThat(set).contains("fleet edge keeps target r.example/os@" + D2 + " while it rolls out r.example/os@" + D3);
      Matcher m2 = ROLLOUT_ID.matcher(set);
      assertThat(m2.find()).as(set).isTrue();
      assertThat(m2.group(1)).isNotEqualTo(id);
      assertThat(fleet("rollouts", "abort", "edge", "--reason", "not today").ok().out()).contains("rollout " + m2.group(1) + " of edge ABORTED")
          .contains("reason: not today");
      assertThat(fleet("rollouts", "status", "no-such-thing").exitCode()).isEqualTo(1);
      assertThat(runs.getLast().err()).contains("no rollout and no fleet is named 'no-such-thing'");
    }
  }

  @Test
  void tokensComeFromFlagsEnvOrConfigAndBadOnesAreNamed() throws Exception {
    Path newToken = tmp.resolve("reader.token");
    fleet("tokens", "create", "reader", "--scope", "fleet:read", "--secret-file", newToken.toString()).ok();
    String reader = Files.readString(newToken).strip();
    assertThat(fleet("tokens", "list").ok().out()).contains("reader").contains("fleet:read").doesNotContain(reader);

    // environment
    FleetOptions.env = Map.of("BASALT_FLEET_URL", url, "BASALT_FLEET_TOKEN", reader)::get;
    Cli.Run viaEnv = Cli.run("fleet", "fleets", "list");
    runs.add(viaEnv);
    assertThat(viaEnv.ok().out()).contains("NAME");
    Cli.Run forbidden = Cli.run("fleet", "tokens", "create", "x", "--scope", "admin");
    runs.add(forbidden);
    assertThat(forbidden.exitCode()).isEqualTo(1);
    assertThat(forbidden.err()).contains("403").contains("lacks scope admin").doesNotContain(reader);

    // config file
    FleetOptions.env = k -> null;
    Path cfg = Files.writeString(tmp.resolve("fleet.toml"), "server = \"" + url + "\"\ntoken-file = \"" + tokenFile + "\"\n");
    Cli.Run viaConfig = Cli.run("fleet", "ca", "--config", cfg.toString());
    runs.add(viaConfig);
    assertThat(viaConfig.ok().out()).isEqualTo(server.caCertificatePem());

    Cli.Run none = Cli.run("fleet", "devices", "list", "--config", tmp.resolve("none.toml").toString());
    assertThat(none.exitCode()).isEqualTo(1);
    assertThat(none.err()).contains("config file " + tmp.resolve("none.toml") + " does not exist");
    Cli.Run noServer = Cli.run("fleet", "devices", "list", "--token-file", tokenFile.toString());
    assertThat(noServer.err()).contains("no fleet server: give --server URL, set BASALT_FLEET_URL");
    Cli.Run badFormat = fleet("audit", "--format", "yaml");
    assertThat(badFormat.err()).contains("--format must be table or json, got 'yaml'");
    Path wrong = Files.writeString(tmp.resolve("wrong.token"), "bst_" + "x".repeat(40));
    Cli.Run unauthorized = Cli.run("fleet", "audit", "--server", url, "--token-file", wrong.toString());
    assertThat(unauthorized.err()).contains("401").contains("bearer token is not valid");
    assertThat(fleet("tokens", "revoke", "no-such").exitCode()).isEqualTo(1);
  }
}

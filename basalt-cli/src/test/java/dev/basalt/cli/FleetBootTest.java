package dev.basalt.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.basalt.api.Health;
import dev.basalt.api.fleet.DeviceInfo;
import dev.basalt.api.fleet.DeviceState;
import dev.basalt.api.fleet.EnrollmentTokenRequest;
import dev.basalt.api.fleet.FleetSpec;
import dev.basalt.api.fleet.RolloutEventInfo;
import dev.basalt.api.fleet.RolloutInfo;
import dev.basalt.api.fleet.RolloutRequest;
import dev.basalt.fleet.client.AdminClient;
import dev.basalt.fleet.server.FleetServer;
import dev.basalt.testkit.LocalRegistry;
import dev.basalt.testkit.QemuMachine;
import dev.basalt.testkit.Tools;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.regex.MatchResult;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * Issue 6 on a real machine: a node built by {@code basalt image build} with a {@code fleet:} section (server, pinned
 * CA, enrollment token baked in) boots under QEMU, its agent enrolls with a fleet server on the host (SQLite, device
 * listener at 10.0.2.2), the test approves it, the node reports v1 booted and healthy; a rollout to v2 (v1 + one
 * layer) makes the agent download and stage v2, the server releases the reboot, the agent reboots by itself, v2 boots on
 * trial, passes health, is blessed, is reported, and the rollout succeeds. Two boots.
 */
@Tag("boot")
class FleetBootTest {
  private static final Duration BOOT = Duration.ofMinutes(8);
  private static final Duration CMD = Duration.ofSeconds(90);
  private static final Duration STAGE = Duration.ofMinutes(20);
  private static final JsonMapper JSON = JsonMapper.builder().build();

  @TempDir Path tmp;
  private final List<String> timeline = new ArrayList<>();
  private long t0;

  private static Path repo() {
    Path d = Path.of("").toAbsolutePath();
    while (d != null && !Files.isRegularFile(d.resolve("fixtures/testos/build.sh"))) d = d.getParent();
    if (d == null) throw new AssertionError("fixtures/testos/build.sh not found");
    return d;
  }

  private void mark(String what) {
    String line = String.format("%6.0f s  %s", (System.nanoTime() - t0) / 1e9, what);
    timeline.add(line);
    System.out.println("[fleet-boot] " + line);
  }

  /** Another helper's VM must not compete for the 2 cores: waits (up to 20 min) until no foreign QEMU runs. */
  private void awaitNoOtherQemu(Path ours) throws Exception {
    long deadline = System.nanoTime() + Duration.ofMinutes(20).toNanos();
    while (true) {
      Tools.Result r = Tools.run(List.of("pgrep", "-af", "qemu-system"), null, 30);
      List<String> others = r.stdout().lines().filter(l -> !l.contains(ours.toString()) && !l.contains("pgrep")).toList();
      if (others.isEmpty() || System.nanoTime() > deadline) {
        if (!others.isEmpty()) mark("another QEMU still runs after 20 min; going ahead: " + others);
        return;
      }
      Thread.sleep(10_000);
    }
  }

  private static <T> T await(String what, Duration timeout, Callable<T> probe) throws Exception {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (true) {
      T v = probe.call();
      if (v != null) return v;
      if (System.nanoTime() > deadline) throw new AssertionError("timed out after " + timeout.toSeconds() + " s waiting for " + what);
      Thread.sleep(1000);
    }
  }

  private static JsonNode status(QemuMachine vm) {
    String out = vm.execOk("basalt status --format json 2>/dev/null", CMD);
    return JSON.readTree(out.substring(out.indexOf('{')));
  }

  /** {@code ./basalt ...} from jars (the node layer then carries the agent); returns stdout. */
  private static String basalt(Path root, String... args) throws Exception {
    List<String> cmd = new ArrayList<>(List.of(root.resolve("basalt").toString()));
    cmd.addAll(List.of(args));
    Tools.Result r = Tools.run(cmd, null, 1800).requireSuccess(cmd);
    System.out.print(r.stderr());
    return r.stdout();
  }

  @Test
  void aQemuNodeEnrollsIsApprovedAndIsUpdatedByARollout() throws Exception {
    for (String t : List.of("qemu-img", "qemu-system-x86_64", "docker-registry", "pgrep")) Tools.require(t);
    t0 = System.nanoTime();
    Path root = repo();
    List<String> build = List.of("bash", root.resolve("fixtures/testos/build.sh").toString(), "--print-dir");
    Path os = Path.of(Tools.run(build, null, 1800).requireSuccess(build).stdout().strip());
    String base = "oci:" + tmp.resolve("base") + ":latest";
    Cli.run("image", "import", "--compression", "gzip", os.resolve("rootfs.tar").toString(), base).ok();
    // kept after the run (a failed boot is diagnosed from it); the next run overwrites it
    Path console = Files.createDirectories(root.resolve("basalt-cli/target/boot-logs")).resolve("FleetBootTest-console.log");

    try (LocalRegistry reg = LocalRegistry.start();
        FleetServer server = FleetServer.builder().dataDir(tmp.resolve("server")).bindAddress("127.0.0.1").httpPort(0).devicePort(0)
            .deviceHosts(List.of("10.0.2.2")).console(new PrintStream(new ByteArrayOutputStream(), true))
            .controllerInterval(Duration.ofSeconds(1)).build().start()) {
      AdminClient admin = new AdminClient(URI.create("http://127.0.0.1:" + server.httpPort()), server.bootstrapAdminToken().orElseThrow());
      String token = admin.createEnrollmentToken(new EnrollmentTokenRequest("fleet-boot-image", Map.of("site", "lab"), null, null, 0)).token();
      String host = "docker://" + reg.hostPort() + "/fleet/os:";
      String guestRepo = "docker://10.0.2.2:" + reg.port() + "/fleet/os";

      // ---- v1: the test OS + a fleet section (server, CA pinned, token) + networking + the agent
      Path spec = Files.createDirectories(tmp.resolve("spec"));
      Files.writeString(spec.resolve("fleet-ca.pem"), server.caCertificatePem());
      Files.writeString(spec.resolve("os.yaml"), """
          base: %s
          files:
            - {path: /etc/hostname, contents: "fleet-node\\n"}
            - {path: /etc/basalt/fleet-token, contents: "%s\\n", mode: "0600"}
            - {path: /etc/basalt/agent.toml, contents: "tls-verify = false\\n"}
            - {path: /etc/systemd/network/10-e2e.network, contents: "[Match]\\nName=en*\\n[Network]\\nDHCP=ipv4\\n"}
          systemd:
            enable: [systemd-networkd.service]
          fleet:
            server: "https://10.0.2.2:%d"
            ca: fleet-ca.pem
          """.formatted(base, token, server.devicePort()));
      String d1 = basalt(root, "image", "build", "--agent", "--tls-verify=false", "-f", spec.resolve("os.yaml").toString(),
          "-t", host + "v1", "--cache-dir", tmp.resolve("cache").toString()).strip();
      // ---- v2: v1 + one small layer (no second node layer)
      Path spec2 = Files.createDirectories(tmp.resolve("spec2"));
      Files.writeString(spec2.resolve("os.yaml"), """
          base: %s
          files:
            - {path: /etc/basalt-e2e-version, contents: "fleet e2e v2\\n"}
          """.formatted(host + "v1"));
      String d2 = basalt(root, "image", "build", "--no-node-layer", "--tls-verify=false", "-f", spec2.resolve("os.yaml").toString(),
          "-t", host + "v2", "--cache-dir", tmp.resolve("cache").toString()).strip();
      assertThat(List.of(d1, d2)).allMatch(d -> d.matches("sha256:[0-9a-f]{64}")).doesNotHaveDuplicates();
      mark("images v1 " + d1 + " and v2 " + d2 + " built and pushed");

      Path disk = tmp.resolve("node.qcow2");
      Cli.Run made = Cli.run("disk", "--tls-verify=false", host + "v1", "-o", disk.toString(), "--image-ref", guestRepo + ":v1").ok();
      assertThat(made.err()).doesNotContain("(node layer added)");
      Tools.check("qemu-img", "resize", "-q", disk.toString(), "+3G");
      mark("disk built");

      // the fleet: its target is v1 (what the disk runs); a rollout policy with one batch and a short soak
      admin.createFleet(new FleetSpec("lab", "site=lab", guestRepo + ":v1", d1, Map.of("batches", List.of("all"), "soak", "PT15S")));

      awaitNoOtherQemu(disk);
      try (QemuMachine vm = QemuMachine.builder(disk).consoleLog(console).start()) {
        // ---- boot 1: v1; the agent enrolls and waits for approval
        vm.awaitConsole("basalt-health: boot is healthy", BOOT);
        MatchResult reconciled = vm.awaitConsole("basalt-agent: reconciled: ([^\n]*)\n", BOOT);
        assertThat(reconciled.group(1)).startsWith("booted slot a").contains("health healthy");
        vm.awaitConsole("basalt-agent: enrolling with https://10\\.0\\.2\\.2:" + server.devicePort() + "\n", BOOT);
        mark("boot 1 up (v1), agent enrolling");
        DeviceInfo pending = await("the device to enroll (PENDING)", Duration.ofMinutes(5),
            () -> admin.devices(DeviceState.PENDING, null, null).stream().findFirst().orElse(null));
        assertThat(pending.name()).isEqualTo("fleet-node");
        assertThat(pending.labels()).containsEntry("site", "lab");
        assertThat(admin.devices(null, null, null)).hasSize(1);
        String id = pending.id();
        assertThat(admin.approve(id).state()).isEqualTo(DeviceState.ACTIVE);
        mark("device " + id + " approved");
        assertThat(vm.awaitConsole("basalt-agent: enrolled as (\\S+)\n", BOOT).group(1)).isEqualTo(id);
        vm.awaitConsole("basalt-agent: up to date: \\S+ is " + d1 + "\n", CMD);
        DeviceInfo v1 = await("the device to report v1 booted and healthy", Duration.ofMinutes(3), () -> {
          DeviceInfo d = admin.device(id);
          return d1.equals(d.bootedDigest()) && d.health() == Health.HEALTHY ? d : null;
        });
        assertThat(v1.fleet()).isEqualTo("lab");
        assertThat(v1.slot()).isEqualTo("a");
        assertThat(v1.certificateSerial()).isNotNull();
        assertThat(v1.desired().digest()).isEqualTo(d1);
        mark("device reports v1 booted, healthy");

        vm.login("root", "basalt", BOOT);
        JsonNode s = status(vm);
        assertThat(s.at("/booted/slot").asString()).isEqualTo("a");
        assertThat(s.at("/booted/manifestDigest").asString()).isEqualTo(d1);
        assertThat(s.at("/booted/health").asString()).isEqualTo("healthy");
        // the identity is private to root: the key must not be readable by anyone else
        assertThat(vm.execOk("stat -c '%a %U %n' /var/lib/basalt/fleet /var/lib/basalt/fleet/device.key /var/lib/basalt/fleet/device.crt", CMD))
            .contains("700 root /var/lib/basalt/fleet\n", "600 root /var/lib/basalt/fleet/device.key\n", "600 root /var/lib/basalt/fleet/device.crt\n");
        assertThat(vm.execOk("systemctl is-active basalt-agent.service", CMD).strip()).isEqualTo("active");

        // ---- the rollout to v2: download first, then the reboot is released; the agent reboots by itself
        awaitNoOtherQemu(disk);
        RolloutInfo started = admin.startRollout("lab", new RolloutRequest(guestRepo + ":v2", d2, null));
        mark("rollout " + started.id() + " started");
        MatchResult staged = vm.awaitConsole("basalt-agent: staged " + d2 + " in slot b \\((\\d+) bytes downloaded\\); ([^\n]*)\n", STAGE);
        mark("v2 staged (" + staged.group(1) + " bytes downloaded; " + staged.group(2) + ")");
        if (!staged.group(2).equals("rebooting")) vm.awaitConsole("basalt-agent: " + d2 + " is staged and a reboot is allowed now; rebooting\n", BOOT);
        vm.awaitConsole("reboot: Restarting system", CMD);
        mark("the agent rebooted the node");

        // ---- boot 2: v2 on trial, healthy, blessed, reported; the rollout succeeds after the soak
        vm.awaitConsole("basalt-health: boot is healthy", BOOT);
        MatchResult blessed = vm.awaitConsole("basalt-bless: blessed (\\S+) \\(was (\\S+)\\)", BOOT);
        assertThat(blessed.group(1)).isEqualTo("basalt-00000002-b.conf");
        reconciled = vm.awaitConsole("basalt-agent: reconciled: ([^\n]*)\n", BOOT);
        assertThat(reconciled.group(1)).startsWith("booted slot b").contains("health healthy");
        mark("boot 2 up (v2, blessed)");
        RolloutInfo done = await("the rollout to succeed", Duration.ofMinutes(5), () -> {
          RolloutInfo r = admin.rollout(started.id());
          return r.active() ? null : r;
        });
        mark("rollout " + done.phase());
        assertThat(done.phase()).isEqualTo("SUCCEEDED");
        assertThat(done.targetDigest()).isEqualTo(d2);
        assertThat(done.previousDigest()).isEqualTo(d1);
        assertThat(done.succeededWaves()).isEqualTo(1);
        assertThat(done.stages()).containsEntry("SUCCEEDED", 1);
        List<RolloutEventInfo> events = admin.rolloutEvents(started.id());
        assertThat(events).extracting(RolloutEventInfo::type).contains("STARTED", "REBOOT_RELEASED", "DEVICE_SUCCEEDED");
        assertThat(events).filteredOn(e -> e.type().equals("DEVICE_SUCCEEDED")).singleElement()
            .extracting(RolloutEventInfo::deviceId).isEqualTo(id);
        DeviceInfo v2 = admin.device(id);
        assertThat(v2.bootedDigest()).isEqualTo(d2);
        assertThat(v2.slot()).isEqualTo("b");
        assertThat(v2.health()).isEqualTo(Health.HEALTHY);
        assertThat(v2.failedDigests()).isEmpty();
        assertThat(admin.fleet("lab").spec().targetDigest()).isEqualTo(d2);

        vm.login("root", "basalt", BOOT);
        s = status(vm);
        assertThat(s.at("/booted/slot").asString()).isEqualTo("b");
        assertThat(s.at("/booted/manifestDigest").asString()).isEqualTo(d2);
        assertThat(s.at("/booted/health").asString()).isEqualTo("healthy");
        assertThat(s.at("/rollback/manifestDigest").asString()).isEqualTo(d1);
        assertThat(vm.execOk("cat /etc/basalt-e2e-version", CMD).strip()).isEqualTo("fleet e2e v2");
        // the same identity after the update: no second enrollment
        assertThat(vm.execOk("cat /var/lib/basalt/fleet/device.id", CMD).strip()).isEqualTo(id);
        assertThat(admin.devices(null, null, null)).hasSize(1);
      } finally {
        System.out.println("[fleet-boot] console: " + console + "\n" + String.join("\n", timeline));
      }
    }
  }
}

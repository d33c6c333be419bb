package dev.basalt.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.basalt.api.UpdatePhase;
import dev.basalt.api.fleet.DeviceInfo;
import dev.basalt.api.fleet.EnrollmentTokenRequest;
import dev.basalt.api.fleet.FleetSpec;
import dev.basalt.fleet.client.AdminClient;
import dev.basalt.fleet.server.FleetServer;
import dev.basalt.fs.fat.Fat32Reader;
import dev.basalt.fs.gpt.GptPartition;
import dev.basalt.image.disk.DiskBuilder;
import dev.basalt.image.disk.DiskResult;
import dev.basalt.image.rootfs.MergedImage;
import dev.basalt.oci.api.Platform;
import dev.basalt.oci.ref.ImageReference;
import dev.basalt.oci.transport.TransportOptions;
import dev.basalt.oci.transport.Transports;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.URI;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code basalt agent --once} following a real fleet server (SQLite) on a disk image (--sysroot/--disk/--esp, no QEMU):
 * enrollment from agent.toml, the assigned digest staged, reboot as allowed, status reported, the pin enforced.
 */
class AgentFleetTest {
  @TempDir Path tmp;
  FleetServer server;

  @AfterEach
  void stop() {
    if (server != null) server.close();
  }

  @Test
  void theAgentEnrollsStagesTheAssignedDigestRebootsReportsAndRefusesAnotherDigest() throws Exception {
    String layout = tmp.resolve("layout").toString();
    String v1 = "oci:" + layout + ":v1";
    String v2 = "oci:" + layout + ":v2";
    String d1 = Cli.run("image", "import", NodeCommandsTest.rootfs(tmp, "1").toString(), v1).ok().lastLine();
    String d2 = Cli.run("image", "import", NodeCommandsTest.rootfs(tmp, "2").toString(), v2).ok().lastLine();
    Path disk = tmp.resolve("disk.raw");
    MergedImage image = MergedImage.resolve(Transports.openSource(ImageReference.parse(v1), TransportOptions.defaults()), Platform.LINUX_AMD64);
    DiskResult r = DiskBuilder.of(image).imageRef(v1).output(disk).espSize(64L << 20).rootSize(16L << 20).size(400L << 20).build();
    Path esp = Files.createDirectories(tmp.resolve("esp"));
    GptPartition p = r.table().find("esp").orElseThrow();
    try (FileChannel ch = FileChannel.open(disk, StandardOpenOption.READ)) {
      Fat32Reader fat = Fat32Reader.open(ch, p.offsetBytes(), p.sizeBytes());
      for (String f : List.of("loader/entries/" + r.entry(), "basalt/a/vmlinuz", "basalt/a/initrd.img")) {
        Files.createDirectories(esp.resolve(f).getParent());
        Files.write(esp.resolve(f), fat.readFile(f));
      }
    }
    Path sys = tmp.resolve("sysroot");
    Files.createDirectories(sys.resolve("proc/sys/kernel/random"));
    Files.writeString(sys.resolve("proc/cmdline"), r.options() + "\n");
    Files.writeString(sys.resolve("proc/sys/kernel/random/boot_id"), "boot-1\n");
    Files.createDirectories(sys.resolve("run/basalt"));
    Files.writeString(sys.resolve("run/basalt/health.status"), "passed\n"); // the health runner's verdict on this boot

    server = FleetServer.builder().dataDir(tmp.resolve("server")).bindAddress("127.0.0.1").httpPort(0).devicePort(0)
        .deviceHosts(List.of("localhost")).console(new PrintStream(new ByteArrayOutputStream(), true))
        .controllerInterval(Duration.ofMillis(100)).build().start();
    AdminClient admin = new AdminClient(URI.create("http://127.0.0.1:" + server.httpPort()), server.bootstrapAdminToken().orElseThrow());
    String token = admin.createEnrollmentToken(new EnrollmentTokenRequest("os-image", Map.of("site", "lab"), "", null, 0)).token();
    Path etc = Files.createDirectories(tmp.resolve("etc-basalt"));
    Files.writeString(etc.resolve("enrollment-token"), token + "\n");
    Files.writeString(etc.resolve("fleet-ca.pem"), server.caCertificatePem());
    Path config = Files.writeString(etc.resolve("agent.toml"), "server = \"https://localhost:" + server.devicePort() + "\"\n"
        + "enrollment-token-file = \"enrollment-token\"\nca = \"fleet-ca.pem\"\nname = \"node-1\"\n");
    admin.createFleet(new FleetSpec("lab", "site=lab", v2, d2, null));

    Path rebooted = tmp.resolve("rebooted");
    List<String> agent = List.of("agent", "--once", "--config", config.toString(), "--sysroot", sys.toString(), "--disk", disk.toString(),
        "--esp", esp.toString(), "--reboot-command", "touch " + rebooted);
    Cli.Run first = Cli.run(agent.toArray(String[]::new)).ok();
    assertThat(first.out()).contains("basalt-agent: enrolling with https://localhost:" + server.devicePort(), "basalt-agent: enrolled as ",
        "desired state ", v2 + "@" + d2, "staged " + d2 + " in slot b", "; rebooting");
    assertThat(first.lastLine()).isEqualTo("staged_rebooting");
    assertThat(rebooted).exists();
    assertThat(esp.resolve("loader/entries/basalt-00000002-b+3.conf")).exists();
    List<DeviceInfo> ds = admin.devices(null, null, null);
    assertThat(ds).singleElement().satisfies(d -> {
      assertThat(d.name()).isEqualTo("node-1");
      assertThat(d.fleet()).isEqualTo("lab");
      assertThat(d.slot()).isEqualTo("a"); // this disk records no digest for slot a, so none is reported
      assertThat(d.stagedDigest()).isEqualTo(d2);
      assertThat(d.updatePhase()).isEqualTo(UpdatePhase.STAGED);
    });
    assertThat(tmp.resolve("sysroot/var/lib/basalt/fleet/device.crt")).exists();

    // the next pass keeps the identity (no second enrollment) and, the digest staged and a reboot allowed, reboots
    Files.delete(rebooted);
    Cli.Run second = Cli.run(agent.toArray(String[]::new)).ok();
    assertThat(second.out()).doesNotContain("enrolling").contains(d2 + " is staged and a reboot is allowed now; rebooting");
    assertThat(rebooted).exists();
    assertThat(admin.devices(null, null, null)).hasSize(1);

    // a target whose reference resolves to another digest than the pinned one is refused
    admin.updateFleet(new FleetSpec("lab", "site=lab", v1, d2, null));
    Thread.sleep(500); // the controller assigns it
    Files.delete(rebooted);
    Cli.Run third = Cli.run(agent.toArray(String[]::new)).ok();
    assertThat(third.out()).contains(v1 + " is " + d1 + ", not the assigned " + d2 + ": not staged");
    assertThat(third.lastLine()).isEqualTo("digest_mismatch");
    assertThat(rebooted).doesNotExist();

    Cli.Run both = Cli.run("agent", "--once", "--config", Files.writeString(etc.resolve("bad.toml"),
        "server = \"https://x:1\"\nimage = \"docker://r/os:1\"\nenrollment-token-file = \"t\"\nca = \"c\"\n").toString(),
        "--sysroot", sys.toString(), "--disk", disk.toString(), "--esp", esp.toString());
    assertThat(both.exitCode()).isEqualTo(1);
    assertThat(both.err()).contains("image and server exclude each other");
  }
}

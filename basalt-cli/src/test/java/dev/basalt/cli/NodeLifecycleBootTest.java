package dev.basalt.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.basalt.testkit.LocalRegistry;
import dev.basalt.testkit.QemuMachine;
import dev.basalt.testkit.Tools;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.MatchResult;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * A node's life in QEMU, on one disk and one machine, against a registry on the host loopback:
 * v1 (built by `basalt disk`, from jars so the agent is in the node layer) boots -> `basalt
 * upgrade --apply` to v2 (v1 + one small layer) -> v2 boots on trial, passes health, is blessed
 * -> `rollback --apply` boots v1 in the other slot -> `rollback --apply` back to v2 -> upgrade to
 * v3 (v2 + a failing required health check, 2 tries) -> both trial boots fail and reboot ->
 * systemd-boot falls back to v2 by itself -> the agent records v3 failed -> `upgrade` refuses v3.
 * Seven boots.
 */
@Tag("boot")
class NodeLifecycleBootTest {
  private static final Duration BOOT = Duration.ofMinutes(8);
  private static final Duration CMD = Duration.ofSeconds(90);
  private static final Duration UPGRADE = Duration.ofMinutes(25);
  private static final JsonMapper JSON = JsonMapper.builder().build();

  @TempDir Path tmp;
  private final List<String> timeline = new ArrayList<>();
  private long t0;
  private int boots;

  private static Path repo() {
    Path d = Path.of("").toAbsolutePath();
    while (d != null && !Files.isRegularFile(d.resolve("fixtures/testos/build.sh"))) d = d.getParent();
    if (d == null) throw new AssertionError("fixtures/testos/build.sh not found");
    return d;
  }

  private void mark(String what) {
    String line = String.format("%6.0f s  %s", (System.nanoTime() - t0) / 1e9, what);
    timeline.add(line);
    System.out.println("[node-e2e] " + line);
  }

  /** Waits for a boot to come up healthy and the agent to have reconciled; logs in. */
  private MatchResult upHealthy(QemuMachine vm, String what) {
    boots++;
    vm.awaitConsole("basalt-health: boot is healthy", BOOT);
    MatchResult agent = vm.awaitConsole("basalt-agent: reconciled: ([^\n]*)\n", BOOT);
    vm.login("root", "basalt", BOOT);
    mark("boot " + boots + " up: " + what);
    return agent;
  }

  private static JsonNode status(QemuMachine vm) {
    String out = vm.execOk("basalt status --format json 2>/dev/null", CMD);
    return JSON.readTree(out.substring(out.indexOf('{')));
  }

  /** Tags {@code to} in an OCI layout: image {@code from} plus one gzip layer of {@code paths} under {@code dir} (GNU tar). */
  static void addLayer(Path layout, String from, String to, Path dir, String... paths) throws Exception {
    Path work = Files.createTempDirectory(dir.getParent(), "layer");
    Path tar = work.resolve("layer.tar");
    List<String> cmd = new ArrayList<>(List.of("tar", "--sort=name", "--owner=0", "--group=0", "--numeric-owner", "--mtime=@0",
        "--format=posix", "--pax-option=delete=atime,delete=ctime", "-C", dir.toString(), "-cf", tar.toString()));
    cmd.addAll(List.of(paths));
    Tools.check(cmd.toArray(String[]::new));
    Tools.check("gzip", "-n", "-k", tar.toString());
    String diffId = blob(layout, Files.readAllBytes(tar));
    byte[] gz = Files.readAllBytes(work.resolve("layer.tar.gz"));
    String layerDigest = blob(layout, gz);
    ObjectNode index = (ObjectNode) JSON.readTree(Files.readAllBytes(layout.resolve("index.json")));
    JsonNode src = null;
    for (JsonNode m : index.get("manifests")) {
      if (from.equals(m.at("/annotations/org.opencontainers.image.ref.name").asString())) src = m;
    }
    assertThat(src).as("tag %s in %s", from, layout).isNotNull();
    ObjectNode manifest = (ObjectNode) JSON.readTree(read(layout, src.get("digest").asString()));
    ObjectNode config = (ObjectNode) JSON.readTree(read(layout, manifest.at("/config/digest").asString()));
    ((ArrayNode) config.get("rootfs").get("diff_ids")).add(diffId);
    if (config.get("history") instanceof ArrayNode h) h.addObject().put("created_by", "e2e: " + String.join(" ", paths));
    byte[] configBytes = JSON.writeValueAsBytes(config);
    ((ObjectNode) manifest.get("config")).put("digest", blob(layout, configBytes)).put("size", configBytes.length);
    ((ArrayNode) manifest.get("layers")).addObject().put("mediaType", "application/vnd.oci.image.layer.v1.tar+gzip")
        .put("digest", layerDigest).put("size", gz.length);
    byte[] manifestBytes = JSON.writeValueAsBytes(manifest);
    ObjectNode desc = ((ArrayNode) index.get("manifests")).addObject();
    desc.put("mediaType", src.get("mediaType").asString()).put("digest", blob(layout, manifestBytes)).put("size", manifestBytes.length);
    desc.putObject("annotations").put("org.opencontainers.image.ref.name", to);
    Files.write(layout.resolve("index.json"), JSON.writeValueAsBytes(index));
  }

  private static byte[] read(Path layout, String digest) throws Exception {
    return Files.readAllBytes(layout.resolve("blobs/sha256/" + digest.substring(7)));
  }

  private static String blob(Path layout, byte[] bytes) throws Exception {
    String hex = java.util.HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256").digest(bytes));
    Files.write(layout.resolve("blobs/sha256/" + hex), bytes);
    return "sha256:" + hex;
  }

  @Test
  void upgradeTrialBlessRollbackFallbackAndRefusal() throws Exception {
    for (String t : List.of("qemu-img", "tar", "gzip", "qemu-system-x86_64", "docker-registry")) Tools.require(t);
    t0 = System.nanoTime();
    Path root = repo();
    List<String> build = List.of("bash", root.resolve("fixtures/testos/build.sh").toString(), "--print-dir");
    Path os = Path.of(Tools.run(build, null, 1800).requireSuccess(build).stdout().strip());

    // ---- images: v1 = the test OS; v2 = v1 + a small layer; v3 = v2 + a failing required check
    Path layout = tmp.resolve("layout");
    Cli.run("image", "import", "--compression", "gzip", os.resolve("rootfs.tar").toString(), "oci:" + layout + ":v1").ok();
    // (umoci 0.4.7's insert writes layers without tar padding or end marker, which Basalt rejects.)
    Path top2 = Files.createDirectories(tmp.resolve("top2/etc"));
    Files.writeString(top2.resolve("basalt-e2e-version"), "basalt e2e v2\n");
    addLayer(layout, "v1", "v2", tmp.resolve("top2"), "etc");
    Path top3 = Files.createDirectories(tmp.resolve("top3/usr/lib/basalt/health.d/required.d"));
    Path check = top3.resolve("99-e2e-fails");
    Files.writeString(check, "#!/bin/sh\necho 'v3 is broken on purpose'\nexit 1\n");
    Files.setPosixFilePermissions(check, java.nio.file.attribute.PosixFilePermissions.fromString("rwxr-xr-x"));
    addLayer(layout, "v2", "v3", tmp.resolve("top3"), "usr");
    mark("images built");

    try (LocalRegistry reg = LocalRegistry.start()) {
      String host = "docker://" + reg.hostPort() + "/e2e/testos:";
      String guest = "docker://10.0.2.2:" + reg.port() + "/e2e/testos:stable";
      Cli.run("copy", "--quiet", "--dest-tls-verify=false", "--digestfile", tmp.resolve("d1").toString(), "oci:" + layout + ":v1", host + "v1").ok();
      String v1 = Files.readString(tmp.resolve("d1")).strip();
      Cli.run("copy", "--quiet", "--dest-tls-verify=false", "--digestfile", tmp.resolve("d2").toString(), "oci:" + layout + ":v2", host + "v2").ok();
      Cli.run("copy", "--quiet", "--dest-tls-verify=false", "--digestfile", tmp.resolve("d3").toString(), "oci:" + layout + ":v3", host + "v3").ok();
      String v2 = Files.readString(tmp.resolve("d2")).strip();
      String v3 = Files.readString(tmp.resolve("d3")).strip();
      assertThat(List.of(v1, v2, v3)).doesNotHaveDuplicates();

      // ---- the disk, by basalt from jars (so the node layer carries the agent), following :stable
      Path disk = tmp.resolve("node.qcow2");
      List<String> mk = List.of(root.resolve("basalt").toString(), "disk", "--tls-verify=false", host + "v1",
          "-o", disk.toString(), "--image-ref", guest);
      Tools.Result made = Tools.run(mk, null, 1800).requireSuccess(mk);
      System.out.print(made.stdout() + made.stderr());
      Matcher rh = Pattern.compile("root hash ([0-9a-f]{64})").matcher(made.stdout());
      assertThat(rh.find()).isTrue();
      String v1Hash = rh.group(1);
      Tools.check("qemu-img", "resize", "-q", disk.toString(), "+3G");
      mark("disk built (v1, agent packaged)");

      try (QemuMachine vm = QemuMachine.builder(disk).consoleLog(tmp.resolve("console.log")).start()) {
        // ---- boot 1: v1, the fresh disk knows its deployment
        upHealthy(vm, "v1");
        vm.execOk("mkdir -p /etc/systemd/network && printf '[Match]\\nName=en*\\n[Network]\\nDHCP=ipv4\\n' > /etc/systemd/network/10-e2e.network"
            + " && systemctl enable --now systemd-networkd 2>&1 | tail -n 1", CMD);
        vm.execOk("for i in $(seq 60); do ip -4 route | grep -q '^default' && break; sleep 1; done; ip -4 route | grep '^default'", CMD);
        JsonNode s = status(vm);
        assertThat(s.at("/booted/slot").asString()).isEqualTo("a");
        assertThat(s.at("/booted/manifestDigest").asString()).isEqualTo(v1);
        assertThat(s.at("/booted/imageRef").asString()).isEqualTo(guest);
        assertThat(s.at("/booted/verityRootHash").asString()).isEqualTo(v1Hash);
        assertThat(s.at("/booted/health").asString()).isEqualTo("healthy");
        assertThat(vm.execOk("systemctl is-active basalt-agent.service", CMD).strip()).isEqualTo("active");

        // ---- upgrade to v2 (:stable now points to it)
        Cli.run("copy", "--quiet", "--tls-verify=false", host + "v2", host + "stable").ok();
        QemuMachine.ExecResult up = vm.exec("basalt upgrade --tls-verify=false 2>&1 | tail -n 5", UPGRADE);
        mark("upgrade v1 -> v2 staged: " + up.output().strip().replace('\n', ' '));
        assertThat(up.output()).contains("staged " + v2 + " in slot b");
        vm.reboot();
        vm.awaitConsole("reboot: Restarting system", CMD);

        // ---- boot 2: v2 on trial, healthy, blessed
        vm.awaitConsole("basalt-health: boot is healthy", BOOT);
        MatchResult blessed = vm.awaitConsole("basalt-bless: blessed (\\S+) \\(was (\\S+)\\)", BOOT);
        assertThat(blessed.group(1)).isEqualTo("basalt-00000002-b.conf");
        assertThat(blessed.group(2)).isEqualTo("basalt-00000002-b+2-1.conf");
        vm.awaitConsole("basalt-agent: reconciled: ", BOOT);
        vm.login("root", "basalt", BOOT);
        boots++;
        mark("boot " + boots + " up: v2 (trial, blessed)");
        assertThat(vm.execOk("cat /etc/basalt-e2e-version", CMD).strip()).isEqualTo("basalt e2e v2");
        s = status(vm);
        assertThat(s.at("/booted/slot").asString()).isEqualTo("b");
        assertThat(s.at("/booted/manifestDigest").asString()).isEqualTo(v2);
        assertThat(s.at("/booted/health").asString()).isEqualTo("healthy");
        assertThat(s.at("/rollback/slot").asString()).isEqualTo("a");
        assertThat(s.at("/rollback/manifestDigest").asString()).isEqualTo(v1);

        // ---- rollback --apply: boots v1 in slot a
        vm.sendLine("basalt rollback --apply");
        vm.awaitConsole("reboot: Restarting system", CMD);
        upHealthy(vm, "v1 (rollback)");
        s = status(vm);
        assertThat(s.at("/booted/slot").asString()).isEqualTo("a");
        assertThat(s.at("/booted/manifestDigest").asString()).isEqualTo(v1);
        assertThat(s.at("/rollback/manifestDigest").asString()).isEqualTo(v2);
        assertThat(vm.exec("test -e /etc/basalt-e2e-version", CMD).exitCode()).isNotZero();

        // ---- and back to v2
        vm.sendLine("basalt rollback --apply");
        vm.awaitConsole("reboot: Restarting system", CMD);
        upHealthy(vm, "v2 (rollback of the rollback)");
        assertThat(status(vm).at("/booted/manifestDigest").asString()).isEqualTo(v2);

        // ---- v3: its required check fails on both trial boots; systemd-boot falls back to v2
        Cli.run("copy", "--quiet", "--tls-verify=false", host + "v3", host + "stable").ok();
        vm.execOk("for i in $(seq 60); do ip -4 route | grep -q '^default' && break; sleep 1; done", CMD);
        up = vm.exec("basalt upgrade --tls-verify=false --tries 2 2>&1 | tail -n 5", UPGRADE);
        mark("upgrade v2 -> v3 staged: " + up.output().strip().replace('\n', ' '));
        assertThat(up.output()).contains("staged " + v3 + " in slot a");
        vm.reboot();
        vm.awaitConsole("reboot: Restarting system", CMD);
        for (int i = 1; i <= 2; i++) {
          vm.awaitConsole("basalt-health: required 99-e2e-fails: FAILED", BOOT);
          // the first failure spends a try; the last one (no try left) reboots to fall back
          vm.awaitConsole(i < 2 ? "basalt-health: required checks failed on \\S+: rebooting to spend a try"
              : "basalt-health: required checks failed on \\S+ and no try is left: rebooting to fall back to \\S+", CMD);
          boots++;
          mark("boot " + boots + ": v3 trial " + i + " failed its health check, rebooting");
          vm.awaitConsole("reboot: Restarting system", CMD);
        }
        MatchResult agent = upHealthy(vm, "v2 again (fallback by the bootloader)");
        assertThat(agent.group(1)).startsWith("booted slot b").contains("failed here: " + v3);
        s = status(vm);
        assertThat(s.at("/booted/slot").asString()).isEqualTo("b");
        assertThat(s.at("/booted/manifestDigest").asString()).isEqualTo(v2);
        assertThat(s.at("/failedDigests").toString()).contains(v3);
        assertThat(s.at("/lastError").asString()).contains("failed its trial boot");
        vm.execOk("for i in $(seq 60); do ip -4 route | grep -q '^default' && break; sleep 1; done", CMD);
        QemuMachine.ExecResult refused = vm.exec("basalt upgrade --tls-verify=false 2>&1", UPGRADE);
        mark("upgrade to v3 again: " + refused.output().strip().replace('\n', ' '));
        assertThat(refused.exitCode()).isNotZero();
        assertThat(refused.output()).contains(v3);
        assertThat(vm.execOk("ls /run/basalt/esp/loader/entries 2>/dev/null || (mount /dev/vda1 /mnt && ls /mnt/loader/entries; umount /mnt)", CMD))
            .doesNotContain("-a");
      } finally {
        System.out.println("[node-e2e] boots: " + boots + "\n" + String.join("\n", timeline));
      }
    }
  }
}

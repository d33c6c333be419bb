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
import tools.jackson.databind.json.JsonMapper;

/**
 * What a node must survive, in QEMU, on one disk against a registry on the host loopback (issues 8
 * and 5). v1 carries {@code /etc/basalt/policy.json}: images of the registry's e2e repository must
 * be cosign-signed by the test key. Boot 1 (v1): `basalt upgrade` to an unsigned v2 and to a v2
 * signed by another key is refused with the reason, nothing changed; v2 signed by the trusted key
 * (with its verity root hash) is accepted and, while its slot is being written, the power is cut
 * (SIGKILL of QEMU, the disk honouring flushes). Boot 2: v1 again, healthy, the status says the
 * update was interrupted and stages nothing; a new upgrade, to v4 (signed), completes. v4's kernel
 * arguments name a root partition that does not exist, so its two trial boots (3, 4) die in the
 * initramfs and reboot (panic=10); systemd-boot falls back to v1 by itself (boot 5) and the agent
 * records v4 failed. Five boots, two of them short.
 */
@Tag("boot")
class NodeSafetyBootTest {
  private static final Duration BOOT = Duration.ofMinutes(8);
  private static final Duration CMD = Duration.ofSeconds(90);
  private static final Duration UPGRADE = Duration.ofMinutes(25);
  private static final JsonMapper JSON = JsonMapper.builder().build();
  private static final String BAD_ROOT = "0badc0de-0000-4000-8000-0000000000e2";

  @TempDir Path tmp;
  private final List<String> timeline = new ArrayList<>();
  private long t0;
  private int boots;
  private Path basalt;

  private static Path repo() {
    Path d = Path.of("").toAbsolutePath();
    while (d != null && !Files.isRegularFile(d.resolve("fixtures/testos/build.sh"))) d = d.getParent();
    if (d == null) throw new AssertionError("fixtures/testos/build.sh not found");
    return d;
  }

  private void mark(String what) {
    String line = String.format("%6.0f s  %s", (System.nanoTime() - t0) / 1e9, what);
    timeline.add(line);
    System.out.println("[node-safety] " + line);
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

  /** Waits for DHCP (systemd-networkd, enabled on the first boot) to give a default route. */
  private static void network(QemuMachine vm) {
    vm.execOk("for i in $(seq 60); do ip -4 route | grep -q '^default' && break; sleep 1; done; ip -4 route | grep '^default'", CMD);
  }

  private static JsonNode status(QemuMachine vm) {
    String out = vm.execOk("basalt status --format json 2>/dev/null", CMD);
    return JSON.readTree(out.substring(out.indexOf('{')));
  }

  private static String entries(QemuMachine vm) {
    // the agent may hold the ESP mounted (on /run/basalt/esp) while it works
    return vm.execOk("d=$(findmnt -rn -o TARGET -S /dev/vda1 | head -n 1); if [ -n \"$d\" ]; then ls -1 \"$d/loader/entries\";"
        + " else mkdir -p /run/e2e-esp && mount -o ro /dev/vda1 /run/e2e-esp && ls -1 /run/e2e-esp/loader/entries;"
        + " umount /run/e2e-esp; fi", CMD).strip();
  }

  /** The jar-built CLI (as a user runs it), with the key password in the environment. */
  private Tools.Result basalt(String... args) {
    List<String> cmd = new ArrayList<>(List.of("env", "COSIGN_PASSWORD=secret", basalt.toString()));
    cmd.addAll(List.of(args));
    return Tools.run(cmd, null, 1800);
  }

  private Tools.Result basaltOk(String... args) {
    Tools.Result r = basalt(args);
    assertThat(r.exitCode()).as("basalt %s\n%s%s", String.join(" ", args), r.stdout(), r.stderr()).isZero();
    return r;
  }

  /** Signs {@code ref} with {@code key} and the slot's verity root hash; returns that hash. */
  private String sign(String ref, Path key) {
    Tools.Result r = basaltOk("image", "sign", "--tls-verify=false", "--with-root-hash", "--key", key.toString(), ref);
    Matcher m = Pattern.compile("verity root hash ([0-9a-f]{64})").matcher(r.stderr());
    assertThat(m.find()).as(r.stderr()).isTrue();
    return m.group(1);
  }

  @Test
  void refusesUnsignedSurvivesAPowerCutAndFallsBackFromAnUnbootableImage() throws Exception {
    for (String t : List.of("qemu-img", "tar", "gzip", "qemu-system-x86_64", "docker-registry")) Tools.require(t);
    t0 = System.nanoTime();
    Path root = repo();
    basalt = root.resolve("basalt");
    List<String> build = List.of("bash", root.resolve("fixtures/testos/build.sh").toString(), "--print-dir");
    Path os = Path.of(Tools.run(build, null, 1800).requireSuccess(build).stdout().strip());

    try (LocalRegistry reg = LocalRegistry.start()) {
      String host = "docker://" + reg.hostPort() + "/e2e/testos:";
      String guest = "docker://10.0.2.2:" + reg.port() + "/e2e/testos:stable";
      Path keys = Files.createDirectories(tmp.resolve("keys"));
      basaltOk("image", "keygen", "--output-key-prefix", keys.resolve("trusted").toString());
      basaltOk("image", "keygen", "--output-key-prefix", keys.resolve("other").toString());

      // ---- images: v1 = the test OS + the policy; v2 = v1 + a small layer; v4 = v1 + a kargs.d file
      // whose root= (after Basalt's own, so it wins) names a partition that does not exist
      Path layout = tmp.resolve("layout");
      Cli.run("image", "import", "--compression", "gzip", os.resolve("rootfs.tar").toString(), "oci:" + layout + ":base").ok();
      Path etc = Files.createDirectories(tmp.resolve("top1/etc/basalt/keys"));
      Files.copy(keys.resolve("trusted.pub"), etc.resolve("release.pub"));
      Files.writeString(etc.resolveSibling("policy.json"), """
          {"default": [{"type": "insecureAcceptAnything"}],
           "transports": {"docker": {"10.0.2.2:%d/e2e": [{"type": "sigstoreSigned",
             "keyPath": "/etc/basalt/keys/release.pub",
             "signedIdentity": {"type": "exactRepository", "dockerRepository": "%s/e2e/testos"}}]}}}
          """.formatted(reg.port(), reg.hostPort()));
      NodeLifecycleBootTest.addLayer(layout, "base", "v1", tmp.resolve("top1"), "etc");
      Path top2 = Files.createDirectories(tmp.resolve("top2/etc"));
      Files.writeString(top2.resolve("basalt-e2e-version"), "basalt e2e v2\n");
      NodeLifecycleBootTest.addLayer(layout, "v1", "v2", tmp.resolve("top2"), "etc");
      Path kargs = Files.createDirectories(tmp.resolve("top4/usr/lib/bootc/kargs.d"));
      Files.writeString(kargs.resolve("99-e2e-broken-root.toml"), "kargs = [\"root=PARTUUID=" + BAD_ROOT + "\"]\n");
      NodeLifecycleBootTest.addLayer(layout, "v1", "v4", tmp.resolve("top4"), "usr");
      List<String> digests = new ArrayList<>();
      for (String v : List.of("v1", "v2", "v4")) {
        Cli.run("copy", "--quiet", "--dest-tls-verify=false", "--digestfile", tmp.resolve("d-" + v).toString(),
            "oci:" + layout + ":" + v, host + v).ok();
        digests.add(Files.readString(tmp.resolve("d-" + v)).strip());
      }
      String v1 = digests.get(0);
      String v2 = digests.get(1);
      String v4 = digests.get(2);
      mark("images built and pushed");

      Path disk = tmp.resolve("node.qcow2");
      Tools.Result made = basaltOk("disk", "--tls-verify=false", host + "v1", "-o", disk.toString(), "--image-ref", guest);
      System.out.print(made.stdout() + made.stderr());
      Tools.check("qemu-img", "resize", "-q", disk.toString(), "+3G");
      mark("disk built (v1, agent packaged)");

      Path vars = tmp.resolve("OVMF_VARS.fd");
      QemuMachine.Builder machine = QemuMachine.builder(disk).varsFile(vars).cache("writeback");
      try (QemuMachine vm = machine.consoleLog(tmp.resolve("console-1.log")).start()) {
        // ---- boot 1: v1 enforces its policy
        upHealthy(vm, "v1");
        vm.execOk("mkdir -p /etc/systemd/network && printf '[Match]\\nName=en*\\n[Network]\\nDHCP=ipv4\\n' > /etc/systemd/network/10-e2e.network"
            + " && systemctl enable --now systemd-networkd 2>&1 | tail -n 1", CMD);
        network(vm);
        assertThat(vm.execOk("cat /etc/basalt/policy.json", CMD)).contains("sigstoreSigned");
        JsonNode s = status(vm);
        assertThat(s.at("/booted/slot").asString()).isEqualTo("a");
        assertThat(s.at("/booted/manifestDigest").asString()).isEqualTo(v1);
        String entriesBefore = entries(vm);
        assertThat(entriesBefore).isEqualTo("basalt-00000001-a.conf");

        Cli.run("copy", "--quiet", "--tls-verify=false", host + "v2", host + "stable").ok();
        QemuMachine.ExecResult unsigned = vm.exec("basalt upgrade --tls-verify=false 2>&1", UPGRADE);
        mark("unsigned v2: " + unsigned.output().strip().replace('\n', ' '));
        assertThat(unsigned.exitCode()).isNotZero();
        assertThat(unsigned.output()).contains("is rejected by", "policy.json", "no signatures found for " + v2);
        sign(host + "v2", keys.resolve("other.key"));
        QemuMachine.ExecResult other = vm.exec("basalt upgrade --tls-verify=false 2>&1", UPGRADE);
        mark("v2 signed by another key: " + other.output().strip().replace('\n', ' '));
        assertThat(other.exitCode()).isNotZero();
        assertThat(other.output()).contains("is rejected by", "policy.json", "not signed by any trusted key");
        s = status(vm);
        assertThat(s.at("/booted/manifestDigest").asString()).isEqualTo(v1);
        assertThat(s.at("/staged").isMissingNode() || s.at("/staged").isNull()).as("staged: %s", s).isTrue();
        assertThat(entries(vm)).isEqualTo(entriesBefore);

        // ---- v2 signed by the trusted key is accepted; the power is cut while its slot is written
        sign(host + "v2", keys.resolve("trusted.key"));
        vm.execOk("rm -f /run/up.log; setsid -f sh -c 'echo $$ > /run/up.pid; exec basalt upgrade --tls-verify=false"
            + " > /run/up.log 2>&1'", CMD);
        String cut = vm.execOk("""
            for i in $(seq 1200); do
              pid=$(cat /run/up.pid 2>/dev/null)
              phase=$(grep -o '"updatePhase" : "[a-z-]*"' /var/lib/basalt/state.json | cut -d'"' -f4)
              w=$(awk '/^write_bytes/ {print $2}' /proc/$pid/io 2>/dev/null)
              if [ "$phase" = writing-root ] && [ "${w:-0}" -gt 150000000 ]; then echo "cut: $phase, $w bytes written"; exit 0; fi
              if [ -n "$pid" ] && ! kill -0 "$pid" 2>/dev/null; then echo "upgrade ended before the cut:"; cat /run/up.log; exit 1; fi
              sleep 0.5
            done; echo "no progress:"; cat /run/up.log; exit 1
            """, UPGRADE);
        String log = vm.execOk("cat /run/up.log", CMD);
        vm.kill();
        mark("power cut (" + cut.strip() + ")");
        assertThat(log).contains("signature policy: ");
      }

      try (QemuMachine vm = machine.consoleLog(tmp.resolve("console-2.log")).start()) {
        // ---- boot 2: the old slot, healthy; nothing points at the half-written one
        MatchResult agent = upHealthy(vm, "v1 after the power cut");
        network(vm);
        assertThat(agent.group(1)).startsWith("booted slot a");
        JsonNode s = status(vm);
        assertThat(s.at("/booted/slot").asString()).isEqualTo("a");
        assertThat(s.at("/booted/manifestDigest").asString()).isEqualTo(v1);
        assertThat(s.at("/booted/health").asString()).isEqualTo("healthy");
        assertThat(s.at("/staged").isMissingNode() || s.at("/staged").isNull()).as("staged: %s", s).isTrue();
        assertThat(s.at("/updatePhase").asString()).isEqualTo("failed");
        assertThat(s.at("/lastError").asString()).contains("interrupted while writing");
        assertThat(entries(vm)).isEqualTo("basalt-00000001-a.conf");

        // ---- a new upgrade completes: v4, signed with its root hash, which the node's slot must match
        Cli.run("copy", "--quiet", "--tls-verify=false", host + "v4", host + "stable").ok();
        String v4Hash = sign(host + "v4", keys.resolve("trusted.key"));
        QemuMachine.ExecResult up = vm.exec("basalt upgrade --tls-verify=false --tries 2 2>&1 | tail -n 5", UPGRADE);
        mark("upgrade to v4: " + up.output().strip().replace('\n', ' '));
        // serial 2: the interrupted update never got as far as a serial
        assertThat(up.output()).contains("staged " + v4 + " in slot b as basalt-00000002-b+2.conf");
        s = status(vm);
        assertThat(s.at("/staged/manifestDigest").asString()).isEqualTo(v4);
        assertThat(s.at("/staged/verityRootHash").asString()).isEqualTo(v4Hash);
        assertThat(entries(vm)).isEqualTo("basalt-00000001-a.conf\nbasalt-00000002-b+2.conf");
        vm.reboot();
        vm.awaitConsole("reboot: Restarting system", CMD);

        // ---- boots 3 and 4: v4 cannot find its root; the initramfs reboots (panic=10), spending a try each
        for (int i = 1; i <= 2; i++) {
          vm.awaitConsole("Kernel command line: [^\n]*root=PARTUUID=" + BAD_ROOT, BOOT);
          vm.awaitConsole("Gave up waiting for root file system device", BOOT);
          vm.awaitConsole("Rebooting automatically due to panic= boot argument", CMD);
          boots++;
          mark("boot " + boots + ": v4 trial " + i + " died in the initramfs");
        }
        // ---- boot 5: systemd-boot falls back to v1 by itself
        agent = upHealthy(vm, "v1 again (fallback by the bootloader)");
        assertThat(agent.group(1)).startsWith("booted slot a").contains("failed here: " + v4);
        s = status(vm);
        assertThat(s.at("/booted/slot").asString()).isEqualTo("a");
        assertThat(s.at("/booted/manifestDigest").asString()).isEqualTo(v1);
        assertThat(s.at("/failedDigests").toString()).contains(v4);
        assertThat(s.at("/lastError").asString()).contains("failed its trial boot");
        // the agent, having recorded v4 failed, removed its spent entry (observed: only a's entry is left)
        assertThat(entries(vm)).isEqualTo("basalt-00000001-a.conf");
      } finally {
        System.out.println("[node-safety] boots: " + boots + "\n" + String.join("\n", timeline));
      }
    }
  }
}

package dev.basalt.image.build;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class BuildSpecTest {
  @TempDir Path dir;

  @Test
  void parsesEverySection() throws Exception {
    Files.writeString(dir.resolve("motd"), "hello\n");
    Files.writeString(dir.resolve("ca.pem"), "CA\n");
    Files.writeString(dir.resolve("cosign.pub"), "KEY\n");
    BuildSpec s = BuildSpec.parse("""
        base: oci:/tmp/base:latest
        layers: [oci:/tmp/extra:1]
        files:
          - {path: /etc/motd, source: motd, mode: "0600", owner: "0:0"}
          - {path: /etc/hostname, contents: "edge\\n"}
        groups: [{name: ops, gid: "2000"}]
        users:
          - name: alice
            password: "$6$salt$hash"
            ssh_keys: ["ssh-ed25519 AAAA alice"]
            groups: [ops]
        kernel: {args: [quiet, "console=ttyS0"]}
        systemd: {enable: [ssh.service], disable: [apt-daily.timer]}
        health: [{name: net, command: "ip route | grep -q default", required: false}]
        fleet: {server: "https://fleet.example:8443", ca: ca.pem}
        signing: {public_key: cosign.pub}
        labels: {org.example.role: edge}
        annotations: {org.opencontainers.image.title: edge}
        """, "os.yaml", dir);
    assertThat(s.base()).isEqualTo("oci:/tmp/base:latest");
    assertThat(s.files()).hasSize(2);
    assertThat(s.files().get(0).mode()).isEqualTo(0600);
    assertThat(s.files().get(0).source()).contains(dir.resolve("motd"));
    assertThat(s.users().get(0).groups()).containsExactly("ops");
    assertThat(s.groups().get(0).gid()).contains(2000L);
    assertThat(s.kernelArgs()).containsExactly("quiet", "console=ttyS0");
    assertThat(s.health().get(0).required()).isFalse();
    assertThat(s.fleet().orElseThrow().tokenFile()).isEqualTo("/etc/basalt/fleet-token");
    assertThat(s.labels()).containsEntry("org.example.role", "edge");
  }

  @ParameterizedTest
  @CsvSource({"0755, 493", "'\"0600\"', 384", "644, 420", "'\"4755\"', 2541"})
  void modesAreOctalQuotedOrNot(String yaml, int mode) throws Exception {
    BuildSpec s = BuildSpec.parse("base: x\nfiles:\n  - {path: /a, contents: b, mode: " + yaml + "}\n", "os.yaml", dir);
    assertThat(s.files().get(0).mode()).isEqualTo(mode);
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource(delimiter = '|', value = {
      "unknown top key|base: x\\nbogus: 1|os.yaml:2: unknown key 'bogus' in the spec",
      "unknown file key|base: x\\nfiles:\\n  - path: /a\\n    contents: b\\n    colour: red|os.yaml:5: unknown key 'colour'",
      "missing source|base: x\\nfiles:\\n  - path: /etc/a\\n    source: nope.txt|os.yaml:4: source 'nope.txt' of /etc/a does not exist",
      "bad mode|base: x\\nfiles:\\n  - path: /etc/a\\n    contents: b\\n    mode: '0999'|os.yaml:5: mode '0999' of /etc/a must be octal",
      "user without name|base: x\\nusers:\\n  - uid: '1000'|os.yaml:3: a user needs a 'name'",
      "plain password|base: x\\nusers:\\n  - name: bob\\n    password: secret|os.yaml:4: password of user 'bob' must be a crypt(3) hash",
      "missing base|labels: {a: b}|os.yaml:1: 'base' is required",
      "relative path|base: x\\nfiles: [{path: etc/a, contents: b}]|os.yaml:2: path 'etc/a' must be absolute",
      "bad unit|base: x\\nsystemd:\\n  enable: [sshd]|os.yaml:3: 'sshd' in systemd.enable is not a unit name",
      "bad yaml|base: [x|os.yaml:1: not valid YAML",
      "spaced karg|base: x\\nkernel:\\n  args: ['a b']|os.yaml:3: kernel argument 'a b' must be one word",
      "plain-http fleet|base: x\\nfleet:\\n  server: http://f:80\\n  ca: ca.pem|os.yaml:3: fleet.server 'http://f:80' is not an https:// URL",
      "fleet without ca|base: x\\nfleet:\\n  server: https://f:8443|os.yaml:3: fleet needs 'ca'",
  })
  void badSpecsPointAtTheLine(String name, String text, String message) {
    assertThatThrownBy(() -> BuildSpec.parse(text.replace("\\n", "\n"), "os.yaml", dir))
        .isInstanceOf(SpecException.class)
        .hasMessageStartingWith(message);
  }

  @Test
  void lockRoundTrips() throws Exception {
    Path f = dir.resolve("os.lock.yaml");
    BuildLock lock = new BuildLock(java.util.Map.of("oci:/a:b", dev.basalt.oci.api.Digest.sha256(new byte[] {1})));
    lock.write(f);
    assertThat(BuildLock.read(f)).isEqualTo(lock);
    assertThat(BuildLock.besideSpec(dir.resolve("os.yaml"))).isEqualTo(f);
    Files.writeString(f, "pins:\n  x: notadigest\n");
    assertThatThrownBy(() -> BuildLock.read(f)).hasMessageStartingWith(f + ":2: pin of x is not a digest");
  }
}

package dev.basalt.image.build;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.basalt.image.node.NodeLayer;
import dev.basalt.image.rootfs.MergedImage;
import dev.basalt.image.rootfs.RootfsImporter;
import dev.basalt.oci.api.Digest;
import dev.basalt.oci.api.ImageDestination;
import dev.basalt.oci.api.ImageSource;
import dev.basalt.oci.api.Platform;
import dev.basalt.oci.ref.ImageReference;
import dev.basalt.oci.transport.TransportOptions;
import dev.basalt.oci.transport.Transports;
import dev.basalt.testkit.LocalRegistry;
import dev.basalt.testkit.Tools;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ImageBuilderTest {
  @TempDir Path dir;
  Path base;
  Path spec;

  @BeforeEach
  void baseImage() throws Exception {
    Path root = dir.resolve("rootfs");
    Files.createDirectories(root.resolve("etc"));
    Files.createDirectories(root.resolve("root"));
    Files.setPosixFilePermissions(root.resolve("root"), java.nio.file.attribute.PosixFilePermissions.fromString("rwx------"));
    Files.writeString(root.resolve("etc/passwd"), "root:x:0:0:root:/root:/bin/bash\n");
    Files.writeString(root.resolve("etc/group"), "root:x:0:\nshadow:x:42:\nsudo:x:27:\n");
    Files.writeString(root.resolve("etc/shadow"), "root:*:19000:0:99999:7:::\n");
    base = dir.resolve("base");
    try (ImageDestination d = Transports.openDestination(ImageReference.parse("oci:" + base + ":latest"), TransportOptions.defaults())) {
      RootfsImporter.builder().workDir(dir).build().importTo(root, d);
    }
    Files.writeString(dir.resolve("motd"), "welcome\n");
    spec = dir.resolve("os.yaml");
    writeSpec("welcome");
  }

  void writeSpec(String hostname) throws Exception {
    Files.writeString(spec, """
        base: oci:%s:latest
        files:
          - {path: /etc/motd, source: motd}
          - {path: /etc/hostname, contents: "%s\\n", mode: "0644"}
        users:
          - {name: root, password: "$6$s$h", ssh_keys: ["ssh-ed25519 AAAA root@x"]}
          - {name: alice, ssh_keys: ["ssh-ed25519 AAAA alice@x"], groups: [sudo]}
        kernel: {args: [quiet]}
        systemd: {enable: [ssh.service], disable: [apt-daily.timer]}
        health: [{name: net, command: "true"}]
        labels: {org.example.role: test}
        """.formatted(base, hostname));
  }

  ImageBuilder builder() throws Exception {
    return ImageBuilder.builder().cacheDir(dir.resolve("cache")).created(Instant.ofEpochSecond(1700000000))
        .nodeLayer(NodeLayer.builder().mtime(1700000000).build()).build();
  }

  ImageBuilder.Result build(String dest) throws Exception {
    try (ImageDestination d = Transports.openDestination(ImageReference.parse(dest), TransportOptions.defaults())) {
      return builder().build(BuildSpec.parse(spec), BuildLock.read(BuildLock.besideSpec(spec)), false, d);
    }
  }

  @Test
  void sameInputsGiveTheSameDigestAndAOneFileChangeRebuildsOneLayer() throws Exception {
    ImageBuilder.Result a = build("oci:" + dir.resolve("out1") + ":v1");
    ImageBuilder.Result b = build("oci:" + dir.resolve("out2") + ":v1");
    assertThat(b.manifest().digest()).isEqualTo(a.manifest().digest());
    assertThat(a.layers()).extracting(ImageBuilder.Layer::origin).containsExactly("base", "customization", "node");
    assertThat(b.layers().get(1).cached()).isTrue();
    // skopeo, an independent reader, sees the same digest in the layout
    assertThat(Tools.check("skopeo", "inspect", "oci:" + dir.resolve("out2") + ":v1")).contains(a.manifest().digest().toString());

    writeSpec("changed");
    ImageBuilder.Result c = build("oci:" + dir.resolve("out1") + ":v2");
    assertThat(c.manifest().digest()).isNotEqualTo(a.manifest().digest());
    assertThat(c.layers().get(0).descriptor()).isEqualTo(a.layers().get(0).descriptor());
    assertThat(c.layers().get(2).descriptor()).isEqualTo(a.layers().get(2).descriptor());
    assertThat(c.layers().get(2).cached()).isTrue();
    assertThat(c.layers().get(1).descriptor().digest()).isNotEqualTo(a.layers().get(1).descriptor().digest());
    assertThat(c.layers().get(1).cached()).isFalse();
  }

  @Test
  void customizationLandsInTheMergedTree() throws Exception {
    build("oci:" + dir.resolve("out") + ":v1");
    try (ImageSource s = Transports.openSource(ImageReference.parse("oci:" + dir.resolve("out") + ":v1"), TransportOptions.defaults())) {
      MergedImage m = MergedImage.resolve(s, Platform.LINUX_AMD64);
      Collect c = new Collect();
      m.writeTo(() -> c);
      assertThat(c.text("etc/passwd")).isEqualTo("root:x:0:0:root:/root:/bin/bash\nalice:x:1000:1000::/var/home/alice:/bin/bash\n");
      assertThat(c.text("etc/group")).contains("sudo:x:27:alice\n", "alice:x:1000:\n");
      assertThat(c.text("etc/shadow")).startsWith("root:$6$s$h:19000:");
      assertThat(c.text("root/.ssh/authorized_keys")).isEqualTo("ssh-ed25519 AAAA root@x\n");
      assertThat(c.text("var/home/alice/.ssh/authorized_keys")).isEqualTo("ssh-ed25519 AAAA alice@x\n");
      assertThat(c.text("usr/lib/bootc/kargs.d/50-basalt-build.toml")).contains("kargs = [\"quiet\"]");
      assertThat(c.text("etc/motd")).isEqualTo("welcome\n");
      assertThat(c.links).containsEntry("etc/systemd/system/multi-user.target.wants/ssh.service", "/usr/lib/systemd/system/ssh.service")
          .containsEntry("etc/systemd/system/apt-daily.timer", "/dev/null");
      assertThat(c.modes).containsEntry("root", 0700).containsEntry("usr/lib/basalt/health.d/required.d/net", 0755);
      String config = new String(s.config(m.imageManifest()), StandardCharsets.UTF_8);
      assertThat(config).contains("\"created\":\"2023-11-14T22:13:20Z\"", "\"org.example.role\":\"test\"");
    }
  }

  @Test
  void pushesToTheRealRegistryWithTheSameDigest() throws Exception {
    ImageBuilder.Result local = build("oci:" + dir.resolve("out") + ":v1");
    try (LocalRegistry reg = LocalRegistry.start()) {
      TransportOptions o = TransportOptions.builder().tlsVerify(false).build();
      try (ImageDestination d = Transports.openDestination(ImageReference.parse("docker://" + reg.hostPort() + "/os/edge:1"), o)) {
        ImageBuilder.Result pushed = builder().build(BuildSpec.parse(spec), BuildLock.EMPTY, false, d);
        assertThat(pushed.manifest().digest()).isEqualTo(local.manifest().digest());
      }
      assertThat(Tools.check("skopeo", "inspect", "--tls-verify=false", "docker://" + reg.hostPort() + "/os/edge:1")).contains(local.manifest().digest().toString());
    }
  }

  @Test
  void aMovedPinFailsUnlessTheLockIsUpdated() throws Exception {
    ImageBuilder.Result first = build("oci:" + dir.resolve("out") + ":v1");
    String ref = "oci:" + base + ":latest";
    assertThat(first.lock().pins()).containsKey(ref);
    BuildLock stale = new BuildLock(Map.of(ref, Digest.sha256(new byte[] {7})));
    try (ImageDestination d = Transports.openDestination(ImageReference.parse("oci:" + dir.resolve("out2") + ":v1"), TransportOptions.defaults())) {
      assertThatThrownBy(() -> builder().build(BuildSpec.parse(spec), stale, false, d))
          .hasMessageContaining("is pinned to " + Digest.sha256(new byte[] {7}))
          .hasMessageContaining("--update-lock");
    }
    try (ImageDestination d = Transports.openDestination(ImageReference.parse("oci:" + dir.resolve("out3") + ":v1"), TransportOptions.defaults())) {
      assertThat(builder().build(BuildSpec.parse(spec), stale, true, d).lock()).isEqualTo(first.lock());
    }
  }

  @Test
  void layersImagesGoBetweenBaseAndCustomizationAndUmociAcceptsTheResult() throws Exception {
    Path extraRoot = dir.resolve("extra-root");
    Files.createDirectories(extraRoot.resolve("opt/app"));
    Files.writeString(extraRoot.resolve("opt/app/run"), "app\n");
    try (ImageDestination d = Transports.openDestination(ImageReference.parse("oci:" + dir.resolve("extra") + ":1"), TransportOptions.defaults())) {
      RootfsImporter.builder().workDir(dir).build().importTo(extraRoot, d);
    }
    Files.writeString(spec, Files.readString(spec).replace("files:", "layers: [\"oci:extra:1\"]\nfiles:"));
    ImageBuilder.Result r;
    try (ImageDestination d = Transports.openDestination(ImageReference.parse("oci:" + dir.resolve("out") + ":v1"), TransportOptions.defaults())) {
      r = ImageBuilder.builder().cacheDir(dir.resolve("cache")).specDir(dir).created(Instant.ofEpochSecond(1700000000))
          .build().build(BuildSpec.parse(spec), BuildLock.EMPTY, false, d);
    }
    assertThat(r.layers()).extracting(ImageBuilder.Layer::origin).containsExactly("base", "oci:extra:1", "customization");
    assertThat(r.lock().pins()).containsKeys("oci:extra:1", "oci:" + base + ":latest");
    // umoci checks each layer's diff_id against the config while unpacking
    Tools.check("umoci", "unpack", "--image", dir.resolve("out") + ":v1", dir.resolve("bundle").toString());
    assertThat(dir.resolve("bundle/rootfs/opt/app/run")).hasContent("app");
    assertThat(dir.resolve("bundle/rootfs/etc/motd")).hasContent("welcome");
    assertThat(Files.readString(dir.resolve("bundle/rootfs/etc/passwd"))).contains("alice:x:1000:1000:");
  }

  @Test
  void aConflictWithTheBaseFailsBeforeTheDestinationIsOpened() throws Exception {
    Files.writeString(spec, Files.readString(spec).replace("users:", "groups: [{name: sudo}]\nusers:"));
    boolean[] opened = {false};
    assertThatThrownBy(() -> builder().build(BuildSpec.parse(spec), BuildLock.EMPTY, false, () -> {
      opened[0] = true;
      throw new AssertionError("must not open");
    })).isInstanceOf(SpecException.class).hasMessage(spec + ":5: group 'sudo' already exists in the base image");
    assertThat(opened[0]).isFalse();
  }

  /** What the agent reads: the fleet keys in /etc/basalt/agent.toml (FleetConfig's names), the spec's own keys below. */
  @org.junit.jupiter.params.ParameterizedTest
  @org.junit.jupiter.params.provider.ValueSource(booleans = {false, true})
  void theFleetSectionWritesTheAgentsKeysAndKeepsTheSpecsOwnAgentToml(boolean ownAgentToml) throws Exception {
    Files.writeString(dir.resolve("fleet-ca.pem"), "-----BEGIN CERTIFICATE-----\nCA\n-----END CERTIFICATE-----\n");
    String fleet = "fleet: {server: \"https://10.0.2.2:8443\", ca: fleet-ca.pem}\n";
    String own = ownAgentToml ? "  - {path: /etc/basalt/agent.toml, contents: \"tls-verify = false\\n\", mode: \"0600\"}\n" : "";
    Files.writeString(spec, Files.readString(spec).replace("files:\n", fleet + "files:\n" + own));
    build("oci:" + dir.resolve("out") + ":v1");
    try (ImageSource s = Transports.openSource(ImageReference.parse("oci:" + dir.resolve("out") + ":v1"), TransportOptions.defaults())) {
      Collect c = new Collect();
      MergedImage.resolve(s, Platform.LINUX_AMD64).writeTo(() -> c);
      String keys = "# Fleet enrollment, written by basalt image build (read by basalt-agent).\nserver = \"https://10.0.2.2:8443\"\n"
          + "enrollment-token-file = \"/etc/basalt/fleet-token\"\nca = \"/etc/basalt/fleet-ca.pem\"\n";
      assertThat(c.text("etc/basalt/agent.toml")).isEqualTo(ownAgentToml ? keys + "\ntls-verify = false\n" : keys);
      assertThat(c.modes).containsEntry("etc/basalt/agent.toml", ownAgentToml ? 0600 : 0644);
      assertThat(c.text("etc/basalt/fleet-ca.pem")).startsWith("-----BEGIN CERTIFICATE-----");
      assertThat(c.files).doesNotContainKey("etc/basalt/fleet.toml");
    }
  }

  @org.junit.jupiter.params.ParameterizedTest
  @org.junit.jupiter.params.provider.CsvSource(delimiter = '|', value = {
      "server = 'https://x:1'|sets 'server', which the spec's fleet section writes",
      "image = 'docker://r/os:1'|sets 'image', which the spec's fleet section writes (with a fleet server, the server assigns the image)",
      "mode = |is not valid TOML"})
  void anAgentTomlThatClashesWithTheFleetSectionIsRefused(String toml, String message) throws Exception {
    Files.writeString(dir.resolve("fleet-ca.pem"), "CA\n");
    Files.writeString(dir.resolve("agent.toml"), toml + "\n");
    Files.writeString(spec, Files.readString(spec).replace("files:\n",
        "fleet: {server: \"https://f:8443\", ca: fleet-ca.pem}\nfiles:\n  - {path: /etc/basalt/agent.toml, source: agent.toml}\n"));
    boolean[] opened = {false};
    assertThatThrownBy(() -> builder().build(BuildSpec.parse(spec), BuildLock.EMPTY, false, () -> {
      opened[0] = true;
      throw new AssertionError("must not open");
    })).isInstanceOf(SpecException.class).hasMessageStartingWith("files: /etc/basalt/agent.toml ").hasMessageContaining(message);
    assertThat(opened[0]).as("destination opened").isFalse();
  }

  static final class Collect implements dev.basalt.fs.tree.TreeSink {
    final Map<String, byte[]> files = new java.util.HashMap<>();
    final Map<String, String> links = new java.util.HashMap<>();
    final Map<String, Integer> modes = new java.util.HashMap<>();

    @Override public void add(dev.basalt.fs.tree.TreeEntry e, java.io.InputStream in) throws java.io.IOException {
      switch (e) {
        case dev.basalt.fs.tree.TreeEntry.RegularFile f -> { files.put(f.path(), in.readAllBytes()); modes.put(f.path(), f.metadata().permissions()); }
        case dev.basalt.fs.tree.TreeEntry.Symlink l -> links.put(l.path(), l.target());
        case dev.basalt.fs.tree.TreeEntry.Directory d -> modes.put(d.path(), d.metadata().permissions());
        default -> {}
      }
    }

    @Override public void finish() {}

    String text(String p) {
      assertThat(files).containsKey(p);
      return new String(files.get(p), StandardCharsets.UTF_8);
    }
  }
}

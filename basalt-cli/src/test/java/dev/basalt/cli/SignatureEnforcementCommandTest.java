package dev.basalt.cli;

import static dev.basalt.cli.ImageKeygenCommandTest.withStdin;
import static org.assertj.core.api.Assertions.assertThat;

import dev.basalt.fs.fat.Fat32Reader;
import dev.basalt.fs.gpt.GptPartition;
import dev.basalt.image.disk.DiskBuilder;
import dev.basalt.image.disk.DiskResult;
import dev.basalt.image.rootfs.MergedImage;
import dev.basalt.oci.api.Digest;
import dev.basalt.oci.api.Platform;
import dev.basalt.oci.api.RawManifest;
import dev.basalt.oci.ref.DockerReference;
import dev.basalt.oci.ref.ImageReference;
import dev.basalt.oci.registry.CredentialStore;
import dev.basalt.oci.registry.RegistryClient;
import dev.basalt.oci.sign.CosignKeys;
import dev.basalt.oci.sign.CosignSignature;
import dev.basalt.oci.sign.ImageSigning;
import dev.basalt.oci.sign.RegistrySignatures;
import dev.basalt.oci.sign.SimpleSigningPayload;
import dev.basalt.oci.transport.TransportOptions;
import dev.basalt.oci.transport.Transports;
import dev.basalt.testkit.LocalRegistry;
import dev.basalt.testkit.Tools;
import java.io.IOException;
import java.io.InputStream;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.KeyPair;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * {@code basalt disk --verify/--policy/$BASALT_POLICY}, {@code basalt image sign --with-root-hash} and
 * {@code basalt switch/upgrade} with the node's /etc/basalt policy, against the real registry.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class SignatureEnforcementCommandTest {
  LocalRegistry registry;
  RegistryClient client;
  Path work;
  Path key;
  Path pub;
  Path otherKey;
  KeyPair trusted;
  String layout;

  @BeforeAll
  void setUp() throws IOException {
    registry = LocalRegistry.start();
    client = RegistryClient.builder(registry.hostPort()).tlsVerify(false).credentialStore(CredentialStore.of(List.of()))
        .build();
    work = Files.createTempDirectory("basalt-enforce-cli");
    withStdin("secret\n", "image", "keygen", "--output-key-prefix", work.resolve("cosign").toString()).ok();
    withStdin("other\n", "image", "keygen", "--output-key-prefix", work.resolve("other").toString()).ok();
    key = work.resolve("cosign.key");
    pub = work.resolve("cosign.pub");
    otherKey = work.resolve("other.key");
    trusted = new KeyPair(CosignKeys.readPublicKey(Files.readAllBytes(pub), "pub"),
        CosignKeys.decrypt(Files.readAllBytes(key), "secret".toCharArray(), "key"));
    layout = work.resolve("layout").toString();
    for (String v : List.of("1", "2", "3")) {
      Cli.run("image", "import", NodeCommandsTest.rootfs(work, v).toString(), "oci:" + layout + ":v" + v).ok();
    }
  }

  @AfterAll
  void tearDown() {
    client.close();
    registry.close();
    Tools.run(List.of("rm", "-rf", work.toString()));
  }

  @AfterEach
  void resetEnv() {
    DiskCommand.env = System::getenv;
  }

  String push(String version, String repoTag) {
    String ref = "docker://" + registry.hostPort() + "/" + repoTag;
    Cli.run("copy", "-q", "--dest-tls-verify=false", "oci:" + layout + ":v" + version, ref).ok();
    return ref;
  }

  Cli.Run sign(String ref, Path k, String password, String... more) {
    List<String> args = new ArrayList<>(List.of("image", "sign", "--tls-verify=false", "--key", k.toString()));
    args.addAll(List.of(more));
    args.add(ref);
    return withStdin(password + "\n", args.toArray(String[]::new));
  }

  Digest signWithClaims(String ref, Map<String, String> claims) throws IOException {
    return ImageSigning.sign(client, DockerReference.parse(ref.substring(9)), trusted.getPrivate(), true, false, null,
        claims).manifest();
  }

  static String rootHashOf(Cli.Run signRun) {
    String err = signRun.err();
    int i = err.indexOf("verity root hash ");
    assertThat(i).as(err).isPositive();
    return err.substring(i + 17, i + 17 + 64);
  }

  /** The refusal cases: a name, the reference, and what the reason must say. */
  List<String[]> refusals(String prefix) throws IOException {
    List<String[]> out = new ArrayList<>();
    String unsigned = push("2", prefix + "unsigned:v2");
    out.add(new String[] {"unsigned", unsigned, "no signatures found for"});

    String other = push("2", prefix + "other:v2");
    sign(other, otherKey, "other", "--format", "simple-signing").ok();
    out.add(new String[] {"other key", other, "not signed by any trusted key"});

    String tampered = push("2", prefix + "tampered:v2");
    signWithClaims(tampered, Map.of());
    String repo = prefix + "tampered";
    RawManifest orig = client.fetchManifest(repo, "v2");
    RawManifest evil = RawManifest.of(new String(orig.bytes(), StandardCharsets.UTF_8)
        .replaceFirst("\\{", "{\"annotations\":{\"x\":\"evil\"},").getBytes(StandardCharsets.UTF_8), orig.mediaType());
    client.pushManifest(repo, "v2", evil);
    out.add(new String[] {"tampered", tampered, "no signatures found for " + evil.digest()});

    String src = push("1", prefix + "replay:v1");
    Digest d1 = signWithClaims(src, Map.of());
    String replayed = push("3", prefix + "replay:v3");
    RegistrySignatures store = new RegistrySignatures(client, prefix + "replay");
    CosignSignature s1 = store.simpleSignatures(d1).getFirst();
    Digest d3 = client.fetchManifest(prefix + "replay", "v3").digest();
    store.appendSignature(d3, s1);
    out.add(new String[] {"replayed", replayed, "signature is for manifest " + d1 + ", not " + d3});

    String moved = push("1", prefix + "moved:latest");
    signWithClaims(moved, Map.of());
    push("3", prefix + "moved:latest");
    out.add(new String[] {"tag signed, digest not", moved, "no signatures found for " + d3});
    return out;
  }

  @Test
  void diskRefusesEachBadSignatureBeforeWritingAndAcceptsTheTrustedOne() throws Exception {
    for (String[] c : refusals("disk/")) {
      Path out = work.resolve("refused.raw");
      Cli.Run r = Cli.run("disk", "--tls-verify=false", "--verify", pub.toString(), "-o", out.toString(), c[1]);
      assertThat(r.exitCode()).as(c[0] + ": " + r.err()).isEqualTo(1);
      assertThat(r.err()).as(c[0]).contains("signature policy refuses " + c[1], c[2]);
      assertThat(out).as(c[0]).doesNotExist();
      try (Stream<Path> s = Files.list(work)) {
        assertThat(s.map(p -> p.getFileName().toString())).as(c[0]).noneMatch(n -> n.startsWith(".refused.raw"));
      }
    }
    // signed with the root hash: the disk's root-a is exactly the signed slot
    String good = push("2", "disk/good:v2");
    Cli.Run signed = sign(good, key, "secret", "--with-root-hash").ok();
    String hash = rootHashOf(signed);
    Path out = work.resolve("good.raw");
    Cli.Run r = Cli.run("disk", "--tls-verify=false", "--verify", pub.toString(), "-o", out.toString(), good).ok();
    assertThat(r.err()).contains("root-a verity root hash " + hash + " matches the signed one");
    assertThat(r.out()).contains(hash);
    Files.delete(out);
  }

  @Test
  void diskTakesAPolicyFileOrBasaltPolicyAndRefusesAWrongSignedRootHash() throws Exception {
    Path policy = work.resolve("policy.json");
    Files.writeString(policy, "{\"default\":[{\"type\":\"reject\"}],\"transports\":{\"docker\":{\"" + registry.hostPort()
        + "/policy\":[{\"type\":\"sigstoreSigned\",\"keyPath\":\"" + pub + "\",\"signedIdentity\":{\"type\":\"matchRepository\"}}]}}}");
    String ref = push("2", "policy/app:v2");
    Path out = work.resolve("policy.raw");
    Cli.Run unsigned = Cli.run("disk", "--tls-verify=false", "--policy", policy.toString(), "-o", out.toString(), ref);
    assertThat(unsigned.exitCode()).isEqualTo(1);
    assertThat(unsigned.err()).contains("is rejected by " + policy, "no signatures found");
    DiskCommand.env = n -> n.equals("BASALT_POLICY") ? policy.toString() : null;
    assertThat(Cli.run("disk", "--tls-verify=false", "-o", out.toString(), ref).err()).contains("is rejected by " + policy);
    assertThat(out).doesNotExist();

    String wrong = "ab".repeat(32);
    signWithClaims(ref, Map.of(SimpleSigningPayload.ROOT_HASH, wrong));
    Cli.Run bad = Cli.run("disk", "--tls-verify=false", "-o", out.toString(), ref);
    assertThat(bad.exitCode()).isEqualTo(1);
    assertThat(bad.err()).contains("but its signature vouches for " + wrong, "removed " + out);
    assertThat(out).doesNotExist();
    // with --config, root-a differs by design: the policy still applies, the hash is not compared
    Path cfg = work.resolve("config.toml");
    Files.writeString(cfg, "hostname = \"n1\"\n");
    Cli.Run withCfg = Cli.run("disk", "--tls-verify=false", "--config", cfg.toString(), "-o", out.toString(), ref).ok();
    assertThat(withCfg.err()).contains("signed root hash is not compared");
    Files.delete(out);
  }

  /** A node booted from v1 on a disk file, trusting cosign.pub in its /etc/basalt/keys. */
  record Node(Path disk, Path esp, Path sysroot, List<String> at, DiskResult built) {}

  Node node(String name) throws IOException {
    Path dir = Files.createDirectories(work.resolve(name));
    Path disk = dir.resolve("disk.raw");
    MergedImage image = MergedImage.resolve(Transports.openSource(ImageReference.parse("oci:" + layout + ":v1"),
        TransportOptions.defaults()), Platform.LINUX_AMD64);
    DiskResult r = DiskBuilder.of(image).output(disk).espSize(64L << 20).rootSize(16L << 20).size(400L << 20).build();
    Path esp = Files.createDirectories(dir.resolve("esp"));
    GptPartition p = r.table().find("esp").orElseThrow();
    try (FileChannel ch = FileChannel.open(disk, StandardOpenOption.READ)) {
      Fat32Reader fat = Fat32Reader.open(ch, p.offsetBytes(), p.sizeBytes());
      for (String f : List.of("loader/entries/" + r.entry(), "basalt/a/vmlinuz", "basalt/a/initrd.img")) {
        Files.createDirectories(esp.resolve(f).getParent());
        Files.write(esp.resolve(f), fat.readFile(f));
      }
    }
    Path sys = dir.resolve("sysroot");
    Files.createDirectories(sys.resolve("proc/sys/kernel/random"));
    Files.writeString(sys.resolve("proc/cmdline"), r.options() + "\n");
    Files.writeString(sys.resolve("proc/sys/kernel/random/boot_id"), "boot-1\n");
    Files.createDirectories(sys.resolve("etc/basalt/keys"));
    Files.copy(pub, sys.resolve("etc/basalt/keys/release.pub"));
    List<String> at = List.of("--sysroot", sys.toString(), "--disk", disk.toString(), "--esp", esp.toString());
    Cli.run(args("status", at)).ok();
    return new Node(disk, esp, sys, at, r);
  }

  static String[] args(String cmd, List<String> at, String... more) {
    List<String> a = new ArrayList<>(List.of(cmd));
    a.addAll(at);
    a.addAll(List.of(more));
    return a.toArray(String[]::new);
  }

  /** root-a, every ESP file and the state file: what a refusal must leave as it was. */
  static String fingerprint(Node n) throws Exception {
    MessageDigest md = MessageDigest.getInstance("SHA-256");
    GptPartition a = n.built().table().find("root-a").orElseThrow();
    try (FileChannel ch = FileChannel.open(n.disk(), StandardOpenOption.READ);
        InputStream in = java.nio.channels.Channels.newInputStream(ch.position(a.offsetBytes()))) {
      byte[] buf = new byte[1 << 16];
      long left = a.sizeBytes();
      while (left > 0) {
        int k = in.read(buf, 0, (int) Math.min(buf.length, left));
        md.update(buf, 0, k);
        left -= k;
      }
    }
    try (Stream<Path> s = Files.walk(n.esp())) {
      for (Path p : s.sorted().toList()) {
        md.update(n.esp().relativize(p).toString().getBytes(StandardCharsets.UTF_8));
        if (Files.isRegularFile(p)) md.update(Files.readAllBytes(p));
      }
    }
    String state = Files.readString(n.sysroot().resolve("var/lib/basalt/state.json"));
    md.update(state.replaceAll("\"(updatePhase|lastError)\" : (\"[^\"]*\"|null)", "").getBytes(StandardCharsets.UTF_8));
    return HexFormat.of().formatHex(md.digest());
  }

  @Test
  void switchWithEnforcedSignaturesRefusesEachBadSignatureAndStagesTheTrustedOne() throws Exception {
    Node n = node("node-enforce");
    for (String[] c : refusals("node/")) {
      String before = fingerprint(n);
      Cli.Run r = Cli.run(args("switch", n.at(), "--tls-verify=false", "--enforce-signatures", c[1]));
      assertThat(r.exitCode()).as(c[0] + ": " + r.err()).isEqualTo(1);
      assertThat(r.err()).as(c[0]).contains("basalt switch: error: signature policy refuses " + c[1], c[2]);
      assertThat(fingerprint(n)).as(c[0]).isEqualTo(before);
    }
    // without the flag and without /etc/basalt/policy.json nothing is enforced: the unsigned one would stage

    String good = push("2", "node/good:v2");
    String hash = rootHashOf(sign(good, key, "secret", "--with-root-hash").ok());
    Cli.Run ok = Cli.run(args("switch", n.at(), "--tls-verify=false", "--enforce-signatures", good)).ok();
    assertThat(ok.err()).contains("signature policy: signature", "staged ");
    assertThat(Cli.run(args("status", n.at(), "--format", "json")).ok().out())
        .contains("\"verityRootHash\" : \"" + hash + "\"");
  }

  @Test
  void thePolicyInEtcBasaltAppliesByDefaultAndAWrongRootHashIsNotCommitted() throws Exception {
    Node n = node("node-policy");
    Files.writeString(n.sysroot().resolve("etc/basalt/policy.json"), "{\"default\":[{\"type\":\"sigstoreSigned\","
        + "\"keyPath\":\"keys/release.pub\",\"signedIdentity\":{\"type\":\"matchRepository\"}}]}");
    String ref = push("2", "nodepolicy/app:v2");
    String before = fingerprint(n);
    Cli.Run r = Cli.run(args("switch", n.at(), "--tls-verify=false", ref));
    assertThat(r.exitCode()).isEqualTo(1);
    assertThat(r.err()).contains("is rejected by", "no signatures found");
    assertThat(fingerprint(n)).isEqualTo(before);

    String wrong = "cd".repeat(32);
    signWithClaims(ref, Map.of(SimpleSigningPayload.ROOT_HASH, wrong));
    Cli.Run bad = Cli.run(args("switch", n.at(), "--tls-verify=false", ref));
    assertThat(bad.exitCode()).isEqualTo(1);
    assertThat(bad.err()).contains("but its signature vouches for " + wrong, "not committing a boot entry");
    assertThat(fingerprint(n)).isEqualTo(before);
    assertThat(n.esp().resolve("loader/entries")).isDirectoryNotContaining("glob:**-b*");
  }
}

package dev.basalt.node;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.basalt.fs.gpt.GptPartition;
import dev.basalt.image.disk.DiskResult;
import dev.basalt.image.disk.SlotImage;
import dev.basalt.oci.api.Digest;
import dev.basalt.oci.api.ImageDestination;
import dev.basalt.oci.api.ImageSource;
import dev.basalt.oci.api.RawManifest;
import dev.basalt.oci.copy.ImageCopier;
import dev.basalt.oci.policy.PolicyDecision;
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
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * Signature enforcement in node updates against the real CNCF registry: refusals leave the booted
 * slot, the ESP and the deployments byte for byte as they were; a signed root hash that is not the
 * one the node computes is not committed.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class SignedUpdateTest {
  static final KeyPair TRUSTED = CosignKeys.generate();
  static final KeyPair OTHER = CosignKeys.generate();
  static Path images;
  static TestSystem imageHost;
  static String v1;
  static String v2;
  static String v3;
  static LocalRegistry registry;
  static RegistryClient client;
  static String v2RootHash;

  @TempDir Path tmp;

  @BeforeAll
  static void setUp() throws IOException {
    images = Files.createTempDirectory("basalt-signed-images");
    imageHost = new TestSystem(images);
    Path base = TestSystem.baseTree(Files.createDirectories(images.resolve("base")), 1 << 20, 1 << 20);
    v1 = imageHost.image("v1", base, TestSystem.topTree(Files.createDirectories(images.resolve("top1")), "1", 64 << 10, 1));
    v2 = imageHost.image("v2", base, TestSystem.topTree(Files.createDirectories(images.resolve("top2")), "2", 64 << 10, 2));
    v3 = imageHost.image("v3", base, TestSystem.topTree(Files.createDirectories(images.resolve("top3")), "3", 64 << 10, 3));
    registry = LocalRegistry.start();
    client = RegistryClient.builder(registry.hostPort()).tlsVerify(false)
        .credentialStore(CredentialStore.of(List.of())).build();
    Path work = Files.createDirectories(images.resolve("work"));
    v2RootHash = SlotImage.of(TestSystem.merged(v2)).rootHash(work);
  }

  @AfterAll
  static void tearDown() {
    client.close();
    registry.close();
    Tools.run(List.of("rm", "-rf", images.toString()));
  }

  /** Pushes a local image to {@code repo:tag} in the registry; returns its registry reference. */
  static String push(String local, String repoTag) throws IOException {
    String ref = "docker://" + registry.hostPort() + "/" + repoTag;
    try (ImageSource s = Transports.openSource(ImageReference.parse(local), TransportOptions.defaults());
        ImageDestination d = Transports.openDestination(ImageReference.parse(ref),
            TransportOptions.builder().tlsVerify(false).build())) {
      ImageCopier.builder().build().copy(s, d);
    }
    return ref;
  }

  static Digest sign(String ref, KeyPair key, Map<String, String> claims) throws IOException {
    return ImageSigning.sign(client, DockerReference.parse(ref.substring("docker://".length())), key.getPrivate(), true, false, null, claims).manifest();
  }

  /** A node booted from v1, trusting {@link #TRUSTED} through {@code /etc/basalt/keys}. */
  TestSystem node() throws IOException {
    TestSystem sys = new TestSystem(tmp);
    sys.makeDisk(v1);
    Path keys = Files.createDirectories(NodePolicy.etcDir(sys.sysroot).resolve("keys"));
    Files.writeString(keys.resolve("trusted.pub"), CosignKeys.publicKeyPem(TRUSTED.getPublic()));
    sys.node().reconcile(); // adopts the booted slot into the state, as the first command on a new machine does
    return sys;
  }

  Updater enforcing(TestSystem sys) throws IOException {
    var policy = NodePolicy.load(NodePolicy.etcDir(sys.sysroot), true);
    return Updater.builder(sys.node()).tlsVerify(false).signaturePolicy(SignaturePolicy.enforcing(policy, false, null))
        .build();
  }

  /** Everything a refusal must leave alone. */
  record Snapshot(String rootA, List<String> espFiles, String entries, NodeState.Data state) {
    static Snapshot of(TestSystem sys) throws IOException {
      GptPartition a = sys.partition("root-a");
      StringBuilder entries = new StringBuilder();
      for (String p : TestSystem.listTree(sys.esp)) {
        Path f = sys.esp.resolve(p);
        if (Files.isRegularFile(f) && p.startsWith("loader")) {
          entries.append(p).append('\n').append(Files.readString(f)).append('\n');
        }
      }
      NodeState.Data d = sys.node().state().read();
      return new Snapshot(TestSystem.sha256(sys.disk, a.offsetBytes(), a.sizeBytes()), TestSystem.listTree(sys.esp),
          entries.toString(), d.withPhase(d.updatePhase(), null));
    }
  }

  void assertRefused(TestSystem sys, String ref, String... reason) throws IOException {
    Snapshot before = Snapshot.of(sys);
    GptPartition b = sys.partition("root-b");
    String rootB = TestSystem.sha256(sys.disk, b.offsetBytes(), b.sizeBytes());
    assertThatThrownBy(() -> enforcing(sys).stage(ref)).isInstanceOf(NodeException.class)
        .hasMessageContainingAll(reason);
    Snapshot after = Snapshot.of(sys);
    assertThat(after.rootA()).isEqualTo(before.rootA());
    assertThat(after.espFiles()).isEqualTo(before.espFiles());
    assertThat(after.entries()).isEqualTo(before.entries());
    assertThat(after.state().booted()).isEqualTo(before.state().booted());
    assertThat(after.state().staged()).isEqualTo(before.state().staged());
    assertThat(after.state().serial()).isEqualTo(before.state().serial());
    // refused before any slot write began
    assertThat(TestSystem.sha256(sys.disk, b.offsetBytes(), b.sizeBytes())).isEqualTo(rootB);
    assertThat(TestSystem.listTree(sys.env().stateDir())).noneMatch(p -> p.startsWith("cache/") && p.contains("sha256"));
  }

  @Test
  void refusesUnsignedOtherKeyTamperedReplayedAndMovedTag() throws Exception {
    TestSystem sys = node();
    // unsigned
    String unsigned = push(v2, "node/unsigned:v2");
    assertRefused(sys, unsigned, "signature policy refuses " + unsigned, "no signatures found for");

    // signed, but by a key the node does not trust
    String other = push(v2, "node/other:v2");
    sign(other, OTHER, Map.of());
    assertRefused(sys, other, "not signed by any trusted key");

    // tampered: the tag now serves different manifest bytes than the signed ones
    String tampered = push(v2, "node/tampered:v2");
    Digest signed = sign(tampered, TRUSTED, Map.of());
    RawManifest orig = client.fetchManifest("node/tampered", "v2");
    String json = new String(orig.bytes(), StandardCharsets.UTF_8);
    RawManifest evil = RawManifest.of(json.replaceFirst("\\{", "{\"annotations\":{\"x\":\"evil\"},")
        .getBytes(StandardCharsets.UTF_8), orig.mediaType());
    client.pushManifest("node/tampered", "v2", evil);
    assertThat(evil.digest()).isNotEqualTo(signed);
    assertRefused(sys, tampered, "no signatures found for " + evil.digest());

    // replayed: v1's valid signature copied to v3's signature tag
    String replaySrc = push(v1, "node/replay:v1");
    Digest d1 = sign(replaySrc, TRUSTED, Map.of());
    String replayed = push(v3, "node/replay:v3");
    RegistrySignatures store = new RegistrySignatures(client, "node/replay");
    CosignSignature sig1 = store.simpleSignatures(d1).getFirst();
    Digest d3 = Digest.parse(TestSystem.digestOf(v3));
    store.appendSignature(d3, sig1);
    assertRefused(sys, replayed, "signature is for manifest " + d1 + ", not " + d3);

    // the tag was signed while it pointed at v1; it now points at v3, whose digest has no signature
    String moved = push(v1, "node/moved:latest");
    sign(moved, TRUSTED, Map.of());
    push(v3, "node/moved:latest");
    assertRefused(sys, moved, "no signatures found for " + d3);

    // the failures are recorded as such, nothing else
    assertThat(sys.node().state().read().lastError()).contains("signature policy refuses");
  }

  @Test
  void acceptsTheTrustedSignatureAndItsRootHash() throws Exception {
    TestSystem sys = node();
    String ref = push(v2, "node/good:v2");
    sign(ref, TRUSTED, Map.of(SimpleSigningPayload.ROOT_HASH, v2RootHash));
    UpdateResult r = enforcing(sys).stage(ref);
    assertThat(r.outcome()).isEqualTo(UpdateResult.Outcome.STAGED);
    assertThat(r.deployment().verityRootHash()).isEqualTo(v2RootHash);
    assertThat(sys.node().state().read().staged().manifestDigest()).isEqualTo(TestSystem.digestOf(v2));
  }

  @Test
  void aContainersPolicyInEtcBasaltIsEnforcedWithoutTheFlag() throws Exception {
    TestSystem sys = node();
    Path etc = NodePolicy.etcDir(sys.sysroot);
    Files.writeString(etc.resolve("policy.json"), "{\"default\":[{\"type\":\"sigstoreSigned\",\"keyPath\":\"keys/trusted.pub\","
        + "\"signedIdentity\":{\"type\":\"matchRepository\"}}]}");
    var policy = SignaturePolicy.enforcing(NodePolicy.load(etc, false), false, null);
    String unsigned = push(v2, "node/policyfile:v2");
    assertThatThrownBy(() -> Updater.builder(sys.node()).tlsVerify(false).signaturePolicy(policy).build().stage(unsigned))
        .hasMessageContaining("is rejected by").hasMessageContaining("no signatures found");
    sign(unsigned, TRUSTED, Map.of());
    assertThat(Updater.builder(sys.node()).tlsVerify(false).signaturePolicy(policy).build().stage(unsigned).outcome())
        .isEqualTo(UpdateResult.Outcome.STAGED);
    // no policy file and no flag: nothing to enforce
    Files.delete(etc.resolve("policy.json"));
    assertThat(NodePolicy.load(etc, false).check(ImageReference.parse(unsigned), client.fetchManifest("node/policyfile",
        "v2"), null).accepted()).isTrue();
  }

  @Test
  void aSignedRootHashThatDiffersIsNotCommitted() throws Exception {
    TestSystem sys = node();
    String ref = push(v2, "node/wronghash:v2");
    String wrong = (v2RootHash.charAt(0) == '0' ? "1" : "0") + v2RootHash.substring(1);
    sign(ref, TRUSTED, Map.of(SimpleSigningPayload.ROOT_HASH, wrong));
    Snapshot before = Snapshot.of(sys);
    assertThatThrownBy(() -> enforcing(sys).stage(ref)).isInstanceOf(NodeException.class)
        .hasMessageContainingAll("has verity root hash " + v2RootHash, "its signature vouches for " + wrong,
            "not committing a boot entry");
    Snapshot after = Snapshot.of(sys);
    assertThat(after.rootA()).isEqualTo(before.rootA());
    assertThat(after.entries()).isEqualTo(before.entries());
    assertThat(after.espFiles()).noneMatch(p -> p.contains("-b") && p.startsWith("loader/entries/"));
    assertThat(after.state().booted()).isEqualTo(before.state().booted());
    assertThat(after.state().staged()).isNull();
  }

  @Test
  void noKeysWithEnforcementIsAClearError() throws Exception {
    Path etc = tmp.resolve("etc/basalt");
    assertThatThrownBy(() -> NodePolicy.load(etc, true)).hasMessageContaining("no public key is installed")
        .hasMessageContaining(etc.resolve("keys").toString());
  }

  @Test
  void theFleetCheckDecidesWithoutANode() throws Exception {
    String ref = push(v3, "node/fleet:v3");
    var keys = dev.basalt.oci.policy.SignaturePolicy.requireSignature(List.of(TRUSTED.getPublic()));
    PolicyDecision no = NodePolicy.check(keys, ref, false, null);
    assertThat(no.accepted()).isFalse();
    assertThat(no.reason()).contains("no signatures found");
    sign(ref, TRUSTED, Map.of(SimpleSigningPayload.ROOT_HASH, "ab".repeat(32)));
    PolicyDecision yes = NodePolicy.check(keys, ref, false, null);
    assertThat(yes.accepted()).as(yes.reason()).isTrue();
    assertThat(yes.signedRootHashes()).containsExactly("ab".repeat(32));
  }

  @Test
  void aNewDiskAndANodeUpdateGiveTheSameRootHash() throws Exception {
    TestSystem sys = new TestSystem(tmp);
    DiskResult d = sys.makeDisk(v2);
    assertThat(d.verity().rootHash()).isEqualTo(v2RootHash);
  }
}

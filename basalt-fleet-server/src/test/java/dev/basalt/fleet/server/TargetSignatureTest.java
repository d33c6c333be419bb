package dev.basalt.fleet.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.basalt.api.fleet.FleetSpec;
import dev.basalt.api.fleet.RolloutInfo;
import dev.basalt.api.fleet.RolloutRequest;
import dev.basalt.api.fleet.SignatureRequirement;
import dev.basalt.oci.api.Descriptor;
import dev.basalt.oci.api.Digest;
import dev.basalt.oci.api.MediaTypes;
import dev.basalt.oci.api.RawManifest;
import dev.basalt.oci.ref.DockerReference;
import dev.basalt.oci.registry.CredentialStore;
import dev.basalt.oci.registry.RegistryClient;
import dev.basalt.oci.sign.CosignKeys;
import dev.basalt.oci.sign.ImageSigning;
import dev.basalt.testkit.LocalRegistry;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.KeyPair;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 8 on the server: a fleet's signature requirement is checked in the real CNCF registry (LocalRegistry) before
 * a rollout starts or a target is set; refusals are 422 naming the digest and the reason.
 */
class TargetSignatureTest {
  static final KeyPair TRUSTED = CosignKeys.generate();
  static final KeyPair OTHER = CosignKeys.generate();
  static LocalRegistry registry;
  static RegistryClient client;

  @TempDir Path dir;
  TestFleet fleet;

  @BeforeAll
  static void startRegistry() throws Exception {
    registry = LocalRegistry.start();
    client = RegistryClient.builder(registry.hostPort()).tlsVerify(false).credentialStore(CredentialStore.of(List.of())).build();
  }

  @AfterAll
  static void stopRegistry() {
    client.close();
    registry.close();
  }

  @BeforeEach
  void start() {
    fleet = new TestFleet(TestFleet.Db.SQLITE, dir, b -> b.registryTlsVerify(false));
  }

  @AfterEach
  void stop() {
    fleet.close();
  }

  /** Pushes a small image (one layer of {@code content}) as {@code fleet/os:tag}; returns its manifest digest. */
  static String push(String tag, String content) throws Exception {
    byte[] config = ("{\"architecture\":\"amd64\",\"os\":\"linux\",\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[]},\"tag\":\"" + tag + "\"}")
        .getBytes(StandardCharsets.UTF_8);
    byte[] layer = content.getBytes(StandardCharsets.UTF_8);
    Descriptor c = new Descriptor(MediaTypes.OCI_CONFIG, Digest.sha256(config), config.length);
    Descriptor l = new Descriptor(MediaTypes.OCI_LAYER_TAR, Digest.sha256(layer), layer.length);
    client.pushBlob("fleet/os", c, () -> new ByteArrayInputStream(config));
    client.pushBlob("fleet/os", l, () -> new ByteArrayInputStream(layer));
    String manifest = "{\"schemaVersion\":2,\"mediaType\":\"" + MediaTypes.OCI_MANIFEST + "\",\"config\":{\"mediaType\":\""
        + c.mediaType() + "\",\"digest\":\"" + c.digest() + "\",\"size\":" + c.size() + "},\"layers\":[{\"mediaType\":\""
        + l.mediaType() + "\",\"digest\":\"" + l.digest() + "\",\"size\":" + l.size() + "}]}";
    RawManifest m = RawManifest.of(manifest.getBytes(StandardCharsets.UTF_8), MediaTypes.OCI_MANIFEST);
    return client.pushManifest("fleet/os", tag, m).toString();
  }

  static void sign(String tag, KeyPair key) throws Exception {
    ImageSigning.sign(client, DockerReference.parse(registry.hostPort() + "/fleet/os:" + tag), key.getPrivate(), true, false);
  }

  String ref(String tag) {
    return "docker://" + registry.hostPort() + "/fleet/os:" + tag;
  }

  @Test
  void rolloutsAndTargetsAreRefusedUnlessSignedByAFleetKey() throws Exception {
    String v1 = push("v1", "one");
    sign("v1", TRUSTED);
    String unsigned = push("v2", "two");
    String other = push("v3", "three");
    sign("v3", OTHER);
    String good = push("v4", "four");
    sign("v4", TRUSTED);
    SignatureRequirement req = new SignatureRequirement(List.of(CosignKeys.publicKeyPem(TRUSTED.getPublic())), null);
    fleet.admin.createFleet(new FleetSpec("sig", "site=lab", ref("v1"), v1, null, req));

    var e = RolloutApiTest.fails(422, () -> fleet.admin.startRollout("sig", new RolloutRequest(ref("v2"), unsigned, null)), unsigned,
        "no signatures found");
    assertThat(e.getMessage()).contains("refused by fleet sig's signature requirement");
    RolloutApiTest.fails(422, () -> fleet.admin.startRollout("sig", new RolloutRequest(ref("v3"), other, null)), other,
        "not signed by any trusted key");
    // a digest that is not the tag's: its signatures are looked up for that digest, and there are none
    RolloutApiTest.fails(422, () -> fleet.admin.startRollout("sig", new RolloutRequest(ref("v4"), unsigned, null)), unsigned);
    RolloutApiTest.fails(422, () -> fleet.admin.updateFleet(new FleetSpec("sig", "site=lab", ref("v2"), unsigned, null, req)), unsigned);
    assertThat(fleet.admin.fleet("sig").spec().targetDigest()).isEqualTo(v1);
    assertThat(fleet.admin.rollouts("sig")).isEmpty();

    RolloutInfo r = fleet.admin.startRollout("sig", new RolloutRequest(ref("v4") + "@" + good, null, null));
    assertThat(r.targetDigest()).isEqualTo(good);
    fleet.server.reconcileNow(); // no members: the rollout succeeds at its first step
    assertThat(fleet.admin.rollout(r.id()).phase()).isEqualTo("SUCCEEDED");
    assertThat(fleet.admin.fleet("sig").spec().targetDigest()).isEqualTo(good);
    // the same key given as a containers-policy instead
    Map<String, Object> policy = Map.of("default", List.of(Map.of("type", "reject")), "transports", Map.of("docker",
        Map.of(registry.hostPort() + "/fleet", List.of(Map.of("type", "sigstoreSigned", "keyData",
            java.util.Base64.getEncoder().encodeToString(CosignKeys.publicKeyPem(TRUSTED.getPublic()).getBytes(StandardCharsets.US_ASCII)),
            "signedIdentity", Map.of("type", "matchRepository"))))));
    SignatureRequirement byPolicy = new SignatureRequirement(null, policy);
    fleet.admin.updateFleet(new FleetSpec("sig", "site=lab", ref("v1"), v1, null, byPolicy));
    RolloutApiTest.fails(422, () -> fleet.admin.startRollout("sig", new RolloutRequest(ref("v3"), other, null)), other);
    assertThat(fleet.admin.startRollout("sig", new RolloutRequest(ref("v4"), good, null)).targetDigest()).isEqualTo(good);
    // an invalid requirement is a 400 naming it
    RolloutApiTest.fails(400, () -> fleet.admin.createFleet(new FleetSpec("bad", "site=x", null, null, null,
        new SignatureRequirement(List.of("not a key"), null))), "fleet bad signatures.publicKeys[0]");
  }
}

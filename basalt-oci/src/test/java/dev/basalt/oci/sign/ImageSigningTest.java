package dev.basalt.oci.sign;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.basalt.oci.api.Digest;
import dev.basalt.oci.api.ImageManifest;
import dev.basalt.oci.api.RawManifest;
import dev.basalt.oci.ref.DockerReference;
import dev.basalt.oci.registry.CredentialStore;
import dev.basalt.oci.registry.RegistryClient;
import dev.basalt.oci.testing.TinyImages;
import dev.basalt.testkit.LocalRegistry;
import dev.basalt.testkit.Tools;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;

/** Sign and verify against the real CNCF registry (docker-registry 2.8, which has no referrers API). */
class ImageSigningTest {
  static LocalRegistry registry;
  static RegistryClient client;
  static final KeyPair KEY = CosignKeys.generate();
  static final KeyPair OTHER = CosignKeys.generate();

  @BeforeAll
  static void start() throws Exception {
    registry = LocalRegistry.start();
    client = RegistryClient.builder(registry.hostPort()).tlsVerify(false)
        .credentialStore(CredentialStore.of(List.of())).build();
  }

  @AfterAll
  static void stop() {
    client.close();
    registry.close();
  }

  DockerReference ref(String repoAndTag) {
    return DockerReference.parse(registry.hostPort() + "/" + repoAndTag);
  }

  Verification verify(String ref, KeyPair key) throws Exception {
    DockerReference r = ref(ref);
    return ImageSigning.verify(client, r, List.of(key.getPublic()), IdentityCheck.sameRepository(r.name()));
  }

  @Test
  void signedImageVerifiesInBothFormsWhereCosignStoresThem() throws Exception {
    RawManifest m = TinyImages.push(client, "sign/app", "v1", "app-v1");
    ImageSigning.SignResult r = ImageSigning.sign(client, ref("sign/app:v1"), KEY.getPrivate(), true, true);
    assertThat(r.manifest()).isEqualTo(m.digest());
    assertThat(r.identity()).isEqualTo(registry.hostPort() + "/sign/app");
    assertThat(r.signatureTag()).isEqualTo(registry.hostPort() + "/sign/app:sha256-" + m.digest().hex() + ".sig");

    Verification v = verify("sign/app:v1", KEY);
    assertThat(v.verified()).as(v.reason()).isTrue();
    assertThat(v.valid()).extracting(SignatureCheck::kind).containsExactly("simple-signing", "bundle");

    // the signature image: one simple-signing layer whose blob is the payload, signature in the annotation
    ImageManifest sig = ImageManifest.parse(client.fetchManifest("sign/app", "sha256-" + m.digest().hex() + ".sig"));
    assertThat(sig.layers()).singleElement().satisfies(l -> {
      assertThat(l.mediaType()).isEqualTo("application/vnd.dev.cosign.simplesigning.v1+json");
      assertThat(l.annotations()).containsOnlyKeys("dev.cosignproject.cosign/signature");
    });
    // docker-registry 2.8 has no referrers API: the bundle is found through the sha256-<hex> fallback index
    assertThat(client.referrers("sign/app", m.digest(), null)).isEmpty();
    RawManifest index = client.fetchManifest("sign/app", "sha256-" + m.digest().hex());
    JsonNode entry = Json.parse(index.bytes(), "index").get("manifests").get(0);
    assertThat(entry.get("artifactType").stringValue()).isEqualTo(SigstoreBundle.MEDIA_TYPE);
    JsonNode referrer = Json.parse(client.fetchManifest("sign/app", entry.get("digest").stringValue()).bytes(), "r");
    assertThat(referrer.get("artifactType").stringValue()).isEqualTo(SigstoreBundle.MEDIA_TYPE);
    assertThat(referrer.at("/subject/digest").stringValue()).isEqualTo(m.digest().toString());
    assertThat(referrer.at("/annotations/dev.sigstore.bundle.content").stringValue()).isEqualTo("dsse-envelope");
    assertThat(referrer.at("/layers/0/mediaType").stringValue()).isEqualTo(SigstoreBundle.MEDIA_TYPE);
  }

  @Test
  void opensslVerifiesTheStoredSignatureOverTheStoredPayload() throws Exception {
    RawManifest m = TinyImages.push(client, "sign/openssl", "v1", "openssl");
    ImageSigning.sign(client, ref("sign/openssl:v1"), KEY.getPrivate(), true, false);
    CosignSignature sig = new RegistrySignatures(client, "sign/openssl").simpleSignatures(m.digest()).getFirst();
    Path dir = Files.createTempDirectory("openssl-sig");
    try {
      Files.write(dir.resolve("payload.json"), sig.payload());
      Files.write(dir.resolve("sig.der"), java.util.Base64.getDecoder().decode(sig.signature()));
      Files.writeString(dir.resolve("cosign.pub"), CosignKeys.publicKeyPem(KEY.getPublic()));
      assertThat(Tools.check("openssl", "dgst", "-sha256", "-verify", dir.resolve("cosign.pub").toString(),
          "-signature", dir.resolve("sig.der").toString(), dir.resolve("payload.json").toString()))
          .isEqualTo("Verified OK\n");
      assertThat(new String(sig.payload(), StandardCharsets.UTF_8)).contains("\"docker-manifest-digest\":\""
          + m.digest() + "\"");
    } finally {
      dev.basalt.oci.testing.TestImages.deleteTree(dir);
    }
  }

  @Test
  void secondSignatureIsAppendedAndEachKeyVerifies() throws Exception {
    RawManifest m = TinyImages.push(client, "sign/append", "v1", "append");
    ImageSigning.sign(client, ref("sign/append:v1"), KEY.getPrivate(), true, true);
    ImageSigning.sign(client, ref("sign/append:v1"), OTHER.getPrivate(), true, true);
    assertThat(ImageManifest.parse(client.fetchManifest("sign/append", SignatureTags.signatureTag(m.digest())))
        .layers()).hasSize(2);
    assertThat(Json.parse(client.fetchManifest("sign/append", SignatureTags.referrersTag(m.digest())).bytes(), "i")
        .get("manifests").size()).isEqualTo(2);
    for (KeyPair k : List.of(KEY, OTHER)) {
      Verification v = verify("sign/append:v1", k);
      assertThat(v.valid()).as(v.reason()).hasSize(2);
      assertThat(v.checks()).hasSize(4);
    }
  }

  @Test
  void multiArchTagSignsTheIndexItPointsAt() throws Exception {
    RawManifest child = TinyImages.push(client, "sign/multi", "amd64", "multi-amd64");
    String index = "{\"schemaVersion\":2,\"mediaType\":\"" + dev.basalt.oci.api.MediaTypes.OCI_INDEX
        + "\",\"manifests\":[{\"mediaType\":\"" + child.mediaType() + "\",\"digest\":\"" + child.digest()
        + "\",\"size\":" + child.size() + ",\"platform\":{\"architecture\":\"amd64\",\"os\":\"linux\"}}]}";
    RawManifest idx = RawManifest.of(index.getBytes(StandardCharsets.UTF_8), dev.basalt.oci.api.MediaTypes.OCI_INDEX);
    client.pushManifest("sign/multi", "v1", idx);
    assertThat(ImageSigning.sign(client, ref("sign/multi:v1"), KEY.getPrivate(), true, true).manifest())
        .isEqualTo(idx.digest());
    Verification v = verify("sign/multi:v1", KEY);
    assertThat(v.verified()).as(v.reason()).isTrue();
    assertThat(v.manifest()).isEqualTo(idx.digest());
    // the platform manifest itself is not signed: signatures cover the top level, as with cosign
    assertThat(verify("sign/multi@" + child.digest(), KEY).verified()).isFalse();
  }

  @Test
  void unsignedImageIsRefused() throws Exception {
    RawManifest m = TinyImages.push(client, "sign/unsigned", "v1", "unsigned");
    Verification v = verify("sign/unsigned:v1", KEY);
    assertThat(v.verified()).isFalse();
    assertThat(v.reason()).isEqualTo("no signatures found for " + m.digest() + " (no cosign signature tag sha256-"
        + m.digest().hex() + ".sig and no Sigstore bundle referrer)");
  }

  @Test
  void signatureByAnotherKeyIsRefused() throws Exception {
    TinyImages.push(client, "sign/otherkey", "v1", "otherkey");
    ImageSigning.sign(client, ref("sign/otherkey:v1"), OTHER.getPrivate(), true, true);
    Verification v = verify("sign/otherkey:v1", KEY);
    assertThat(v.verified()).isFalse();
    assertThat(v.checks()).extracting(SignatureCheck::reason).containsExactly("not signed by any trusted key",
        "bundle dsseEnvelope is not signed by any trusted key");
  }

  @Test
  void signatureReplayedOntoAnotherDigestIsRefusedByTheDigestBinding() throws Exception {
    RawManifest signed = TinyImages.push(client, "sign/replay", "good", "replay-good");
    RawManifest evil = TinyImages.push(client, "sign/replay", "evil", "replay-evil");
    ImageSigning.sign(client, ref("sign/replay:good"), KEY.getPrivate(), true, true);
    // copy both attachments of the good digest onto the evil digest's tags
    client.pushManifest("sign/replay", SignatureTags.signatureTag(evil.digest()),
        client.fetchManifest("sign/replay", SignatureTags.signatureTag(signed.digest())));
    client.pushManifest("sign/replay", SignatureTags.referrersTag(evil.digest()),
        client.fetchManifest("sign/replay", SignatureTags.referrersTag(signed.digest())));
    Verification v = verify("sign/replay:evil", KEY);
    assertThat(v.verified()).isFalse();
    // the replayed bundle referrer names another subject, so it is not even considered
    assertThat(v.checks()).singleElement().extracting(SignatureCheck::reason)
        .isEqualTo("signature is for manifest " + signed.digest() + ", not " + evil.digest());
  }

  @Test
  void signatureOfTheOldDigestDoesNotCoverTheImageTheTagMovedTo() throws Exception {
    RawManifest old = TinyImages.push(client, "sign/moved", "v1", "moved-old");
    ImageSigning.sign(client, ref("sign/moved:v1"), KEY.getPrivate(), true, true);
    RawManifest now = TinyImages.push(client, "sign/moved", "v1", "moved-new");
    Verification v = verify("sign/moved:v1", KEY);
    assertThat(v.verified()).isFalse();
    assertThat(v.manifest()).isEqualTo(now.digest());
    assertThat(v.reason()).startsWith("no signatures found for " + now.digest());
    assertThat(verify("sign/moved@" + old.digest(), KEY).verified()).isTrue();
  }

  @Test
  void tamperedManifestInRegistryStorageIsRefused() throws Exception {
    RawManifest m = TinyImages.push(client, "sign/tamper", "v1", "tamper");
    ImageSigning.sign(client, ref("sign/tamper:v1"), KEY.getPrivate(), true, true);
    Path data = registry.storage().resolve("docker/registry/v2/blobs/sha256/" + m.digest().hex().substring(0, 2) + "/"
        + m.digest().hex() + "/data");
    String tampered = new String(Files.readAllBytes(data), StandardCharsets.UTF_8).replace("\"size\":1024",
        "\"size\":1024 ");
    Files.writeString(data, tampered);
    assertThatThrownBy(() -> verify("sign/tamper:v1", KEY))
        .hasMessageContaining("registry says digest " + m.digest() + " but the content has "
            + Digest.sha256(tampered.getBytes(StandardCharsets.UTF_8)));
  }

  @Test
  void signedIdentityIsTheRepository() throws Exception {
    RawManifest m = TinyImages.push(client, "sign/ident", "v1", "ident");
    ImageSigning.sign(client, ref("sign/ident:v1"), KEY.getPrivate(), true, false);
    // the image and its signature copied to another repository
    TinyImages.push(client, "sign/copy", "v1", "ident");
    RawManifest sig = client.fetchManifest("sign/ident", SignatureTags.signatureTag(m.digest()));
    ImageManifest parsed = ImageManifest.parse(sig);
    client.mountBlob("sign/ident", "sign/copy", parsed.config().digest());
    client.mountBlob("sign/ident", "sign/copy", parsed.layers().get(0).digest());
    client.pushManifest("sign/copy", SignatureTags.signatureTag(m.digest()), sig);
    Verification v = verify("sign/copy:v1", KEY);
    assertThat(v.verified()).isFalse();
    assertThat(v.checks()).singleElement().extracting(SignatureCheck::reason).isEqualTo("signed for repository "
        + registry.hostPort() + "/sign/ident, not " + registry.hostPort() + "/sign/copy");
    assertThat(ImageSigning.verify(client, ref("sign/copy:v1"), List.of(KEY.getPublic()), IdentityCheck.any())
        .verified()).isTrue();
  }
}

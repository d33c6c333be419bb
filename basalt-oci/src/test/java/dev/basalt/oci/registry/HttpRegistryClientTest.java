package dev.basalt.oci.registry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.basalt.oci.api.Descriptor;
import dev.basalt.oci.api.Digest;
import dev.basalt.oci.api.ImageException;
import dev.basalt.oci.api.ImageManifest;
import dev.basalt.oci.api.MediaTypes;
import dev.basalt.oci.api.RawManifest;
import dev.basalt.oci.api.VerifyingInputStream;
import dev.basalt.oci.testing.TestImages;
import dev.basalt.testkit.LocalRegistry;
import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Against the real CNCF registry, with images pushed by skopeo. */
class HttpRegistryClientTest {
  static LocalRegistry registry;
  static RegistryClient client;
  static Path work;

  @BeforeAll
  static void start() throws Exception {
    registry = LocalRegistry.start();
    work = Files.createTempDirectory("reg-client");
    TestImages.umociImage(work.resolve("layout"), "v1", "amd64");
    TestImages.skopeoCopy("oci:" + work.resolve("layout") + ":v1", "docker://" + registry.hostPort() + "/test/app:v1");
    client = RegistryClient.builder(registry.hostPort()).tlsVerify(false)
        .credentialStore(CredentialStore.of(List.of())).build();
  }

  @AfterAll
  static void stop() throws Exception {
    client.close();
    registry.close();
    TestImages.deleteTree(work);
  }

  @Test
  void fetchesManifestRawBytesExactlyAsSkopeoSeesThem() throws Exception {
    RawManifest m = client.fetchManifest("test/app", "v1");
    String skopeo = TestImages.skopeoRaw("docker://" + registry.hostPort() + "/test/app:v1");
    assertThat(new String(m.bytes(), StandardCharsets.UTF_8)).isEqualTo(skopeo);
    assertThat(m.mediaType()).isEqualTo(MediaTypes.OCI_MANIFEST);
    assertThat(client.fetchManifest("test/app", m.digest().toString())).isEqualTo(m);
    assertThat(client.listTags("test/app")).containsExactly("v1");
  }

  @Test
  void fetchesAndVerifiesEveryBlobAndResumesWithRange() throws Exception {
    ImageManifest m = ImageManifest.parse(client.fetchManifest("test/app", "v1"));
    assertThat(m.layers()).hasSize(2);
    for (Descriptor d : m.layers()) {
      assertThat(client.blobExists("test/app", d.digest())).isTrue();
      try (BlobResponse r = client.fetchBlob("test/app", d.digest(), 0);
          VerifyingInputStream v = new VerifyingInputStream(r.stream(), d, "test")) {
        v.drainAndVerify();
        assertThat(v.count()).isEqualTo(d.size());
      }
      byte[] full;
      try (BlobResponse r = client.fetchBlob("test/app", d.digest(), 0)) {
        full = r.stream().readAllBytes();
      }
      long half = d.size() / 2;
      try (BlobResponse r = client.fetchBlob("test/app", d.digest(), half)) {
        assertThat(r.offset()).isEqualTo(half);
        assertThat(r.stream().readAllBytes()).isEqualTo(java.util.Arrays.copyOfRange(full, (int) half, full.length));
      }
    }
    Digest absent = Digest.sha256("nope".getBytes());
    assertThat(client.blobExists("test/app", absent)).isFalse();
    assertThatThrownBy(() -> client.fetchBlob("test/app", absent, 0)).isInstanceOf(RegistryException.class)
        .hasMessageContaining("blob " + absent + " not found in " + registry.hostPort() + "/test/app")
        .hasMessageContaining("404");
  }

  @Test
  void pushesBlobsMonolithicAndChunkedMountsAndPushesManifestBytesUnchanged() throws Exception {
    RawManifest m = client.fetchManifest("test/app", "v1");
    ImageManifest parsed = ImageManifest.parse(m);
    Descriptor config = parsed.config();
    byte[] configBytes;
    try (BlobResponse r = client.fetchBlob("test/app", config.digest(), 0)) {
      configBytes = r.stream().readAllBytes();
    }
    client.pushBlob("copy/one", config, () -> new ByteArrayInputStream(configBytes));
    Descriptor l0 = parsed.layers().get(0);
    byte[] l0Bytes;
    try (BlobResponse r = client.fetchBlob("test/app", l0.digest(), 0)) {
      l0Bytes = r.stream().readAllBytes();
    }
    client.pushBlobChunked("copy/one", l0, () -> new ByteArrayInputStream(l0Bytes), 1000);
    Descriptor l1 = parsed.layers().get(1);
    assertThat(client.blobExists("copy/one", l1.digest())).isFalse();
    assertThat(client.mountBlob("test/app", "copy/one", l1.digest())).isTrue();
    assertThat(client.blobExists("copy/one", l1.digest())).isTrue();
    assertThat(client.mountBlob("no/such", "copy/one", Digest.sha256("x".getBytes()))).isFalse();
    assertThat(client.pushManifest("copy/one", "t", m)).isEqualTo(m.digest());
    assertThat(TestImages.skopeoRaw("docker://" + registry.hostPort() + "/copy/one:t"))
        .isEqualTo(new String(m.bytes(), StandardCharsets.UTF_8));
  }

  @Test
  void rejectsABlobUploadWhoseContentDoesNotMatch() throws Exception {
    byte[] content = "hello".getBytes();
    Descriptor lying = new Descriptor(MediaTypes.OCI_LAYER_TAR, Digest.sha256("other".getBytes()), content.length);
    assertThatThrownBy(() -> client.pushBlob("copy/bad", lying, () -> new VerifyingInputStream(
        new ByteArrayInputStream(content), lying, "test source")))
        .isInstanceOf(ImageException.class).hasMessageContaining("blob " + lying.digest())
        .hasMessageContaining("failed verification");
    assertThat(client.blobExists("copy/bad", lying.digest())).isFalse();
    // without our own check the registry refuses it too
    assertThatThrownBy(() -> client.pushBlob("copy/bad", lying, () -> new ByteArrayInputStream(content)))
        .isInstanceOf(RegistryException.class).hasMessageContaining("DIGEST_INVALID");
  }

  @Test
  void missingTagAndRepositoryAreClearErrors() {
    assertThatThrownBy(() -> client.fetchManifest("test/app", "nope"))
        .isInstanceOf(RegistryException.class)
        .hasMessageContaining("tag 'nope' not found in " + registry.hostPort() + "/test/app")
        .hasMessageContaining("MANIFEST_UNKNOWN")
        .extracting(e -> ((RegistryException) e).status()).isEqualTo(404);
  }

  @Test
  void manifestOverTheSizeLimitIsRefused() throws Exception {
    try (RegistryClient small = RegistryClient.builder(registry.hostPort()).tlsVerify(false).maxManifestSize(200)
        .credentialStore(CredentialStore.of(List.of())).build()) {
      assertThatThrownBy(() -> small.fetchManifest("test/app", "v1"))
          .isInstanceOf(ImageException.class).hasMessageContaining("manifest v1 of " + registry.hostPort() + "/test/app")
          .hasMessageContaining("over the 200-byte limit");
    }
  }

  @Test
  void tlsVerifyOnRefusesAPlainHttpRegistryWithAHint(@TempDir Path tmp) throws Exception {
    try (RegistryClient strict = RegistryClient.builder(registry.hostPort())
        .credentialStore(CredentialStore.of(List.of())).build()) {
      assertThatThrownBy(() -> strict.fetchManifest("test/app", "v1"))
          .isInstanceOf(RegistryException.class)
          .hasMessageContaining("https://" + registry.hostPort() + "/v2/")
          .hasMessageContaining("--tls-verify=false");
    }
  }

  @Test
  void builderValidatesOptions() {
    assertThatThrownBy(() -> RegistryClient.builder("http://x")).hasMessageContaining("host[:port]");
    assertThatThrownBy(() -> RegistryClient.builder("x").maxAttempts(0)).hasMessageContaining("maxAttempts");
    assertThatThrownBy(() -> RegistryClient.builder("x").readTimeout(java.time.Duration.ZERO))
        .hasMessageContaining("readTimeout");
  }

  static InputStream unused() {
    return InputStream.nullInputStream();
  }
}

package dev.basalt.oci.copy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.basalt.oci.api.Descriptor;
import dev.basalt.oci.api.Digest;
import dev.basalt.oci.api.ImageDestination;
import dev.basalt.oci.api.ImageException;
import dev.basalt.oci.api.ImageIndex;
import dev.basalt.oci.api.ImageManifest;
import dev.basalt.oci.api.ImageSource;
import dev.basalt.oci.api.MediaTypes;
import dev.basalt.oci.api.Platform;
import dev.basalt.oci.api.RawManifest;
import dev.basalt.oci.cache.BlobCache;
import dev.basalt.oci.copy.ProgressListener.BlobAction;
import dev.basalt.oci.layout.OciLayout;
import dev.basalt.oci.ref.ImageReference;
import dev.basalt.oci.registry.CredentialStore;
import dev.basalt.oci.testing.TestImages;
import dev.basalt.oci.transport.TransportOptions;
import dev.basalt.oci.transport.Transports;
import dev.basalt.testkit.LocalRegistry;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/** Copies between the real registry and OCI layouts, checked with skopeo. */
class ImageCopierTest {
  static LocalRegistry registry;
  static Path work;
  static String reg;
  static Digest multiIndex;
  static final TransportOptions INSECURE = TransportOptions.builder().tlsVerify(false)
      .credentialStore(CredentialStore.of(List.of())).build();

  @TempDir Path tmp;

  @BeforeAll
  static void start() throws Exception {
    registry = LocalRegistry.start();
    reg = registry.hostPort();
    work = Files.createTempDirectory("copier");
    Path layout = work.resolve("layout");
    TestImages.umociImage(layout, "v1", "amd64");
    multiIndex = TestImages.multiArch(layout, "multi");
    TestImages.skopeoCopy("oci:" + layout + ":v1", "docker://" + reg + "/src/app:v1");
    TestImages.skopeoCopy("oci:" + layout + ":multi", "docker://" + reg + "/src/multi:1", "--all");
  }

  @AfterAll
  static void stop() throws Exception {
    registry.close();
    TestImages.deleteTree(work);
  }

  static CopyResult copy(String from, String to) throws IOException {
    return copy(from, to, ImageCopier.builder().build(), INSECURE);
  }

  static CopyResult copy(String from, String to, ImageCopier copier, TransportOptions srcOptions) throws IOException {
    try (ImageSource s = Transports.openSource(ImageReference.parse(from), srcOptions);
        ImageDestination d = Transports.openDestination(ImageReference.parse(to), INSECURE)) {
      return copier.copy(s, d);
    }
  }

  @Test
  void registryToOciToRegistryKeepsTheManifestAndEveryBlobDigest() throws Exception {
    String original = TestImages.skopeoRaw("docker://" + reg + "/src/app:v1");
    CopyResult r1 = copy("docker://" + reg + "/src/app:v1", "oci:" + tmp.resolve("out") + ":v1");
    assertThat(r1.count(BlobAction.COPIED)).isEqualTo(3);
    CopyResult r2 = copy("oci:" + tmp.resolve("out") + ":v1", "docker://" + reg + "/dst/app:v1");
    String copied = TestImages.skopeoRaw("docker://" + reg + "/dst/app:v1");
    assertThat(copied).isEqualTo(original);
    assertThat(r2.manifest().digest()).isEqualTo(r1.manifest().digest()).isEqualTo(Digest.sha256(original.getBytes()));
    // every blob digest is the same, and skopeo can pull every blob of the copy (it verifies them)
    ImageManifest m = ImageManifest.parse(r2.manifest());
    assertThat(r2.blobs().keySet()).extracting(Descriptor::digest)
        .containsExactlyInAnyOrderElementsOf(
            java.util.stream.Stream.concat(java.util.stream.Stream.of(m.config()), m.layers().stream())
                .map(Descriptor::digest).toList());
    TestImages.skopeoCopy("docker://" + reg + "/dst/app:v1", "oci:" + tmp.resolve("check") + ":v1");
    assertThat(TestImages.skopeoRaw("oci:" + tmp.resolve("check") + ":v1")).isEqualTo(original);

    // again: everything is there already
    assertThat(copy("docker://" + reg + "/src/app:v1", "docker://" + reg + "/dst/app:v1").count(BlobAction.SKIPPED))
        .isEqualTo(3);
    // another repository of the same registry: cross-repository mounts, no bytes moved
    AtomicLong bytes = new AtomicLong();
    ImageCopier counting = ImageCopier.builder().listener(new ProgressListener() {
      @Override
      public void blobProgress(Descriptor blob, long n) {
        bytes.addAndGet(n);
      }
    }).build();
    CopyResult mounted = copy("docker://" + reg + "/src/app:v1", "docker://" + reg + "/mounted/app:v1", counting, INSECURE);
    assertThat(mounted.count(BlobAction.MOUNTED)).isEqualTo(3);
    assertThat(bytes.get()).isZero();
  }

  @Test
  void skopeoReadsBasaltLayoutsAndBasaltReadsSkopeoLayouts() throws Exception {
    String original = TestImages.skopeoRaw("docker://" + reg + "/src/app:v1");
    Path ours = tmp.resolve("ours");
    copy("docker://" + reg + "/src/app:v1", "oci:" + ours + ":a");
    copy("docker://" + reg + "/src/app:v1", "oci:" + ours + ":b");
    assertThat(TestImages.skopeoRaw("oci:" + ours + ":a")).isEqualTo(original);
    assertThat(TestImages.skopeoRaw("oci:" + ours + ":b")).isEqualTo(original);
    JsonNode inspect = JsonMapper.builder().build().readTree(TestImages.skopeoInspect("oci:" + ours + ":a"));
    assertThat(inspect.path("Architecture").asString()).isEqualTo("amd64");
    TestImages.skopeoCopy("oci:" + ours + ":a", "docker://" + reg + "/viaskopeo/app:v1");
    assertThat(TestImages.skopeoRaw("docker://" + reg + "/viaskopeo/app:v1")).isEqualTo(original);
    assertThat(OciLayout.open(ours).entries()).hasSize(2);

    Path theirs = tmp.resolve("theirs");
    TestImages.skopeoCopy("docker://" + reg + "/src/app:v1", "oci:" + theirs + ":t");
    try (ImageSource s = Transports.openSource(ImageReference.parse("oci:" + theirs + ":t"), INSECURE)) {
      assertThat(new String(s.rootManifest().bytes(), StandardCharsets.UTF_8)).isEqualTo(original);
    }
    CopyResult back = copy("oci:" + theirs + ":t", "oci:" + ours + ":c");
    assertThat(back.count(BlobAction.SKIPPED)).isEqualTo(3);
    assertThat(OciLayout.open(ours).entries()).extracting(d -> d.annotations().get(OciLayout.REF_NAME))
        .containsExactlyInAnyOrder("a", "b", "c");
  }

  @Test
  void multiArchIndexSelectsAmd64ByDefaultAndArm64OnRequestOrCopiesAll() throws Exception {
    String src = "docker://" + reg + "/src/multi:1";
    RawManifest index = RawManifest.of(TestImages.skopeoRaw(src).getBytes(StandardCharsets.UTF_8), MediaTypes.OCI_INDEX);
    assertThat(index.digest()).isEqualTo(multiIndex);
    ImageIndex parsed = ImageIndex.parse(index);
    Descriptor amd = parsed.select(Platform.LINUX_AMD64, "t");
    Descriptor arm = parsed.select(Platform.parse("linux/arm64"), "t");
    assertThat(amd.digest()).isNotEqualTo(arm.digest());

    assertThat(copy(src, "oci:" + tmp.resolve("d") + ":x").manifest().digest()).isEqualTo(amd.digest());
    CopyResult armCopy = copy(src, "oci:" + tmp.resolve("d") + ":y",
        ImageCopier.builder().platform(Platform.parse("linux/arm64")).build(), INSECURE);
    assertThat(armCopy.manifest().digest()).isEqualTo(arm.digest());
    assertThat(JsonMapper.builder().build().readTree(TestImages.skopeoInspect("oci:" + tmp.resolve("d") + ":y"))
        .path("Architecture").asString()).isEqualTo("arm64");

    CopyResult all = copy(src, "docker://" + reg + "/all/multi:1", ImageCopier.builder().all(true).build(), INSECURE);
    assertThat(all.manifest().digest()).isEqualTo(multiIndex);
    assertThat(TestImages.skopeoRaw("docker://" + reg + "/all/multi:1")).isEqualTo(TestImages.skopeoRaw(src));

    assertThatThrownBy(() -> copy(src, "oci:" + tmp.resolve("e") + ":z",
        ImageCopier.builder().platform(Platform.parse("linux/s390x")).build(), INSECURE))
        .isInstanceOf(ImageException.class)
        .hasMessageContaining("no image for platform linux/s390x in index " + multiIndex)
        .hasMessageContaining("linux/amd64, linux/arm64");
  }

  @Test
  void aCorruptBlobInTheRegistryFailsNamingItAndLeavesNothingBehind() throws Exception {
    try (LocalRegistry own = LocalRegistry.start()) {
      TestImages.skopeoCopy("oci:" + work.resolve("layout") + ":v1", "docker://" + own.hostPort() + "/c/app:v1");
      RawManifest m = RawManifest.of(TestImages.skopeoRaw("docker://" + own.hostPort() + "/c/app:v1")
          .getBytes(StandardCharsets.UTF_8), MediaTypes.OCI_MANIFEST);
      Descriptor layer = ImageManifest.parse(m).layers().get(1);
      Path data = own.storage().resolve("docker/registry/v2/blobs/sha256/" + layer.digest().hex().substring(0, 2) + "/"
          + layer.digest().hex() + "/data");
      byte[] bytes = Files.readAllBytes(data);
      bytes[bytes.length / 2] ^= 0x55;
      Files.write(data, bytes);

      Path out = tmp.resolve("out");
      String from = "docker://" + own.hostPort() + "/c/app:v1";
      assertThatThrownBy(() -> copy(from, "oci:" + out + ":v1"))
          .isInstanceOf(ImageException.class)
          .hasMessageContaining("blob " + layer.digest() + " from " + from)
          .hasMessageContaining("failed verification");
      assertThat(OciLayout.open(out).entries()).isEmpty();
      assertThat(OciLayout.open(out).hasBlob(layer.digest())).isFalse();
      try (var s = Files.list(out)) {
        assertThat(s.map(p -> p.getFileName().toString())).containsExactlyInAnyOrder("blobs", "index.json", "oci-layout");
      }

      BlobCache cache = BlobCache.open(tmp.resolve("cache"));
      TransportOptions cached = TransportOptions.builder().tlsVerify(false).cache(cache)
          .credentialStore(CredentialStore.of(List.of())).build();
      assertThatThrownBy(() -> copy(from, "oci:" + tmp.resolve("out2") + ":v1", ImageCopier.builder().build(), cached))
          .isInstanceOf(ImageException.class)
          .hasMessageContaining("blob " + layer.digest())
          .hasMessageContaining("failed verification");
      assertThat(cache.contains(layer.digest())).isFalse();
      assertThat(Files.exists(cache.root().resolve("ingest/" + layer.digest().hex() + ".partial"))).isFalse();
    }
  }

  @Test
  void copiesThroughTheBlobCacheAndReusesIt() throws Exception {
    BlobCache cache = BlobCache.open(tmp.resolve("cache"));
    TransportOptions cached = TransportOptions.builder().tlsVerify(false).cache(cache)
        .credentialStore(CredentialStore.of(List.of())).build();
    CopyResult r = copy("docker://" + reg + "/src/app:v1", "oci:" + tmp.resolve("o1") + ":v1", ImageCopier.builder().build(),
        cached);
    for (Descriptor d : r.blobs().keySet()) assertThat(cache.contains(d.digest())).isTrue();
    assertThat(TestImages.skopeoRaw("oci:" + tmp.resolve("o1") + ":v1"))
        .isEqualTo(TestImages.skopeoRaw("docker://" + reg + "/src/app:v1"));
  }

  @Test
  void missingTagIsAClearError() {
    assertThatThrownBy(() -> copy("docker://" + reg + "/src/app:nope", "oci:" + tmp.resolve("x") + ":v1"))
        .isInstanceOf(ImageException.class)
        .hasMessageContaining("tag 'nope' not found in " + reg + "/src/app");
    assertThatThrownBy(() -> copy("oci:" + work.resolve("layout") + ":nope", "oci:" + tmp.resolve("x") + ":v1"))
        .isInstanceOf(ImageException.class)
        .hasMessageContaining("tag 'nope' not found in oci:" + work.resolve("layout"))
        .hasMessageContaining("multi");
  }
}

package dev.basalt.oci.cache;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.basalt.oci.api.Descriptor;
import dev.basalt.oci.api.Digest;
import dev.basalt.oci.api.ImageException;
import dev.basalt.oci.api.ImageManifest;
import dev.basalt.oci.api.MediaTypes;
import dev.basalt.oci.api.RawManifest;
import dev.basalt.oci.registry.BlobResponse;
import dev.basalt.oci.registry.CredentialStore;
import dev.basalt.oci.registry.RegistryClient;
import dev.basalt.oci.testing.TestImages;
import dev.basalt.testkit.LocalRegistry;
import java.io.ByteArrayInputStream;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class BlobCacheTest {
  @TempDir Path dir;

  static byte[] random(int n, long seed) {
    byte[] b = new byte[n];
    new Random(seed).nextBytes(b);
    return b;
  }

  static Descriptor layer(byte[] b) {
    return new Descriptor(MediaTypes.OCI_LAYER_TAR, Digest.sha256(b), b.length);
  }

  @Test
  void storesVerifiedBlobsUnderTheirDigest() throws Exception {
    BlobCache cache = BlobCache.open(dir);
    byte[] b = random(100_000, 1);
    Path p = cache.put(layer(b), "test", new ByteArrayInputStream(b));
    assertThat(p).isEqualTo(dir.resolve("blobs/sha256/" + Digest.sha256(b).hex()));
    assertThat(Files.readAllBytes(p)).isEqualTo(b);
    assertThat(cache.fetch(layer(b), "test", o -> { throw new AssertionError("no download for a cached blob"); }).cached())
        .isTrue();
    try (var s = Files.list(dir.resolve("ingest"))) {
      assertThat(s.filter(f -> f.toString().endsWith(".partial"))).isEmpty();
    }
  }

  @Test
  void aDigestMismatchNeverBecomesVisible() throws Exception {
    BlobCache cache = BlobCache.open(dir);
    byte[] b = random(5000, 2);
    byte[] corrupt = b.clone();
    corrupt[4000] ^= 1;
    Descriptor d = layer(b);
    assertThatThrownBy(() -> cache.put(d, "docker://x/y", new ByteArrayInputStream(corrupt)))
        .isInstanceOf(ImageException.class)
        .hasMessageContaining("blob " + d.digest() + " from docker://x/y failed verification")
        .hasMessageContaining(Digest.sha256(corrupt).toString());
    assertThat(cache.contains(d.digest())).isFalse();
    assertThat(Files.exists(dir.resolve("ingest/" + d.digest().hex() + ".partial"))).isFalse();
    assertThatThrownBy(() -> cache.put(d, "src", new ByteArrayInputStream(Arrays.copyOf(b, 6000))))
        .isInstanceOf(ImageException.class).hasMessageContaining("larger than its declared size 5000");
    assertThat(cache.contains(d.digest())).isFalse();
  }

  @Test
  void aTruncatedDownloadIsKeptAndResumedWithARangeRequestFromTheRealRegistry() throws Exception {
    try (LocalRegistry registry = LocalRegistry.start()) {
      TestImages.umociImage(dir.resolve("layout"), "v1", "amd64");
      TestImages.skopeoCopy("oci:" + dir.resolve("layout") + ":v1", "docker://" + registry.hostPort() + "/r/app:v1");
      try (RegistryClient client = RegistryClient.builder(registry.hostPort()).tlsVerify(false)
          .credentialStore(CredentialStore.of(List.of())).build()) {
        RawManifest m = client.fetchManifest("r/app", "v1");
        Descriptor d = ImageManifest.parse(m).layers().get(1);
        assertThat(d.size()).isGreaterThan(1000);
        BlobCache cache = BlobCache.open(dir.resolve("cache"));
        long half = d.size() / 2;
        // A run killed half-way: the source stops after `half` bytes.
        assertThatThrownBy(() -> cache.fetch(d, "r/app", off -> {
          try (BlobResponse r = client.fetchBlob("r/app", d.digest(), off)) {
            return new BlobCache.Ranged(new ByteArrayInputStream(r.stream().readNBytes((int) half)), r.offset());
          }
        })).isInstanceOf(ImageException.class).hasMessageContaining("truncated: got " + half + " of " + d.size())
            .hasMessageContaining("kept for resume");
        assertThat(cache.contains(d.digest())).isFalse();
        assertThat(Files.size(cache.root().resolve("ingest/" + d.digest().hex() + ".partial"))).isEqualTo(half);

        List<Long> offsets = new ArrayList<>();
        BlobCache.FetchResult r = cache.fetch(d, "r/app", off -> {
          offsets.add(off);
          BlobResponse resp = client.fetchBlob("r/app", d.digest(), off);
          return new BlobCache.Ranged(resp.stream(), resp.offset());
        });
        assertThat(offsets).containsExactly(half);
        assertThat(r.resumedFrom()).isEqualTo(half);
        assertThat(r.bytesTransferred()).isEqualTo(d.size() - half).isLessThan(d.size());
        assertThat(Digest.sha256(Files.readAllBytes(r.path()))).isEqualTo(d.digest());
      }
    }
  }

  @Test
  void aSourceThatIgnoresRangeStartsOver() throws Exception {
    BlobCache cache = BlobCache.open(dir);
    byte[] b = random(10_000, 3);
    Descriptor d = layer(b);
    Files.write(dir.resolve("ingest/" + d.digest().hex() + ".partial"), Arrays.copyOf(b, 3000));
    BlobCache.FetchResult r = cache.fetch(d, "src", off -> new BlobCache.Ranged(new ByteArrayInputStream(b), 0));
    assertThat(r.resumedFrom()).isZero();
    assertThat(r.bytesTransferred()).isEqualTo(b.length);
    assertThat(Files.readAllBytes(r.path())).isEqualTo(b);
  }

  @Test
  void aCorruptPartialFailsVerificationAndIsDiscarded() throws Exception {
    BlobCache cache = BlobCache.open(dir);
    byte[] b = random(10_000, 4);
    Descriptor d = layer(b);
    byte[] bad = Arrays.copyOf(b, 3000);
    bad[10] ^= 1;
    Path partial = dir.resolve("ingest/" + d.digest().hex() + ".partial");
    Files.write(partial, bad);
    assertThatThrownBy(() -> cache.fetch(d, "src", off -> new BlobCache.Ranged(
        new ByteArrayInputStream(Arrays.copyOfRange(b, (int) off, b.length)), off)))
        .isInstanceOf(ImageException.class).hasMessageContaining("failed verification");
    assertThat(partial).doesNotExist();
    assertThat(cache.contains(d.digest())).isFalse();
    assertThat(cache.fetch(d, "src", off -> new BlobCache.Ranged(new ByteArrayInputStream(b), 0)).cached()).isFalse();
  }

  @Test
  void concurrentFetchersOfOneBlobDownloadItOnce() throws Exception {
    byte[] b = random(2_000_000, 5);
    Descriptor d = layer(b);
    AtomicInteger downloads = new AtomicInteger();
    BlobCache.RangeFetcher slow = off -> {
      downloads.incrementAndGet();
      return new BlobCache.Ranged(new FilterInputStream(new ByteArrayInputStream(b)) {
        @Override
        public int read(byte[] buf, int o, int len) throws IOException {
          try {
            Thread.sleep(1);
          } catch (InterruptedException e) {
            throw new IOException(e);
          }
          return super.read(buf, o, Math.min(len, 50_000));
        }
      }, 0);
    };
    List<Future<BlobCache.FetchResult>> results = new ArrayList<>();
    try (var pool = Executors.newFixedThreadPool(4)) {
      for (int i = 0; i < 4; i++) {
        BlobCache cache = BlobCache.open(dir); // separate instances, as separate commands would have
        results.add(pool.submit(() -> cache.fetch(d, "src", slow)));
      }
    }
    int fresh = 0;
    for (Future<BlobCache.FetchResult> f : results) {
      BlobCache.FetchResult r = f.get();
      assertThat(Files.readAllBytes(r.path())).isEqualTo(b);
      if (!r.cached()) fresh++;
    }
    assertThat(downloads.get()).isEqualTo(1);
    assertThat(fresh).isEqualTo(1);
  }

  @Test
  void gcKeepsWhatRootsReferenceAndRemovesTheRestAndStalePartials() throws Exception {
    BlobCache cache = BlobCache.open(dir);
    byte[] config = "{\"architecture\":\"amd64\"}".getBytes();
    byte[] layerBytes = random(1000, 6);
    byte[] orphan = random(1000, 7);
    byte[] manifest = ("{\"schemaVersion\":2,\"mediaType\":\"" + MediaTypes.OCI_MANIFEST + "\",\"config\":{\"mediaType\":\""
        + MediaTypes.OCI_CONFIG + "\",\"digest\":\"" + Digest.sha256(config) + "\",\"size\":" + config.length
        + "},\"layers\":[{\"mediaType\":\"" + MediaTypes.OCI_LAYER_TAR + "\",\"digest\":\"" + Digest.sha256(layerBytes)
        + "\",\"size\":1000}]}").getBytes();
    for (byte[] b : List.of(config, layerBytes, orphan, manifest)) {
      cache.put(new Descriptor("x", Digest.sha256(b), b.length), "t", new ByteArrayInputStream(b));
    }
    Path stale = dir.resolve("ingest/" + "a".repeat(64) + ".partial");
    Path fresh = dir.resolve("ingest/" + "b".repeat(64) + ".partial");
    Files.write(stale, new byte[10]);
    Files.write(fresh, new byte[20]);
    Files.setLastModifiedTime(stale, FileTime.from(Instant.now().minus(Duration.ofDays(2))));

    BlobCache.GcResult r = cache.gc(Set.of(Digest.sha256(manifest)), Duration.ZERO, Duration.ofDays(1));
    assertThat(r.blobsDeleted()).isEqualTo(1);
    assertThat(r.partialsDeleted()).isEqualTo(1);
    assertThat(r.bytesFreed()).isEqualTo(1010);
    assertThat(cache.contains(Digest.sha256(orphan))).isFalse();
    for (byte[] b : List.of(config, layerBytes, manifest)) assertThat(cache.contains(Digest.sha256(b))).isTrue();
    assertThat(stale).doesNotExist();
    assertThat(fresh).exists();

    // minAge protects recently used blobs even when unreferenced
    assertThat(cache.gc(Set.of(), Duration.ofHours(1), Duration.ofDays(1)).blobsDeleted()).isZero();
    assertThat(cache.gc(Set.of(), Duration.ZERO, Duration.ofDays(1)).blobsDeleted()).isEqualTo(3);
  }

  @Test
  void defaultRootFollowsTheEnvironment() {
    Path home = Path.of("/home/u");
    assertThat(BlobCache.defaultRoot(Map.of("BASALT_CACHE", "/c"), home)).isEqualTo(Path.of("/c"));
    assertThat(BlobCache.defaultRoot(Map.of("XDG_CACHE_HOME", "/x"), home)).isEqualTo(Path.of("/x/basalt"));
    assertThat(BlobCache.defaultRoot(Map.of(), home)).isEqualTo(Path.of("/home/u/.cache/basalt"));
  }

  static InputStream unused() {
    return InputStream.nullInputStream();
  }
}

package dev.basalt.oci.transport;

import static dev.basalt.oci.transport.ArchiveFixtures.copy;
import static dev.basalt.oci.transport.ArchiveFixtures.listing;
import static dev.basalt.oci.transport.ArchiveFixtures.oci;
import static dev.basalt.oci.transport.ArchiveFixtures.readTar;
import static dev.basalt.oci.transport.ArchiveFixtures.skopeoManifest;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.basalt.oci.api.Descriptor;
import dev.basalt.oci.api.ImageDestination;
import dev.basalt.oci.api.ImageException;
import dev.basalt.oci.api.ImageManifest;
import dev.basalt.oci.api.ImageSource;
import dev.basalt.oci.api.RawManifest;
import dev.basalt.oci.copy.CopyResult;
import dev.basalt.oci.copy.ImageCopier;
import dev.basalt.oci.ref.ImageReference;
import dev.basalt.oci.tar.TarType;
import dev.basalt.oci.testing.TestImages;
import dev.basalt.oci.transport.ArchiveFixtures.Item;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;

/** oci-archive files written by basalt, read by skopeo; deterministic; nothing left behind on failure. */
class OciArchiveDestinationTest {
  @TempDir Path tmp;

  @Test
  void skopeoReadsTheArchiveWithIdenticalDigests() throws Exception {
    RawManifest source = skopeoManifest(oci("v1"));
    Path file = tmp.resolve("img.tar");
    copy(oci("v1"), "oci-archive:" + file + ":v1");
    assertThat(skopeoManifest("oci-archive:" + file + ":v1")).isEqualTo(source);
    JsonNode inspect = ArchiveFixtures.JSON.readTree(TestImages.skopeoInspect("oci-archive:" + file));
    assertThat(inspect.path("Digest").asString()).isEqualTo(source.digest().toString());
    assertThat(inspect.path("Architecture").asString()).isEqualTo("amd64");

    Path out = tmp.resolve("out");
    TestImages.skopeoCopy("oci-archive:" + file, "oci:" + out + ":x");
    assertThat(skopeoManifest("oci:" + out + ":x")).isEqualTo(source);
    ImageManifest m = ImageManifest.parse(source);
    for (Descriptor d : m.layers()) assertThat(out.resolve("blobs/sha256/" + d.digest().hex())).isRegularFile();
    assertThat(ArchiveFixtures.skopeoConfigDigest("oci:" + out + ":x")).isEqualTo(m.config().digest());
    assertThat(listing(tmp)).containsExactly("img.tar", "out");
  }

  @Test
  void theArchiveIsDeterministicSortedAndRootOwnedWithMtimeZero() throws Exception {
    Path a = tmp.resolve("a.tar");
    Path b = tmp.resolve("b.tar");
    copy(oci("v2"), "oci-archive:" + a + ":t");
    Thread.sleep(1100); // a second later: file times in the staging directory differ
    copy(oci("v2"), "oci-archive:" + b + ":t");
    assertThat(Files.readAllBytes(a)).isEqualTo(Files.readAllBytes(b));

    List<Item> items = readTar(a);
    ImageManifest m = ImageManifest.parse(skopeoManifest(oci("v2")));
    List<String> blobs = new java.util.ArrayList<>();
    blobs.add("blobs/sha256/" + skopeoManifest(oci("v2")).digest().hex());
    blobs.add("blobs/sha256/" + m.config().digest().hex());
    m.layers().forEach(l -> blobs.add("blobs/sha256/" + l.digest().hex()));
    java.util.Collections.sort(blobs);
    List<String> expected = new java.util.ArrayList<>(List.of("oci-layout", "index.json", "blobs/", "blobs/sha256/"));
    expected.addAll(blobs);
    assertThat(items).extracting(Item::name).containsExactlyElementsOf(expected);
    for (Item i : items) {
      assertThat(i.header().mtimeSeconds()).as(i.name()).isZero();
      assertThat(i.header().uid()).isZero();
      assertThat(i.header().gid()).isZero();
      assertThat(i.header().mode()).isEqualTo(i.header().type() == TarType.DIRECTORY ? 0755 : 0644);
    }
    // the index names the tag
    JsonNode index = ArchiveFixtures.JSON.readTree(ArchiveFixtures.find(items, "index.json").data());
    assertThat(index.path("manifests").get(0).path("annotations").path("org.opencontainers.image.ref.name").asString())
        .isEqualTo("t");
    assertThat(TestImages.skopeoInspect("oci-archive:" + a + ":t")).contains("\"Architecture\": \"arm64\"");
  }

  @Test
  void aWholeIndexGoesIntoTheArchiveWithAll() throws Exception {
    Path file = tmp.resolve("multi.tar");
    CopyResult r = ArchiveFixtures.copy(oci("multi"), "oci-archive:" + file + ":m",
        ImageCopier.builder().all(true).build());
    assertThat(r.manifest().digest()).isEqualTo(ArchiveFixtures.multiIndex());
    assertThat(skopeoManifest("oci-archive:" + file + ":m")).isEqualTo(skopeoManifest(oci("multi")));
    Path out = tmp.resolve("out");
    TestImages.skopeoCopy("oci-archive:" + file + ":m", "oci:" + out + ":m", "--all");
    assertThat(skopeoManifest("oci:" + out + ":m").digest()).isEqualTo(ArchiveFixtures.multiIndex());
    assertThat(ArchiveFixtures.JSON.readTree(TestImages.skopeoInspect("oci:" + out + ":m", "--override-arch", "arm64"))
        .path("Architecture").asString()).isEqualTo("arm64");
    // and back through basalt: the arm64 image by platform
    CopyResult arm = ArchiveFixtures.copy("oci-archive:" + file, "oci:" + tmp.resolve("arm") + ":a",
        ImageCopier.builder().platform(dev.basalt.oci.api.Platform.parse("linux/arm64")).build());
    assertThat(arm.manifest().digest()).isEqualTo(dev.basalt.oci.api.ImageIndex.parse(skopeoManifest(oci("multi")))
        .select(dev.basalt.oci.api.Platform.parse("linux/arm64"), "multi").digest());
  }

  @Test
  void aFailedCopyLeavesTheOldFileAndNoPartialOrStagingFiles() throws Exception {
    Path file = tmp.resolve("img.tar");
    Files.writeString(file, "previous content");
    // a source whose first layer fails verification half way
    try (ImageSource good = ArchiveFixtures.open(oci("v1"));
        ImageDestination d = Transports.openDestination(ImageReference.parse("oci-archive:" + file), ArchiveFixtures.OPTIONS)) {
      ImageSource bad = new CorruptingSource(good);
      assertThatThrownBy(() -> ImageCopier.builder().build().copy(bad, d))
          .isInstanceOf(ImageException.class).hasMessageContaining("failed verification");
      assertThat(listing(tmp)).hasSize(2); // the file and the staging directory while open
    }
    assertThat(Files.readString(file)).isEqualTo("previous content");
    assertThat(listing(tmp)).containsExactly("img.tar");

    // success replaces it
    copy(oci("v1"), "oci-archive:" + file);
    assertThat(skopeoManifest("oci-archive:" + file)).isEqualTo(skopeoManifest(oci("v1")));
    assertThat(listing(tmp)).containsExactly("img.tar");
  }

  @Test
  void aDestinationInAMissingDirectoryOrOnADirectoryIsAClearError() {
    Path missing = tmp.resolve("no/such/dir/x.tar");
    assertThatThrownBy(() -> copy(oci("v1"), "oci-archive:" + missing))
        .isInstanceOf(ImageException.class)
        .hasMessageContaining("oci-archive:" + missing + ": directory " + missing.getParent() + " does not exist");
    assertThatThrownBy(() -> copy(oci("v1"), "oci-archive:" + tmp))
        .isInstanceOf(ImageException.class)
        .hasMessageContaining(tmp + " is a directory, not an archive file");
  }

  /** Serves the first layer with one byte flipped. */
  static final class CorruptingSource implements ImageSource {
    private final ImageSource inner;

    CorruptingSource(ImageSource inner) {
      this.inner = inner;
    }

    @Override
    public String name() {
      return inner.name();
    }

    @Override
    public RawManifest rootManifest() throws java.io.IOException {
      return inner.rootManifest();
    }

    @Override
    public RawManifest manifest(Descriptor d) throws java.io.IOException {
      return inner.manifest(d);
    }

    @Override
    public InputStream blob(Descriptor d) throws java.io.IOException {
      Descriptor first = ImageManifest.parse(rootManifest()).layers().getFirst();
      if (!d.digest().equals(first.digest())) return inner.blob(d);
      byte[] b;
      try (InputStream in = inner.blob(d)) {
        b = in.readAllBytes();
      }
      b[b.length - 20] ^= 1;
      return new java.io.ByteArrayInputStream(b);
    }

    @Override
    public void close() {}
  }
}

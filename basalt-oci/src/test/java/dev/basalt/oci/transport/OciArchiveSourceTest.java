package dev.basalt.oci.transport;

import static dev.basalt.oci.transport.ArchiveFixtures.copy;
import static dev.basalt.oci.transport.ArchiveFixtures.find;
import static dev.basalt.oci.transport.ArchiveFixtures.oci;
import static dev.basalt.oci.transport.ArchiveFixtures.readTar;
import static dev.basalt.oci.transport.ArchiveFixtures.skopeoManifest;
import static dev.basalt.oci.transport.ArchiveFixtures.writeTar;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.basalt.oci.api.Descriptor;
import dev.basalt.oci.api.ImageException;
import dev.basalt.oci.api.ImageManifest;
import dev.basalt.oci.api.ImageSource;
import dev.basalt.oci.api.RawManifest;
import dev.basalt.oci.copy.CopyResult;
import dev.basalt.oci.copy.ProgressListener.BlobAction;
import dev.basalt.oci.layout.OciLayout;
import dev.basalt.oci.testing.TestImages;
import dev.basalt.oci.transport.ArchiveFixtures.Item;
import dev.basalt.testkit.Tools;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** oci-archive files written by skopeo, and broken ones, read by basalt. */
class OciArchiveSourceTest {
  @TempDir static Path shared;
  @TempDir Path tmp;
  static Path skopeoArchive;

  @BeforeAll
  static void skopeoWritesAnArchive() throws Exception {
    skopeoArchive = shared.resolve("skopeo.tar");
    TestImages.skopeoCopy(oci("v1"), "oci-archive:" + skopeoArchive + ":t1");
  }

  @Test
  void skopeoArchiveCopiesToOciWithTheSameManifestAndBlobDigests() throws Exception {
    RawManifest source = skopeoManifest(oci("v1"));
    Path out = tmp.resolve("out");
    CopyResult r = copy("oci-archive:" + skopeoArchive + ":t1", "oci:" + out + ":x");
    assertThat(r.manifest()).isEqualTo(source);
    assertThat(r.count(BlobAction.COPIED)).isEqualTo(3);
    ImageManifest m = ImageManifest.parse(source);
    OciLayout copied = OciLayout.open(out);
    assertThat(copied.hasBlob(m.config().digest())).isTrue();
    for (Descriptor l : m.layers()) assertThat(copied.hasBlob(l.digest())).isTrue();
    // skopeo reads every blob of our copy back (it verifies digests) and sees the same manifest
    assertThat(skopeoManifest("oci:" + out + ":x")).isEqualTo(source);
    TestImages.skopeoCopy("oci:" + out + ":x", "oci:" + tmp.resolve("check") + ":y");

    // one image, no tag needed
    try (ImageSource s = ArchiveFixtures.open("oci-archive:" + skopeoArchive)) {
      assertThat(s.rootManifest()).isEqualTo(source);
      assertThat(s.name()).isEqualTo("oci-archive:" + skopeoArchive);
    }
  }

  @Test
  void aGzipCompressedArchiveIsReadToo() throws Exception {
    Tools.require("gzip");
    Path gz = tmp.resolve("a.tar.gz");
    Tools.check("sh", "-c", "gzip -c '" + skopeoArchive + "' > '" + gz + "'");
    CopyResult r = copy("oci-archive:" + gz + ":t1", "oci:" + tmp.resolve("out") + ":x");
    assertThat(r.manifest()).isEqualTo(skopeoManifest(oci("v1")));
  }

  @Test
  void aMissingTagNamesTheTagsThatExist() {
    assertThatThrownBy(() -> ArchiveFixtures.open("oci-archive:" + skopeoArchive + ":nope").rootManifest())
        .isInstanceOf(ImageException.class)
        .hasMessageContaining("tag 'nope' not found in oci-archive:" + skopeoArchive)
        .hasMessageContaining("(tags: t1)");
  }

  @Test
  void aMissingBlobIsNamedWithTheArchive() throws Exception {
    Descriptor layer = ImageManifest.parse(skopeoManifest(oci("v1"))).layers().get(1);
    List<Item> items = new ArrayList<>(readTar(skopeoArchive));
    items.removeIf(i -> i.name().equals("blobs/sha256/" + layer.digest().hex()));
    Path broken = tmp.resolve("broken.tar");
    writeTar(broken, items);
    Path out = tmp.resolve("out");
    assertThatThrownBy(() -> copy("oci-archive:" + broken, "oci:" + out + ":x"))
        .isInstanceOf(ImageException.class)
        .hasMessageContaining("blob " + layer.digest() + " is missing from oci-archive:" + broken)
        .hasMessageContaining("no entry 'blobs/sha256/" + layer.digest().hex() + "'");
    assertThat(OciLayout.open(out).entries()).isEmpty();
  }

  @Test
  void aCorruptBlobFailsVerificationNamingTheArchive() throws Exception {
    Descriptor layer = ImageManifest.parse(skopeoManifest(oci("v1"))).layers().get(0);
    List<Item> items = new ArrayList<>(readTar(skopeoArchive));
    Item blob = find(items, "blobs/sha256/" + layer.digest().hex());
    byte[] evil = blob.data().clone();
    evil[evil.length / 2] ^= 0x42;
    items.set(items.indexOf(blob), blob.withData(evil));
    Path broken = tmp.resolve("corrupt.tar");
    writeTar(broken, items);
    assertThatThrownBy(() -> copy("oci-archive:" + broken, "oci:" + tmp.resolve("out") + ":x"))
        .isInstanceOf(ImageException.class)
        .hasMessageContaining("blob " + layer.digest() + " from oci-archive:" + broken)
        .hasMessageContaining("failed verification");
  }

  @Test
  void aTruncatedArchiveFailsAtOpenNamingTheEntry() throws Exception {
    byte[] all = Files.readAllBytes(skopeoArchive);
    Path cut = tmp.resolve("cut.tar");
    Files.write(cut, java.util.Arrays.copyOf(all, all.length / 2 + 100));
    assertThatThrownBy(() -> ArchiveFixtures.open("oci-archive:" + cut))
        .isInstanceOf(ImageException.class)
        .hasMessageContaining("oci-archive:" + cut + ": truncated tar at byte")
        .hasMessageMatching("(?s).*while reading (entry blobs/sha256/[0-9a-f]{64}|the header after entry .*).*");
    Path garbage = tmp.resolve("garbage.tar");
    Files.write(garbage, new byte[] {'n', 'o', 't', ' ', 'a', ' ', 't', 'a', 'r'});
    assertThatThrownBy(() -> ArchiveFixtures.open("oci-archive:" + garbage))
        .isInstanceOf(ImageException.class).hasMessageContaining("oci-archive:" + garbage + ": truncated tar at byte 9");
    assertThatThrownBy(() -> ArchiveFixtures.open("oci-archive:" + tmp.resolve("absent.tar")))
        .isInstanceOf(ImageException.class).hasMessageContaining("archive file " + tmp.resolve("absent.tar") + " does not exist");
  }

  @Test
  void aPathTraversalEntryRefusesTheArchive() throws Exception {
    List<Item> items = new ArrayList<>(readTar(skopeoArchive));
    items.add(Item.file("blobs/../../x", "evil"));
    Path evil = tmp.resolve("evil.tar");
    writeTar(evil, items);
    assertThatThrownBy(() -> ArchiveFixtures.open("oci-archive:" + evil))
        .isInstanceOf(ImageException.class)
        .hasMessageContaining("oci-archive:" + evil + ": entry 'blobs/../../x' at byte")
        .hasMessageContaining("points outside the archive");
    assertThat(tmp.getParent().resolve("x")).doesNotExist();
  }

  @Test
  void anArchiveWithoutOciLayoutIsNotAnOciArchive() throws Exception {
    List<Item> items = new ArrayList<>(readTar(skopeoArchive));
    items.removeIf(i -> i.name().equals("oci-layout"));
    Path plain = tmp.resolve("plain.tar");
    writeTar(plain, items);
    assertThatThrownBy(() -> ArchiveFixtures.open("oci-archive:" + plain))
        .isInstanceOf(ImageException.class)
        .hasMessageContaining("oci-archive:" + plain + " is not an OCI image layout archive (no oci-layout entry)");
  }
}

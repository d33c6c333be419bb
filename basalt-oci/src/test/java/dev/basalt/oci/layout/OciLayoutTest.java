package dev.basalt.oci.layout;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.basalt.oci.api.Descriptor;
import dev.basalt.oci.api.Digest;
import dev.basalt.oci.api.ImageException;
import dev.basalt.oci.api.MediaTypes;
import java.io.ByteArrayInputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class OciLayoutTest {
  @TempDir Path dir;

  @Test
  void createsALayoutAndTagsKeepEachOther() throws Exception {
    OciLayout l = OciLayout.create(dir.resolve("l"));
    assertThat(Files.readString(dir.resolve("l/oci-layout"))).isEqualTo("{\"imageLayoutVersion\":\"1.0.0\"}");
    byte[] m1 = "{\"schemaVersion\":2}".getBytes();
    Descriptor d1 = new Descriptor(MediaTypes.OCI_MANIFEST, Digest.sha256(m1), m1.length);
    l.putBlob(d1, new ByteArrayInputStream(m1));
    l.tag(d1, "a");
    l.tag(d1, "b");
    l.tag(d1, "a");
    assertThat(l.entries()).extracting(d -> d.annotations().get(OciLayout.REF_NAME)).containsExactly("b", "a");
    assertThat(l.find("a").digest()).isEqualTo(d1.digest());
    assertThatThrownBy(() -> l.find(null)).isInstanceOf(ImageException.class).hasMessageContaining("holds 2 images")
        .hasMessageContaining("tags: b, a");
    assertThatThrownBy(() -> l.find("zz")).isInstanceOf(ImageException.class)
        .hasMessageContaining("tag 'zz' not found in oci:" + dir.resolve("l"));
  }

  @Test
  void aBlobThatFailsVerificationLeavesNothing() throws Exception {
    OciLayout l = OciLayout.create(dir.resolve("l"));
    Descriptor d = new Descriptor(MediaTypes.OCI_LAYER_TAR, Digest.sha256("good".getBytes()), 4);
    assertThatThrownBy(() -> l.putBlob(d, new ByteArrayInputStream("evil".getBytes())))
        .isInstanceOf(ImageException.class).hasMessageContaining("blob " + d.digest()).hasMessageContaining("failed verification");
    assertThat(l.hasBlob(d.digest())).isFalse();
    try (var s = Files.list(dir.resolve("l"))) {
      assertThat(s.map(p -> p.getFileName().toString())).containsExactlyInAnyOrder("blobs", "index.json", "oci-layout");
    }
  }

  @Test
  void refusesDirectoriesThatAreNotLayouts() throws Exception {
    Files.writeString(dir.resolve("stray"), "x");
    assertThatThrownBy(() -> OciLayout.open(dir)).isInstanceOf(ImageException.class)
        .hasMessageContaining(dir + " is not an OCI image layout");
    assertThatThrownBy(() -> OciLayout.create(dir)).isInstanceOf(ImageException.class)
        .hasMessageContaining(dir + " exists and is not an OCI image layout");
  }
}

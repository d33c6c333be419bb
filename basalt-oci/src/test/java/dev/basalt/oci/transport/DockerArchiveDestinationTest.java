package dev.basalt.oci.transport;

import static dev.basalt.oci.transport.ArchiveFixtures.copy;
import static dev.basalt.oci.transport.ArchiveFixtures.diffIds;
import static dev.basalt.oci.transport.ArchiveFixtures.find;
import static dev.basalt.oci.transport.ArchiveFixtures.listing;
import static dev.basalt.oci.transport.ArchiveFixtures.oci;
import static dev.basalt.oci.transport.ArchiveFixtures.readTar;
import static dev.basalt.oci.transport.ArchiveFixtures.skopeoConfig;
import static dev.basalt.oci.transport.ArchiveFixtures.skopeoConfigDigest;
import static dev.basalt.oci.transport.ArchiveFixtures.skopeoManifest;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.basalt.oci.api.Descriptor;
import dev.basalt.oci.api.Digest;
import dev.basalt.oci.api.ImageDestination;
import dev.basalt.oci.api.ImageException;
import dev.basalt.oci.api.ImageManifest;
import dev.basalt.oci.api.MediaTypes;
import dev.basalt.oci.api.RawManifest;
import dev.basalt.oci.copy.CopyResult;
import dev.basalt.oci.copy.ImageCopier;
import dev.basalt.oci.ref.ImageReference;
import dev.basalt.oci.testing.TestImages;
import dev.basalt.oci.transport.ArchiveFixtures.Item;
import dev.basalt.testkit.LocalRegistry;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import tools.jackson.databind.JsonNode;

/** docker-archive files written by basalt, read by skopeo; diffIDs checked; nothing left behind on failure. */
class DockerArchiveDestinationTest {
  @TempDir Path tmp;

  @ParameterizedTest(name = "{0} layers")
  @ValueSource(strings = {"gzip", "zstd"})
  void skopeoReadsTheArchiveWithTheSameConfigAndDiffIds(String compression) throws Exception {
    String src = oci("v1");
    if (compression.equals("zstd")) {
      src = "oci:" + tmp.resolve("zstd") + ":v1";
      TestImages.skopeoCopy(oci("v1"), src, "--dest-compress-format", "zstd");
      assertThat(ImageManifest.parse(skopeoManifest(src)).layers()).extracting(Descriptor::mediaType)
          .containsOnly(MediaTypes.OCI_LAYER_ZSTD);
    }
    JsonNode config = skopeoConfig(src);
    Digest configDigest = skopeoConfigDigest(src);
    Path file = tmp.resolve("d.tar");
    copy(src, "docker-archive:" + file + ":foo/bar:t2");

    String ref = "docker-archive:" + file;
    RawManifest seen = skopeoManifest(ref);
    ImageManifest m = ImageManifest.parse(seen);
    assertThat(m.config().digest()).isEqualTo(configDigest);
    assertThat(m.layers()).extracting(d -> d.digest().toString()).containsExactlyElementsOf(diffIds(config));
    JsonNode inspect = ArchiveFixtures.JSON.readTree(TestImages.skopeoInspect(ref));
    assertThat(inspect.path("Layers").valueStream().map(JsonNode::asString).toList()).isEqualTo(diffIds(config));
    assertThat(skopeoConfig(ref)).isEqualTo(config);
    // skopeo copies it out (verifying every layer against its diffID); converting schema2 to OCI it re-serializes
    // the config (the trailing newline goes), so the JSON is compared here, not the digest
    TestImages.skopeoCopy(ref + ":foo/bar:t2", "oci:" + tmp.resolve("out") + ":x");
    assertThat(skopeoConfig("oci:" + tmp.resolve("out") + ":x")).isEqualTo(config);

    // layers are stored uncompressed, named by diffID
    List<Item> items = readTar(file);
    for (String id : diffIds(config)) {
      byte[] layer = find(items, Digest.parse(id).hex() + ".tar").data();
      assertThat(Digest.sha256(layer).toString()).isEqualTo(id);
    }
  }

  @Test
  void manifestJsonAndRepositoriesMatchWhatSkopeoWrites() throws Exception {
    Path ours = tmp.resolve("ours.tar");
    Path theirs = tmp.resolve("theirs.tar");
    copy(oci("v1"), "docker-archive:" + ours + ":foo/bar:t2");
    TestImages.skopeoCopy(oci("v1"), "docker-archive:" + theirs + ":foo/bar:t2");
    List<Item> a = readTar(ours);
    List<Item> b = readTar(theirs);
    for (String f : List.of("manifest.json", "repositories")) {
      assertThat(new String(find(a, f).data(), StandardCharsets.UTF_8)).as(f)
          .isEqualTo(new String(find(b, f).data(), StandardCharsets.UTF_8));
    }
    // every file skopeo writes, we write, with the same bytes (symlinks with the same targets)
    assertThat(a).extracting(Item::name).containsExactlyInAnyOrderElementsOf(b.stream().map(Item::name).toList());
    for (Item t : b) {
      Item o = find(a, t.name());
      assertThat(o.data()).as(t.name()).isEqualTo(t.data());
      assertThat(o.header().type()).as(t.name()).isEqualTo(t.header().type());
      assertThat(o.header().linkName()).as(t.name()).isEqualTo(t.header().linkName());
    }
    // without a name: no RepoTags, no legacy directories, repositories "{}"
    Path anon = tmp.resolve("anon.tar");
    copy(oci("v1"), "docker-archive:" + anon);
    List<Item> n = readTar(anon);
    assertThat(new String(find(n, "repositories").data(), StandardCharsets.UTF_8)).isEqualTo("{}");
    assertThat(new String(find(n, "manifest.json").data(), StandardCharsets.UTF_8)).contains("\"RepoTags\":[]");
    assertThat(n).hasSize(5);
  }

  @Test
  void theArchiveIsDeterministic() throws Exception {
    Path a = tmp.resolve("a.tar");
    Path b = tmp.resolve("b.tar");
    copy(oci("v2"), "docker-archive:" + a + ":x/y:1");
    Thread.sleep(1100);
    copy(oci("v2"), "docker-archive:" + b + ":x/y:1");
    assertThat(Files.readAllBytes(a)).isEqualTo(Files.readAllBytes(b));
    assertThat(readTar(a).getFirst().name()).isEqualTo("manifest.json");
    for (Item i : readTar(a)) assertThat(i.header().mtimeSeconds()).isZero();
  }

  @Test
  void registryToDockerArchiveToRegistryKeepsTheConfigDigest() throws Exception {
    try (LocalRegistry registry = LocalRegistry.start()) {
      String reg = registry.hostPort();
      TestImages.skopeoCopy(oci("v1"), "docker://" + reg + "/src/app:v1");
      Digest config = skopeoConfigDigest("docker://" + reg + "/src/app:v1");
      Path file = tmp.resolve("d.tar");
      copy("docker://" + reg + "/src/app:v1", "docker-archive:" + file + ":" + reg + "/src/app:v1");
      CopyResult back = copy("docker-archive:" + file, "docker://" + reg + "/dst/app:v1");
      assertThat(ImageManifest.parse(back.manifest()).config().digest()).isEqualTo(config);
      String dst = "docker://" + reg + "/dst/app:v1";
      assertThat(skopeoConfigDigest(dst)).isEqualTo(config);
      assertThat(skopeoConfig(dst)).isEqualTo(skopeoConfig("docker://" + reg + "/src/app:v1"));
      // the pushed layers are the uncompressed tars: digest = diffID; skopeo pulls them all (verifying digests)
      assertThat(ImageManifest.parse(skopeoManifest(dst)).layers()).allSatisfy(
          d -> assertThat(d.mediaType()).isEqualTo(MediaTypes.DOCKER_LAYER_TAR))
          .extracting(d -> d.digest().toString()).containsExactlyElementsOf(diffIds(skopeoConfig(dst)));
      TestImages.skopeoCopy(dst, "oci:" + tmp.resolve("pulled") + ":x");
      assertThat(skopeoConfig("oci:" + tmp.resolve("pulled") + ":x")).isEqualTo(skopeoConfig(dst));
    }
  }

  @Test
  void aLayerWhoseDiffIdDoesNotMatchTheConfigIsRefusedAndNothingIsWritten() throws Exception {
    RawManifest good = skopeoManifest(oci("v1"));
    ImageManifest m = ImageManifest.parse(good);
    byte[] config = ArchiveFixtures.JSON.writeValueAsBytes(
        ((tools.jackson.databind.node.ObjectNode) skopeoConfig(oci("v1"))).set("rootfs",
            ArchiveFixtures.JSON.readTree("{\"type\":\"layers\",\"diff_ids\":[\"sha256:" + "0".repeat(64) + "\",\""
                + diffIds(skopeoConfig(oci("v1"))).get(1) + "\"]}")));
    Descriptor cd = new Descriptor(MediaTypes.OCI_CONFIG, Digest.sha256(config), config.length);
    String manifest = new String(good.bytes(), StandardCharsets.UTF_8).replace(m.config().digest().toString(),
        cd.digest().toString()).replace("\"size\":" + m.config().size(), "\"size\":" + config.length);
    RawManifest bad = RawManifest.of(manifest.getBytes(StandardCharsets.UTF_8), MediaTypes.OCI_MANIFEST);
    assertThat(ImageManifest.parse(bad).config()).isEqualTo(cd);

    Path file = tmp.resolve("d.tar");
    try (var src = ArchiveFixtures.open(oci("v1"));
        ImageDestination d = Transports.openDestination(ImageReference.parse("docker-archive:" + file), ArchiveFixtures.OPTIONS)) {
      for (Descriptor l : m.layers()) d.putBlob(l, src.blob(l));
      d.putBlob(cd, new ByteArrayInputStream(config));
      assertThatThrownBy(() -> d.putManifest(bad, true))
          .isInstanceOf(ImageException.class)
          .hasMessageContaining("docker-archive:" + file + ": layer 0 (" + m.layers().get(0).digest() + ") decompresses to diffID "
              + diffIds(skopeoConfig(oci("v1"))).get(0))
          .hasMessageContaining("lists sha256:" + "0".repeat(64));
      assertThatThrownBy(d::commit).isInstanceOf(ImageException.class).hasMessageContaining("nothing to commit");
    }
    assertThat(listing(tmp)).isEmpty();
  }

  @Test
  void aCorruptLayerOrAnIndexLeavesNothingAtFile() throws Exception {
    Path file = tmp.resolve("d.tar");
    try (var good = ArchiveFixtures.open(oci("v1"));
        ImageDestination d = Transports.openDestination(ImageReference.parse("docker-archive:" + file), ArchiveFixtures.OPTIONS)) {
      assertThatThrownBy(() -> ImageCopier.builder().build().copy(new OciArchiveDestinationTest.CorruptingSource(good), d))
          .isInstanceOf(ImageException.class)
          .hasMessageContaining("docker-archive:" + file + ": cannot decompress layer sha256:")
          .hasMessageContaining("corrupt or truncated gzip data");
    }
    assertThat(listing(tmp)).isEmpty();

    try (var src = ArchiveFixtures.open(oci("multi"));
        ImageDestination d = Transports.openDestination(ImageReference.parse("docker-archive:" + file), ArchiveFixtures.OPTIONS)) {
      assertThatThrownBy(() -> ImageCopier.builder().all(true).build().copy(src, d))
          .isInstanceOf(ImageException.class)
          .hasMessageContaining("docker-archive:" + file + ": a docker archive holds single images");
    }
    assertThat(listing(tmp)).isEmpty();
    // one platform of the index is fine
    copy(oci("multi"), "docker-archive:" + file);
    assertThat(ArchiveFixtures.JSON.readTree(TestImages.skopeoInspect("docker-archive:" + file)).path("Architecture")
        .asString()).isEqualTo("amd64");
  }
}

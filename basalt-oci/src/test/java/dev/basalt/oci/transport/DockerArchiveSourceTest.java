package dev.basalt.oci.transport;

import static dev.basalt.oci.transport.ArchiveFixtures.copy;
import static dev.basalt.oci.transport.ArchiveFixtures.diffIds;
import static dev.basalt.oci.transport.ArchiveFixtures.find;
import static dev.basalt.oci.transport.ArchiveFixtures.oci;
import static dev.basalt.oci.transport.ArchiveFixtures.readTar;
import static dev.basalt.oci.transport.ArchiveFixtures.skopeoConfig;
import static dev.basalt.oci.transport.ArchiveFixtures.skopeoConfigDigest;
import static dev.basalt.oci.transport.ArchiveFixtures.skopeoManifest;
import static dev.basalt.oci.transport.ArchiveFixtures.writeTar;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.basalt.oci.api.Descriptor;
import dev.basalt.oci.api.Digest;
import dev.basalt.oci.api.ImageException;
import dev.basalt.oci.api.ImageManifest;
import dev.basalt.oci.api.ImageSource;
import dev.basalt.oci.api.MediaTypes;
import dev.basalt.oci.api.RawManifest;
import dev.basalt.oci.copy.CopyResult;
import dev.basalt.oci.testing.TestImages;
import dev.basalt.oci.transport.ArchiveFixtures.Item;
import dev.basalt.testkit.LocalRegistry;
import dev.basalt.testkit.Tools;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

/** docker-archive files written by skopeo (and docker save variants, and broken ones) read by basalt. */
class DockerArchiveSourceTest {
  @TempDir static Path shared;
  @TempDir Path tmp;
  static Path skopeoArchive;
  static JsonNode config;
  static Digest configDigest;

  @BeforeAll
  static void skopeoWritesAnArchive() throws Exception {
    skopeoArchive = shared.resolve("skopeo.tar");
    TestImages.skopeoCopy(oci("v1"), "docker-archive:" + skopeoArchive + ":foo/bar:t2");
    config = skopeoConfig(oci("v1"));
    configDigest = skopeoConfigDigest(oci("v1"));
  }

  @Test
  void skopeoArchiveKeepsTheConfigDigestAndServesLayersByDiffId() throws Exception {
    RawManifest seenBySkopeo = skopeoManifest("docker-archive:" + skopeoArchive);
    for (String ref : List.of("docker-archive:" + skopeoArchive, "docker-archive:" + skopeoArchive + ":foo/bar:t2",
        "docker-archive:" + skopeoArchive + ":docker.io/foo/bar:t2")) {
      try (ImageSource s = ArchiveFixtures.open(ref)) {
        RawManifest root = s.rootManifest();
        assertThat(root.mediaType()).isEqualTo(MediaTypes.DOCKER_MANIFEST);
        ImageManifest m = ImageManifest.parse(root);
        assertThat(m.config().digest()).isEqualTo(configDigest);
        assertThat(m.config().mediaType()).isEqualTo(MediaTypes.DOCKER_CONFIG);
        assertThat(m.layers()).extracting(d -> d.digest().toString()).containsExactlyElementsOf(diffIds(config));
        assertThat(m.layers()).extracting(Descriptor::mediaType).containsOnly(MediaTypes.DOCKER_LAYER_TAR);
        // what skopeo says, except that it labels the uncompressed tars .tar.gzip
        ImageManifest theirs = ImageManifest.parse(seenBySkopeo);
        assertThat(m.config()).isEqualTo(theirs.config());
        assertThat(m.layers()).extracting(Descriptor::digest, Descriptor::size)
            .containsExactlyElementsOf(theirs.layers().stream()
                .map(d -> org.assertj.core.groups.Tuple.tuple(d.digest(), d.size())).toList());
        assertThat(new String(s.config(m), StandardCharsets.UTF_8)).isEqualTo(
            new String(TestImages.skopeoInspect(oci("v1"), "--config", "--raw").getBytes(StandardCharsets.UTF_8),
                StandardCharsets.UTF_8));
      }
    }
    // copied to an OCI layout (bytes kept: a schema2 manifest, which skopeo 1.9 does not list from index.json, so
    // the layout is checked by reading it back) and pushed to a registry, where skopeo verifies every blob
    Path out = tmp.resolve("out");
    CopyResult r = copy("docker-archive:" + skopeoArchive, "oci:" + out + ":x");
    assertThat(ImageManifest.parse(r.manifest()).config().digest()).isEqualTo(configDigest);
    assertThat(copy("oci:" + out + ":x", "oci:" + tmp.resolve("again") + ":x").manifest()).isEqualTo(r.manifest());
    try (LocalRegistry registry = LocalRegistry.start()) {
      String dst = "docker://" + registry.hostPort() + "/from/archive:1";
      copy("docker-archive:" + skopeoArchive, dst);
      assertThat(skopeoManifest(dst)).isEqualTo(r.manifest());
      assertThat(skopeoConfigDigest(dst)).isEqualTo(configDigest);
      TestImages.skopeoCopy(dst, "oci:" + tmp.resolve("pulled") + ":y");
      assertThat(skopeoConfig("oci:" + tmp.resolve("pulled") + ":y")).isEqualTo(config);
    }
  }

  @Test
  void multiImageArchivesNeedANameLikeInSkopeo() throws Exception {
    Path second = tmp.resolve("second.tar");
    TestImages.skopeoCopy(oci("v2"), "docker-archive:" + second + ":b/two:2");
    Map<String, Item> union = new LinkedHashMap<>();
    for (Item i : readTar(skopeoArchive)) union.put(i.name(), i);
    for (Item i : readTar(second)) union.putIfAbsent(i.name(), i);
    ArrayNode both = (ArrayNode) ArchiveFixtures.JSON.readTree(find(readTar(skopeoArchive), "manifest.json").data());
    both.add(ArchiveFixtures.JSON.readTree(find(readTar(second), "manifest.json").data()).get(0));
    union.put("manifest.json", Item.file("manifest.json", ArchiveFixtures.JSON.writeValueAsBytes(both)));
    Path multi = tmp.resolve("multi.tar");
    writeTar(multi, new ArrayList<>(union.values()));

    Digest v2 = skopeoConfigDigest(oci("v2"));
    assertThatThrownBy(() -> ArchiveFixtures.open("docker-archive:" + multi))
        .isInstanceOf(ImageException.class)
        .hasMessageContaining("docker-archive:" + multi + " holds 2 images; name one with docker-archive:" + multi
            + ":NAME:TAG (RepoTags: docker.io/foo/bar:t2, docker.io/b/two:2)");
    assertThat(Tools.run(List.of("skopeo", "inspect", "docker-archive:" + multi), null, 60).stderr())
        .contains("expected 1 item, got 2");
    assertThat(configOf("docker-archive:" + multi + ":foo/bar:t2")).isEqualTo(configDigest);
    assertThat(configOf("docker-archive:" + multi + ":b/two:2")).isEqualTo(v2);
    assertThat(skopeoConfigDigest("docker-archive:" + multi + ":b/two:2")).isEqualTo(v2);
    assertThatThrownBy(() -> ArchiveFixtures.open("docker-archive:" + multi + ":c/three:3"))
        .isInstanceOf(ImageException.class)
        .hasMessageContaining("docker-archive:" + multi + ":docker.io/c/three:3: no image tagged docker.io/c/three:3 in the "
            + "archive (RepoTags: docker.io/foo/bar:t2, docker.io/b/two:2)");
  }

  private static Digest configOf(String ref) throws Exception {
    try (ImageSource s = ArchiveFixtures.open(ref)) {
      return ImageManifest.parse(s.rootManifest()).config().digest();
    }
  }

  /** Newer docker save: OCI layout inside, manifest.json paths into blobs/, layers possibly compressed. */
  @Test
  void blobPathsCompressedLayersAndSymlinkedLayersAreReadLikeSkopeoDoes() throws Exception {
    Path layout = ArchiveFixtures.layout();
    ImageManifest m = ImageManifest.parse(skopeoManifest(oci("v1")));
    List<Item> items = new ArrayList<>();
    ObjectNode item = ArchiveFixtures.JSON.createObjectNode();
    item.put("Config", "blobs/sha256/" + m.config().digest().hex());
    item.putArray("RepoTags").add("docker.io/library/new:1");
    ArrayNode layers = item.putArray("Layers");
    List<Descriptor> blobs = new ArrayList<>(m.layers());
    blobs.add(m.config());
    for (Descriptor d : blobs) {
      items.add(Item.file("blobs/sha256/" + d.digest().hex(), Files.readAllBytes(layout.resolve("blobs/sha256/" + d.digest().hex()))));
    }
    m.layers().forEach(l -> layers.add("./blobs/sha256/" + l.digest().hex()));
    items.addFirst(Item.file("manifest.json", ArchiveFixtures.JSON.writeValueAsBytes(
        ArchiveFixtures.JSON.createArrayNode().add(item))));
    Path file = tmp.resolve("new.tar");
    writeTar(file, items);

    try (ImageSource s = ArchiveFixtures.open("docker-archive:" + file + ":new:1")) {
      ImageManifest ours = ImageManifest.parse(s.rootManifest());
      assertThat(ours.config().digest()).isEqualTo(configDigest);
      assertThat(ours.layers()).extracting(d -> d.digest().toString()).containsExactlyElementsOf(diffIds(config));
      ImageManifest theirs = ImageManifest.parse(skopeoManifest("docker-archive:" + file));
      assertThat(ours.layers()).extracting(Descriptor::size)
          .containsExactlyElementsOf(theirs.layers().stream().map(Descriptor::size).toList());
    }
    CopyResult r = copy("docker-archive:" + file, "oci:" + tmp.resolve("out") + ":x");
    assertThat(ImageManifest.parse(r.manifest()).layers()).extracting(d -> d.digest().toString())
        .containsExactlyElementsOf(diffIds(config));

    // skopeo's own archive with Layers pointing at the legacy <id>/layer.tar symlinks
    List<Item> linked = rewriteManifest(readTar(skopeoArchive), entry -> {
      ArrayNode ls = entry.putArray("Layers");
      for (Item i : readTarUnchecked()) if (i.name().endsWith("/layer.tar")) ls.add(i.name());
      return entry;
    });
    Path viaLinks = tmp.resolve("links.tar");
    writeTar(viaLinks, linked);
    assertThat(configOf("docker-archive:" + viaLinks)).isEqualTo(configDigest);
    copy("docker-archive:" + viaLinks, "oci:" + tmp.resolve("out2") + ":x");
  }

  private static List<Item> readTarUnchecked() {
    try {
      return readTar(skopeoArchive);
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  private static List<Item> rewriteManifest(List<Item> items, UnaryOperator<ObjectNode> change) {
    List<Item> out = new ArrayList<>(items);
    Item mj = find(out, "manifest.json");
    ArrayNode arr = (ArrayNode) ArchiveFixtures.JSON.readTree(mj.data());
    arr.set(0, change.apply((ObjectNode) arr.get(0)));
    out.set(out.indexOf(mj), mj.withData(ArchiveFixtures.JSON.writeValueAsBytes(arr)));
    return out;
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource(delimiter = '|', value = {
      "config outside     | Config   | ../../etc/passwd | manifest.json Config '../../etc/passwd' points outside the archive",
      "absolute layer     | Layers.0 | /etc/passwd      | manifest.json Layers[0] '/etc/passwd' is an absolute path",
      "missing layer      | Layers.1 | nope.tar         | layer 1 named by manifest.json 'nope.tar' is missing from the archive",
      "missing config     | Config   | gone.json        | config named by manifest.json 'gone.json' is missing from the archive",
      "too few layers     | Layers.- | -                | manifest.json lists 1 layers but config",
  })
  void badManifestJsonIsAClearError(String what, String field, String value, String message) throws Exception {
    List<Item> items = rewriteManifest(readTar(skopeoArchive), e -> {
      switch (field) {
        case "Config" -> e.put("Config", value);
        case "Layers.-" -> ((ArrayNode) e.get("Layers")).remove(1);
        default -> ((ArrayNode) e.get("Layers")).set(Integer.parseInt(field.substring(7)),
            ArchiveFixtures.JSON.getNodeFactory().stringNode(value));
      }
      return e;
    });
    Path bad = tmp.resolve("bad.tar");
    writeTar(bad, items);
    assertThatThrownBy(() -> ArchiveFixtures.open("docker-archive:" + bad))
        .as(what)
        .isInstanceOf(ImageException.class)
        .hasMessageContaining("docker-archive:" + bad + ": " + message);
  }

  @Test
  void brokenArchivesAreClearErrors() throws Exception {
    List<Item> items = readTar(skopeoArchive);

    List<Item> noManifest = new ArrayList<>(items);
    noManifest.removeIf(i -> i.name().equals("manifest.json"));
    Path a = tmp.resolve("a.tar");
    writeTar(a, noManifest);
    assertThatThrownBy(() -> ArchiveFixtures.open("docker-archive:" + a))
        .isInstanceOf(ImageException.class)
        .hasMessageContaining("docker-archive:" + a + " has no manifest.json entry");

    List<Item> escaping = new ArrayList<>(items);
    Item link = escaping.stream().filter(i -> i.name().endsWith("/layer.tar")).findFirst().orElseThrow();
    escaping.set(escaping.indexOf(link), new Item(link.header().toBuilder().linkName("../../../etc/shadow").build(), new byte[0]));
    Path b = tmp.resolve("b.tar");
    writeTar(b, escaping);
    assertThatThrownBy(() -> ArchiveFixtures.open("docker-archive:" + b))
        .isInstanceOf(ImageException.class)
        .hasMessageContaining("docker-archive:" + b + ": symlink '" + link.name() + "' -> '../../../etc/shadow' points outside");

    // a layer whose bytes changed: found when the blob is read, naming the archive and the entry
    List<Item> corrupt = new ArrayList<>(items);
    String layerFile = Digest.parse(diffIds(config).get(1)).hex() + ".tar";
    Item layer = find(corrupt, layerFile);
    byte[] evil = layer.data().clone();
    evil[100] ^= 1;
    corrupt.set(corrupt.indexOf(layer), layer.withData(evil));
    Path c = tmp.resolve("c.tar");
    writeTar(c, corrupt);
    assertThatThrownBy(() -> copy("docker-archive:" + c, "oci:" + tmp.resolve("out") + ":x"))
        .isInstanceOf(ImageException.class)
        .hasMessageContaining("from docker-archive:" + c + " layer '" + layerFile + "'")
        .hasMessageContaining("failed verification");

    byte[] all = Files.readAllBytes(skopeoArchive);
    Path d = tmp.resolve("d.tar");
    Files.write(d, java.util.Arrays.copyOf(all, 3000));
    assertThatThrownBy(() -> ArchiveFixtures.open("docker-archive:" + d))
        .isInstanceOf(ImageException.class)
        .hasMessageContaining("docker-archive:" + d + ": truncated tar at byte");
  }

  @Test
  void aCompressedLayerWithTheWrongDiffIdFailsAtOpen() throws Exception {
    Path layout = ArchiveFixtures.layout();
    ImageManifest m = ImageManifest.parse(skopeoManifest(oci("v1")));
    // layers swapped: each decompresses to the other's diffID
    Descriptor l0 = m.layers().get(0);
    Descriptor l1 = m.layers().get(1);
    List<Item> items = new ArrayList<>();
    items.add(Item.file("c.json", Files.readAllBytes(layout.resolve("blobs/sha256/" + m.config().digest().hex()))));
    items.add(Item.file("0.tar.gz", Files.readAllBytes(layout.resolve("blobs/sha256/" + l1.digest().hex()))));
    items.add(Item.file("1.tar.gz", Files.readAllBytes(layout.resolve("blobs/sha256/" + l0.digest().hex()))));
    items.add(Item.file("manifest.json", "[{\"Config\":\"c.json\",\"RepoTags\":null,\"Layers\":[\"0.tar.gz\",\"1.tar.gz\"]}]"));
    Path file = tmp.resolve("swapped.tar");
    writeTar(file, items);
    assertThatThrownBy(() -> ArchiveFixtures.open("docker-archive:" + file))
        .isInstanceOf(ImageException.class)
        .hasMessageContaining("docker-archive:" + file + ": layer '0.tar.gz' decompresses to " + diffIds(config).get(1)
            + " but the config's diffID is " + diffIds(config).get(0));
  }
}

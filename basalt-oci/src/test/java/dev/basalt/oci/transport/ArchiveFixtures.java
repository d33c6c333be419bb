package dev.basalt.oci.transport;

import dev.basalt.oci.api.Descriptor;
import dev.basalt.oci.api.Digest;
import dev.basalt.oci.api.ImageDestination;
import dev.basalt.oci.api.ImageManifest;
import dev.basalt.oci.api.ImageSource;
import dev.basalt.oci.api.RawManifest;
import dev.basalt.oci.copy.CopyResult;
import dev.basalt.oci.copy.ImageCopier;
import dev.basalt.oci.ref.ImageReference;
import dev.basalt.oci.registry.CredentialStore;
import dev.basalt.oci.tar.TarHeader;
import dev.basalt.oci.tar.TarReader;
import dev.basalt.oci.tar.TarWriter;
import dev.basalt.oci.testing.TestImages;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/** Shared by the archive tests: one umoci-made OCI layout per JVM, copy helpers, tar surgery for bad inputs. */
final class ArchiveFixtures {
  private ArchiveFixtures() {}

  static final JsonMapper JSON = JsonMapper.builder().build();
  static final TransportOptions OPTIONS = TransportOptions.builder().tlsVerify(false)
      .credentialStore(CredentialStore.of(List.of())).build();
  private static Path layout;
  private static Digest multi;

  /**
   * {@code v1} (amd64) and {@code v2} (arm64), gzip layers as umoci writes them, and {@code multi}: an index over
   * two more images for linux/amd64 and linux/arm64.
   */
  static synchronized Path layout() throws IOException {
    if (layout == null) {
      Path dir = Files.createTempDirectory("archive-fixture");
      Runtime.getRuntime().addShutdownHook(new Thread(() -> {
        try {
          TestImages.deleteTree(dir);
        } catch (IOException ignored) {
          // temp files
        }
      }));
      TestImages.umociImage(dir.resolve("oci"), "v1", "amd64");
      TestImages.umociImage(dir.resolve("oci"), "v2", "arm64");
      multi = TestImages.multiArch(dir.resolve("oci"), "multi");
      layout = dir.resolve("oci");
    }
    return layout;
  }

  /** The digest of the {@code multi} index. */
  static synchronized Digest multiIndex() throws IOException {
    layout();
    return multi;
  }

  static String oci(String tag) throws IOException {
    return "oci:" + layout() + ":" + tag;
  }

  static CopyResult copy(String from, String to) throws IOException {
    return copy(from, to, ImageCopier.builder().build());
  }

  static CopyResult copy(String from, String to, ImageCopier copier) throws IOException {
    try (ImageSource s = Transports.openSource(ImageReference.parse(from), OPTIONS);
        ImageDestination d = Transports.openDestination(ImageReference.parse(to), OPTIONS)) {
      return copier.copy(s, d);
    }
  }

  static ImageSource open(String ref) throws IOException {
    return Transports.openSource(ImageReference.parse(ref), OPTIONS);
  }

  /** The image's manifest as skopeo sees it ({@code inspect --raw}). */
  static RawManifest skopeoManifest(String ref) {
    byte[] b = TestImages.skopeoRaw(ref).getBytes(StandardCharsets.UTF_8);
    return RawManifest.of(b, sniff(b));
  }

  static String sniff(byte[] b) {
    try {
      return dev.basalt.oci.api.Manifests.sniffMediaType(b, "test manifest");
    } catch (IOException e) {
      throw new AssertionError(e);
    }
  }

  /** {@code skopeo inspect --config} parsed. */
  static JsonNode skopeoConfig(String ref) {
    return JSON.readTree(TestImages.skopeoInspect(ref, "--config"));
  }

  /** The config digest of an image as skopeo sees it (from its raw manifest). */
  static Digest skopeoConfigDigest(String ref) throws IOException {
    return ImageManifest.parse(skopeoManifest(ref)).config().digest();
  }

  static List<String> diffIds(JsonNode config) {
    List<String> out = new ArrayList<>();
    config.path("rootfs").path("diff_ids").forEach(n -> out.add(n.asString()));
    return out;
  }

  static List<Digest> digests(List<Descriptor> ds) {
    return ds.stream().map(Descriptor::digest).toList();
  }

  /** One tar entry with its content in memory (test archives are small). */
  record Item(TarHeader header, byte[] data) {
    static Item file(String name, byte[] data) {
      return new Item(ArchiveOutput.fileHeader(name, data.length), data);
    }

    static Item file(String name, String data) {
      return file(name, data.getBytes(StandardCharsets.UTF_8));
    }

    Item withData(byte[] d) {
      return new Item(header.toBuilder().size(d.length).build(), d);
    }

    String name() {
      return header.name();
    }
  }

  static List<Item> readTar(Path file) throws IOException {
    List<Item> out = new ArrayList<>();
    try (InputStream in = Files.newInputStream(file); TarReader r = new TarReader(in, file.toString())) {
      for (TarHeader h; (h = r.next()) != null; ) out.add(new Item(h, r.content().readAllBytes()));
    }
    return out;
  }

  static void writeTar(Path file, List<Item> items) throws IOException {
    try (TarWriter w = new TarWriter(Files.newOutputStream(file))) {
      for (Item i : items) w.add(i.header(), i.data().length == 0 ? null : new ByteArrayInputStream(i.data()));
    }
  }

  static Item find(List<Item> items, String name) {
    return items.stream().filter(i -> i.name().equals(name)).findFirst()
        .orElseThrow(() -> new AssertionError("no entry " + name + " in " + items.stream().map(Item::name).toList()));
  }

  /** Files left in {@code dir} (staging directories and .partial files must not survive). */
  static List<String> listing(Path dir) throws IOException {
    try (var s = Files.list(dir)) {
      return s.map(p -> p.getFileName().toString()).sorted().toList();
    }
  }
}

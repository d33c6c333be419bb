package dev.basalt.oci.testing;

import dev.basalt.oci.api.Digest;
import dev.basalt.testkit.Tools;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

/** Small real images made with umoci and moved with skopeo, for tests that compare against the real tools. */
public final class TestImages {
  private TestImages() {}

  public static final String SKOPEO_INSECURE_SRC = "--src-tls-verify=false";
  public static final String SKOPEO_INSECURE_DEST = "--dest-tls-verify=false";

  /**
   * An OCI layout at {@code layout} with image {@code tag}: two layers (gzip, as umoci writes them), env and a
   * label, for {@code arch}.
   */
  public static Path umociImage(Path layout, String tag, String arch) throws IOException {
    Tools.require("umoci");
    if (!Files.exists(layout.resolve("index.json"))) Tools.check("umoci", "init", "--layout", layout.toString());
    String image = layout + ":" + tag;
    Tools.check("umoci", "new", "--image", image);
    for (int i = 1; i <= 2; i++) {
      Path bundle = Files.createTempDirectory("umoci-bundle");
      Files.delete(bundle);
      Tools.check("umoci", "unpack", "--image", image, bundle.toString());
      Path etc = bundle.resolve("rootfs/etc");
      Files.createDirectories(etc);
      Files.writeString(etc.resolve("layer" + i), "layer " + i + " of " + tag + " for " + arch + "\n");
      byte[] noise = new byte[20_000 * i];
      new java.util.Random(tag.hashCode() * 31L + arch.hashCode() + i).nextBytes(noise);
      Files.write(etc.resolve("blob" + i), noise);
      Tools.check("umoci", "repack", "--image", image, bundle.toString());
      deleteTree(bundle);
    }
    Tools.check("umoci", "config", "--image", image, "--architecture", arch, "--os", "linux",
        "--config.env", "FOO=bar", "--config.label", "org.example=basalt", "--author", "basalt-test");
    Tools.check("umoci", "gc", "--layout", layout.toString());
    return layout;
  }

  /**
   * Adds tag {@code multi} to {@code layout}: an OCI index over two umoci images, linux/amd64 and linux/arm64.
   *
   * @return the index digest
   */
  public static Digest multiArch(Path layout, String multi) throws IOException {
    umociImage(layout, multi + "-amd64", "amd64");
    umociImage(layout, multi + "-arm64", "arm64");
    JsonMapper json = JsonMapper.builder().build();
    ObjectNode index = (ObjectNode) json.readTree(Files.readString(layout.resolve("index.json")));
    ObjectNode list = json.createObjectNode();
    list.put("schemaVersion", 2);
    list.put("mediaType", "application/vnd.oci.image.index.v1+json");
    ArrayNode ms = list.putArray("manifests");
    for (String arch : List.of("amd64", "arm64")) {
      for (var m : index.get("manifests")) {
        if (m.path("annotations").path("org.opencontainers.image.ref.name").asString("").equals(multi + "-" + arch)) {
          ObjectNode e = ms.addObject();
          e.put("mediaType", m.get("mediaType").asString());
          e.put("digest", m.get("digest").asString());
          e.put("size", m.get("size").asLong());
          e.putObject("platform").put("architecture", arch).put("os", "linux");
        }
      }
    }
    byte[] bytes = json.writeValueAsBytes(list);
    Digest d = Digest.sha256(bytes);
    Files.write(layout.resolve("blobs/sha256").resolve(d.hex()), bytes);
    ObjectNode entry = ((ArrayNode) index.get("manifests")).addObject();
    entry.put("mediaType", "application/vnd.oci.image.index.v1+json");
    entry.put("digest", d.toString());
    entry.put("size", bytes.length);
    entry.putObject("annotations").put("org.opencontainers.image.ref.name", multi);
    Files.writeString(layout.resolve("index.json"), json.writeValueAsString(index), StandardCharsets.UTF_8);
    return d;
  }

  /** {@code skopeo copy} with TLS verification off on both sides. */
  public static void skopeoCopy(String from, String to, String... extra) {
    Tools.require("skopeo");
    List<String> cmd = new java.util.ArrayList<>(List.of("skopeo", "copy", "-q", SKOPEO_INSECURE_SRC,
        SKOPEO_INSECURE_DEST));
    cmd.addAll(List.of(extra));
    cmd.add(from);
    cmd.add(to);
    Tools.run(cmd, null, 120).requireSuccess(cmd);
  }

  /** {@code skopeo inspect [--raw|--config] REF} output. */
  public static String skopeoInspect(String ref, String... flags) {
    List<String> cmd = new java.util.ArrayList<>(List.of("skopeo", "inspect", "--tls-verify=false"));
    if (ref.startsWith("oci") || ref.startsWith("docker-archive")) cmd.remove(2);
    cmd.addAll(List.of(flags));
    cmd.add(ref);
    return Tools.run(cmd, null, 60).requireSuccess(cmd).stdout();
  }

  /** {@code skopeo inspect --raw} bytes as a string (skopeo prints them unchanged). */
  public static String skopeoRaw(String ref) {
    return skopeoInspect(ref, "--raw");
  }

  public static void deleteTree(Path root) throws IOException {
    if (!Files.exists(root)) return;
    try (var s = Files.walk(root)) {
      for (Path p : s.sorted(java.util.Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
    }
  }
}

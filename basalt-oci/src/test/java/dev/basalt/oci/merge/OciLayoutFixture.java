package dev.basalt.oci.merge;

import dev.basalt.oci.api.Descriptor;
import dev.basalt.oci.api.Digest;
import dev.basalt.oci.api.MediaTypes;
import dev.basalt.oci.api.MediaTypes.Compression;
import dev.basalt.oci.compress.LayerStreams;
import dev.basalt.testkit.Tools;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Test helper: a minimal OCI image layout (oci-layout, index.json, manifest, config, blobs) so
 * real tools (umoci) can unpack the same layers our merge reads. The real layout code lives elsewhere.
 */
final class OciLayoutFixture {
  private OciLayoutFixture() {}

  /** Tars a real directory with GNU tar (PAX, xattrs, numeric owners) — the layer bytes, uncompressed. */
  static byte[] tarDirectory(Path dir) throws IOException {
    Tools.require("tar");
    Path out = Files.createTempFile("layer", ".tar");
    try {
      Tools.check("tar", "--xattrs", "--xattrs-include=*", "--format=pax", "--numeric-owner", "--sort=name",
          "-C", dir.toString(), "-cf", out.toString(), ".");
      return Files.readAllBytes(out);
    } finally {
      Files.deleteIfExists(out);
    }
  }

  static byte[] compress(byte[] tar, Compression c) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (OutputStream z = LayerStreams.compress(out, c, c == Compression.ZSTD ? 3 : 6)) {
      z.write(tar);
    }
    return out.toByteArray();
  }

  static String mediaType(Compression c) {
    return switch (c) {
      case NONE -> MediaTypes.OCI_LAYER_TAR;
      case GZIP -> MediaTypes.OCI_LAYER_GZIP;
      case ZSTD -> MediaTypes.OCI_LAYER_ZSTD;
    };
  }

  /** Writes the layout with tag {@code tag}; returns the layer descriptors bottom-first. */
  static List<Descriptor> write(Path layout, String tag, List<byte[]> tars, Compression c) throws IOException {
    Files.createDirectories(layout.resolve("blobs/sha256"));
    Files.writeString(layout.resolve("oci-layout"), "{\"imageLayoutVersion\":\"1.0.0\"}");
    List<Descriptor> layers = new ArrayList<>();
    StringBuilder diffIds = new StringBuilder();
    for (byte[] tar : tars) {
      byte[] blob = compress(tar, c);
      Descriptor d = new Descriptor(mediaType(c), blob(layout, blob), blob.length);
      layers.add(d);
      if (diffIds.length() > 0) diffIds.append(',');
      diffIds.append('"').append(Digest.sha256(tar)).append('"');
    }
    byte[] config = ("{\"architecture\":\"amd64\",\"os\":\"linux\",\"config\":{},"
        + "\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[" + diffIds + "]}}").getBytes(StandardCharsets.UTF_8);
    Digest configDigest = blob(layout, config);
    StringBuilder m = new StringBuilder("{\"schemaVersion\":2,\"mediaType\":\"" + MediaTypes.OCI_MANIFEST + "\","
        + "\"config\":{\"mediaType\":\"" + MediaTypes.OCI_CONFIG + "\",\"digest\":\"" + configDigest + "\",\"size\":"
        + config.length + "},\"layers\":[");
    for (int i = 0; i < layers.size(); i++) {
      Descriptor d = layers.get(i);
      if (i > 0) m.append(',');
      m.append("{\"mediaType\":\"").append(d.mediaType()).append("\",\"digest\":\"").append(d.digest())
          .append("\",\"size\":").append(d.size()).append('}');
    }
    byte[] manifest = m.append("]}").toString().getBytes(StandardCharsets.UTF_8);
    Digest manifestDigest = blob(layout, manifest);
    Files.writeString(layout.resolve("index.json"), "{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":\""
        + MediaTypes.OCI_MANIFEST + "\",\"digest\":\"" + manifestDigest + "\",\"size\":" + manifest.length
        + ",\"annotations\":{\"org.opencontainers.image.ref.name\":\"" + tag + "\"}}]}");
    return layers;
  }

  static Path blobPath(Path layout, Descriptor d) {
    return layout.resolve("blobs").resolve(d.digest().algorithm()).resolve(d.digest().hex());
  }

  private static Digest blob(Path layout, byte[] content) throws IOException {
    Digest d = Digest.sha256(content);
    Files.write(layout.resolve("blobs/sha256").resolve(d.hex()), content);
    return d;
  }
}

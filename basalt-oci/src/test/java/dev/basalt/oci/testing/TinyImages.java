package dev.basalt.oci.testing;

import dev.basalt.oci.api.Descriptor;
import dev.basalt.oci.api.Digest;
import dev.basalt.oci.api.MediaTypes;
import dev.basalt.oci.api.RawManifest;
import dev.basalt.oci.registry.RegistryClient;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;

/** Minimal valid images (one empty-tar layer, a config that differs by {@code label}) pushed with our client. */
public final class TinyImages {
  private TinyImages() {}

  public static final byte[] EMPTY_TAR = new byte[1024];

  public static RawManifest push(RegistryClient client, String repository, String tag, String label) throws IOException {
    Digest layer = Digest.sha256(EMPTY_TAR);
    byte[] config = ("{\"architecture\":\"amd64\",\"os\":\"linux\",\"config\":{\"Labels\":{\"t\":\"" + label + "\"}},"
        + "\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"" + layer + "\"]}}").getBytes(StandardCharsets.UTF_8);
    Descriptor c = new Descriptor(MediaTypes.OCI_CONFIG, Digest.sha256(config), config.length);
    Descriptor l = new Descriptor(MediaTypes.OCI_LAYER_TAR, layer, EMPTY_TAR.length);
    client.pushBlob(repository, c, () -> new ByteArrayInputStream(config));
    client.pushBlob(repository, l, () -> new ByteArrayInputStream(EMPTY_TAR));
    String m = "{\"schemaVersion\":2,\"mediaType\":\"" + MediaTypes.OCI_MANIFEST + "\",\"config\":{\"mediaType\":\""
        + c.mediaType() + "\",\"digest\":\"" + c.digest() + "\",\"size\":" + c.size() + "},\"layers\":[{\"mediaType\":\""
        + l.mediaType() + "\",\"digest\":\"" + l.digest() + "\",\"size\":" + l.size() + "}]}";
    RawManifest raw = RawManifest.of(m.getBytes(StandardCharsets.UTF_8), MediaTypes.OCI_MANIFEST);
    client.pushManifest(repository, tag, raw);
    return raw;
  }
}

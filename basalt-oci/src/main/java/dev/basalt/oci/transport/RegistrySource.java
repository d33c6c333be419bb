package dev.basalt.oci.transport;

import dev.basalt.oci.api.Descriptor;
import dev.basalt.oci.api.ImageException;
import dev.basalt.oci.api.ImageSource;
import dev.basalt.oci.api.RawManifest;
import dev.basalt.oci.api.VerifyingInputStream;
import dev.basalt.oci.cache.BlobCache;
import dev.basalt.oci.ref.DockerReference;
import dev.basalt.oci.registry.BlobResponse;
import dev.basalt.oci.registry.RegistryClient;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.util.List;

/** {@code docker://} source; blobs stream through the cache when one is configured. */
final class RegistrySource implements ImageSource {
  final DockerReference ref;
  final RegistryClient client;
  private final BlobCache cache;
  private RawManifest root;

  RegistrySource(DockerReference ref, RegistryClient client, BlobCache cache) {
    this.ref = ref;
    this.client = client;
    this.cache = cache;
  }

  @Override
  public String name() {
    return ref.toString();
  }

  @Override
  public synchronized RawManifest rootManifest() throws IOException {
    if (root == null) root = client.fetchManifest(ref.repository(), ref.reference());
    return root;
  }

  @Override
  public RawManifest manifest(Descriptor d) throws IOException {
    RawManifest m = client.fetchManifest(ref.repository(), d.digest().toString());
    if (m.size() != d.size()) {
      throw new ImageException("manifest " + d.digest() + " of " + name() + " is " + m.size() + " bytes, index says "
          + d.size());
    }
    return m;
  }

  @Override
  public InputStream blob(Descriptor d) throws IOException {
    if (cache != null) {
      BlobCache.FetchResult r = cache.fetch(d, name(), offset -> {
        BlobResponse resp = client.fetchBlob(ref.repository(), d.digest(), offset);
        return new BlobCache.Ranged(resp.stream(), resp.offset());
      });
      return new VerifyingInputStream(Files.newInputStream(r.path()), d, "cache " + cache.root());
    }
    BlobResponse resp = client.fetchBlob(ref.repository(), d.digest(), 0);
    return new VerifyingInputStream(resp.stream(), d, name());
  }

  @Override
  public List<String> tags() throws IOException {
    return client.listTags(ref.repository());
  }

  @Override
  public void close() {
    client.close();
  }
}

package dev.basalt.oci.transport;

import dev.basalt.oci.api.Descriptor;
import dev.basalt.oci.api.ImageDestination;
import dev.basalt.oci.api.ImageException;
import dev.basalt.oci.api.ImageSource;
import dev.basalt.oci.api.RawManifest;
import dev.basalt.oci.api.VerifyingInputStream;
import dev.basalt.oci.ref.DockerReference;
import dev.basalt.oci.registry.RegistryClient;
import java.io.IOException;
import java.io.InputStream;
import java.util.concurrent.atomic.AtomicBoolean;

/** {@code docker://} destination: blobs by digest, cross-repository mounts, manifests as raw bytes. */
final class RegistryDestination implements ImageDestination {
  private final DockerReference ref;
  private final RegistryClient client;

  RegistryDestination(DockerReference ref, RegistryClient client) {
    this.ref = ref;
    this.client = client;
  }

  @Override
  public String name() {
    return ref.toString();
  }

  @Override
  public boolean hasBlob(Descriptor d) throws IOException {
    return client.blobExists(ref.repository(), d.digest());
  }

  @Override
  public boolean mountBlob(Descriptor d, ImageSource from) throws IOException {
    if (!(from instanceof RegistrySource rs) || !rs.ref.sameRegistry(ref)
        || rs.ref.repository().equals(ref.repository())) {
      return false;
    }
    return client.mountBlob(rs.ref.repository(), ref.repository(), d.digest());
  }

  @Override
  public void putBlob(Descriptor d, InputStream content) throws IOException {
    AtomicBoolean used = new AtomicBoolean();
    client.pushBlob(ref.repository(), d, () -> {
      // The source stream can be sent once; a retry after it was consumed fails with a clear error.
      if (used.getAndSet(true)) throw new ImageException("cannot retry upload of blob " + d.digest() + " to " + name());
      return new VerifyingInputStream(content, d, "source of " + d.digest());
    });
  }

  @Override
  public void putManifest(RawManifest m, boolean root) throws IOException {
    String reference = m.digest().toString();
    if (root) {
      if (ref.digest() != null && !ref.digest().equals(m.digest())) {
        throw new ImageException("destination " + name() + " names digest " + ref.digest() + " but the manifest is "
            + m.digest());
      }
      reference = ref.reference();
    }
    client.pushManifest(ref.repository(), reference, m);
  }

  @Override
  public void commit() {
    // The tag moved with the root manifest PUT.
  }

  @Override
  public void close() {
    client.close();
  }
}

package dev.basalt.oci.transport;

import dev.basalt.oci.api.ImageDestination;
import dev.basalt.oci.api.ImageSource;
import dev.basalt.oci.layout.OciLayout;
import dev.basalt.oci.ref.DockerArchiveReference;
import dev.basalt.oci.ref.DockerReference;
import dev.basalt.oci.ref.ImageReference;
import dev.basalt.oci.ref.OciArchiveReference;
import dev.basalt.oci.ref.OciLayoutReference;
import dev.basalt.oci.registry.RegistryClient;
import dev.basalt.oci.registry.RegistryClientBuilder;
import java.io.IOException;

/** Opens sources and destinations for every transport. */
public final class Transports {
  private Transports() {}

  public static ImageSource openSource(ImageReference ref, TransportOptions options) throws IOException {
    return switch (ref) {
      case DockerReference d -> new RegistrySource(d, client(d, options), options.cache);
      case OciLayoutReference o -> new OciLayoutSource(OciLayout.open(o.directory()), o.tag(), o.toString(), null);
      case OciArchiveReference a -> Archives.openOciArchive(a);
      case DockerArchiveReference a -> Archives.openDockerArchive(a);
    };
  }

  public static ImageDestination openDestination(ImageReference ref, TransportOptions options) throws IOException {
    return switch (ref) {
      case DockerReference d -> new RegistryDestination(d, client(d, options));
      case OciLayoutReference o -> new OciLayoutDestination(OciLayout.create(o.directory()), o.tag(), o.toString(), null);
      case OciArchiveReference a -> Archives.createOciArchive(a);
      case DockerArchiveReference a -> Archives.createDockerArchive(a);
    };
  }

  private static RegistryClient client(DockerReference d, TransportOptions options) {
    RegistryClientBuilder b = RegistryClient.builder(d.registry());
    options.configure(b);
    return b.build();
  }
}

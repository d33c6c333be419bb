package dev.basalt.oci.transport;

import dev.basalt.oci.api.ImageDestination;
import dev.basalt.oci.api.ImageException;
import dev.basalt.oci.api.ImageSource;
import dev.basalt.oci.ref.DockerArchiveReference;
import dev.basalt.oci.ref.OciArchiveReference;

/** oci-archive and docker-archive: they need the project's tar reader/writer (dev.basalt.oci.tar). */
final class Archives {
  private Archives() {}

  static ImageSource openOciArchive(OciArchiveReference r) throws ImageException {
    throw unsupported(r.toString());
  }

  static ImageSource openDockerArchive(DockerArchiveReference r) throws ImageException {
    throw unsupported(r.toString());
  }

  static ImageDestination createOciArchive(OciArchiveReference r) throws ImageException {
    throw unsupported(r.toString());
  }

  static ImageDestination createDockerArchive(DockerArchiveReference r) throws ImageException {
    throw unsupported(r.toString());
  }

  private static ImageException unsupported(String ref) {
    return new ImageException(ref + ": archive transports are not available yet (they wait for dev.basalt.oci.tar)");
  }
}

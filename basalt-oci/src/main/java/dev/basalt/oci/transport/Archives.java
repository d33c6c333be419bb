package dev.basalt.oci.transport;

import dev.basalt.oci.api.ImageDestination;
import dev.basalt.oci.api.ImageSource;
import dev.basalt.oci.ref.DockerArchiveReference;
import dev.basalt.oci.ref.OciArchiveReference;
import java.io.IOException;

/**
 * oci-archive and docker-archive. Reading indexes the tar once and reads entries in place by offset
 * ({@link ArchiveIndex}); writing stages beside FILE and renames a finished, fsynced tar over it at commit.
 */
final class Archives {
  private Archives() {}

  static ImageSource openOciArchive(OciArchiveReference r) throws IOException {
    return OciArchiveSource.open(r.file(), r.tag(), r.toString());
  }

  static ImageSource openDockerArchive(DockerArchiveReference r) throws IOException {
    return DockerArchiveSource.open(r.file(), r.name(), r.toString());
  }

  static ImageDestination createOciArchive(OciArchiveReference r) throws IOException {
    return OciArchiveDestination.create(r.file(), r.tag(), r.toString());
  }

  static ImageDestination createDockerArchive(DockerArchiveReference r) throws IOException {
    return DockerArchiveDestination.create(r.file(), r.name(), r.toString());
  }
}

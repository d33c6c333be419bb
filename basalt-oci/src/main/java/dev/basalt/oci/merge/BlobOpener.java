package dev.basalt.oci.merge;

import java.io.IOException;
import java.io.InputStream;

/** Opens a blob's stored (compressed) bytes from the start; may be called more than once. */
@FunctionalInterface
public interface BlobOpener {
  InputStream open() throws IOException;
}

package dev.basalt.oci.registry;

import java.io.IOException;
import java.io.InputStream;

/**
 * A blob download.
 *
 * @param offset where {@code stream} starts in the blob: the requested offset when the registry honored the Range
 *     request, else 0
 * @param length bytes the stream will deliver, or -1 when unknown
 */
public record BlobResponse(InputStream stream, long offset, long length) implements AutoCloseable {
  @Override
  public void close() throws IOException {
    stream.close();
  }
}

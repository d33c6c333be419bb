package dev.basalt.fs.tree;

import java.io.IOException;
import java.io.InputStream;

/**
 * Receives a tree one entry at a time (EROFS writer, tar writer, ...).
 *
 * <p>Not thread-safe. After {@link #finish()} or a failed call, no further calls are allowed.
 */
public interface TreeSink {

  /**
   * Adds one entry.
   *
   * @param content for a {@link TreeEntry.RegularFile}, a stream of exactly {@code size()} bytes,
   *     read only during this call and not closed by the sink; {@code null} for every other kind
   * @throws IOException on I/O failure, or a {@link TreeException} when the entry is invalid for
   *     this sink (duplicate path, name too long, hardlink to an unknown entry, ...)
   */
  void add(TreeEntry entry, InputStream content) throws IOException;

  /** Completes the output (a writer that writes metadata last does it here). */
  void finish() throws IOException;
}

package dev.basalt.oci.api;

import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;

/**
 * Writes one image through any transport. Blobs first, then manifests (children of an index before the index),
 * then {@link #commit()}. Closing without commit leaves no new image visible.
 */
public interface ImageDestination extends Closeable {
  /** The reference, for messages. */
  String name();

  /** True when the destination already holds this blob (it will not be copied again). */
  boolean hasBlob(Descriptor descriptor) throws IOException;

  /**
   * Tries to obtain the blob without copying it (a cross-repository mount on the same registry).
   *
   * @return true when the destination now has the blob
   */
  default boolean mountBlob(Descriptor descriptor, ImageSource from) throws IOException {
    return false;
  }

  /** Stores a blob, verifying its size and digest; on failure nothing of it stays visible. */
  void putBlob(Descriptor descriptor, InputStream content) throws IOException;

  /**
   * Stores a manifest or index by its digest.
   *
   * @param root true for the manifest the destination reference (tag) must point at
   */
  void putManifest(RawManifest manifest, boolean root) throws IOException;

  /** Makes the image visible (writes index.json, the archive file, ...). */
  void commit() throws IOException;
}

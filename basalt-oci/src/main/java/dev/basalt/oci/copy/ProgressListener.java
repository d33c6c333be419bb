package dev.basalt.oci.copy;

import dev.basalt.oci.api.Descriptor;
import dev.basalt.oci.api.RawManifest;

/**
 * Copy progress, called from the transfer threads (implementations must be thread-safe). The CLI draws bars on a
 * terminal and stays quiet otherwise; {@link #NONE} ignores everything.
 */
public interface ProgressListener {
  ProgressListener NONE = new ProgressListener() {};

  /** What happened to one blob. */
  enum BlobAction { COPIED, SKIPPED, MOUNTED }

  default void blobStarted(Descriptor blob) {}

  /** {@code bytes} more bytes of {@code blob} went through. */
  default void blobProgress(Descriptor blob, long bytes) {}

  default void blobDone(Descriptor blob, BlobAction action) {}

  default void manifestWritten(RawManifest manifest) {}
}

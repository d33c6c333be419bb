package dev.basalt.oci.copy;

import dev.basalt.oci.api.Descriptor;
import dev.basalt.oci.api.RawManifest;
import java.util.Map;

/**
 * @param manifest what the destination reference now points at (an index with {@code --all})
 * @param blobs every blob of the copy and what was done with it
 */
public record CopyResult(RawManifest manifest, Map<Descriptor, ProgressListener.BlobAction> blobs) {
  public CopyResult {
    blobs = Map.copyOf(blobs);
  }

  public long count(ProgressListener.BlobAction action) {
    return blobs.values().stream().filter(a -> a == action).count();
  }
}

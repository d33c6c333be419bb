package dev.basalt.oci.api;

import java.util.Map;
import java.util.Objects;

/**
 * An OCI content descriptor.
 *
 * @param annotations never null, unmodifiable
 * @param platform {@code null} unless in an index
 */
public record Descriptor(String mediaType, Digest digest, long size, Map<String, String> annotations, Platform platform) {
  public Descriptor {
    Objects.requireNonNull(mediaType, "mediaType");
    Objects.requireNonNull(digest, "digest");
    if (size < 0) throw new IllegalArgumentException("negative size in descriptor " + digest);
    annotations = annotations == null ? Map.of() : Map.copyOf(annotations);
  }

  public Descriptor(String mediaType, Digest digest, long size) {
    this(mediaType, digest, size, Map.of(), null);
  }
}

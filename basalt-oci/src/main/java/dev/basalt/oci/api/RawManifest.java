package dev.basalt.oci.api;

import java.util.Arrays;
import java.util.Objects;

/**
 * A manifest or index exactly as stored: its bytes are never re-serialized, so the digest holds end to end.
 *
 * @param mediaType one of {@link MediaTypes#MANIFESTS} or {@link MediaTypes#INDEXES}
 * @param digest the digest of {@code bytes}
 */
public record RawManifest(byte[] bytes, String mediaType, Digest digest) {
  public RawManifest {
    Objects.requireNonNull(bytes, "bytes");
    Objects.requireNonNull(mediaType, "mediaType");
    Objects.requireNonNull(digest, "digest");
    bytes = bytes.clone();
  }

  /** Wraps bytes, computing their sha256 digest. */
  public static RawManifest of(byte[] bytes, String mediaType) {
    return new RawManifest(bytes, mediaType, Digest.sha256(bytes));
  }

  @Override
  public byte[] bytes() {
    return bytes.clone();
  }

  public long size() {
    return bytes.length;
  }

  public boolean isIndex() {
    return MediaTypes.INDEXES.contains(mediaType);
  }

  /** A descriptor of this manifest (no annotations, no platform). */
  public Descriptor descriptor() {
    return new Descriptor(mediaType, digest, bytes.length);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof RawManifest r && r.mediaType.equals(mediaType) && r.digest.equals(digest)
        && Arrays.equals(r.bytes, bytes);
  }

  @Override
  public int hashCode() {
    return digest.hashCode();
  }

  @Override
  public String toString() {
    return "RawManifest[" + mediaType + " " + digest + " " + bytes.length + " bytes]";
  }
}

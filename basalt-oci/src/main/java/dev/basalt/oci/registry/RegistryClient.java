package dev.basalt.oci.registry;

import dev.basalt.oci.api.Descriptor;
import dev.basalt.oci.api.Digest;
import dev.basalt.oci.api.RawManifest;
import java.io.IOException;
import java.io.InputStream;
import java.util.List;
import java.util.Optional;

/**
 * The Distribution API of one registry. Manifests travel as raw bytes (never re-serialized). Errors are
 * {@link RegistryException}s naming the URL and status; 5xx and network errors are retried a bounded number of
 * times; every request has connect and read timeouts.
 */
public interface RegistryClient extends AutoCloseable {
  /** A builder for {@code host[:port]} ({@code docker.io} is reached at {@code registry-1.docker.io}). */
  static RegistryClientBuilder builder(String registry) {
    return new RegistryClientBuilder(registry);
  }

  /** {@code host[:port]} as given. */
  String registry();

  /**
   * Fetches a manifest or index by tag or digest. The media type comes from Content-Type (or the body when the
   * server sends none); the digest is verified when {@code reference} is a digest or the server sends
   * {@code Docker-Content-Digest}.
   */
  RawManifest fetchManifest(String repository, String reference) throws IOException;

  /**
   * Downloads a blob from {@code offset} (a Range request when {@code offset > 0}). The caller verifies the content.
   */
  BlobResponse fetchBlob(String repository, Digest digest, long offset) throws IOException;

  /** HEAD on the blob. */
  boolean blobExists(String repository, Digest digest) throws IOException;

  /**
   * Uploads a blob in one PUT; the registry checks the digest. {@code content} is opened again for a retry.
   */
  void pushBlob(String repository, Descriptor descriptor, IOSupplier<InputStream> content) throws IOException;

  /** Uploads a blob in PATCH chunks of {@code chunkSize} bytes, then a closing PUT with the digest. */
  void pushBlobChunked(String repository, Descriptor descriptor, IOSupplier<InputStream> content, int chunkSize)
      throws IOException;

  /**
   * Asks the registry to link a blob from another repository.
   *
   * @return true when mounted, false when the registry declined (the caller uploads instead)
   */
  boolean mountBlob(String fromRepository, String toRepository, Digest digest) throws IOException;

  /**
   * Uploads manifest bytes as they are under a tag or digest.
   *
   * @return the digest the registry reports (checked against the bytes)
   */
  Digest pushManifest(String repository, String reference, RawManifest manifest) throws IOException;

  /**
   * The OCI 1.1 referrers of {@code subject} ({@code GET /v2/<name>/referrers/<digest>}), as an OCI index, optionally
   * filtered by {@code artifactType} (the caller filters again: registries may ignore the filter).
   *
   * @return empty when the registry does not implement the referrers API (404); callers then use the
   *     {@code sha256-<hex>} tag-schema fallback
   */
  default Optional<RawManifest> referrers(String repository, Digest subject, String artifactType) throws IOException {
    return Optional.empty();
  }

  /** All tags of a repository (following pagination). */
  List<String> listTags(String repository) throws IOException;

  @Override
  void close();
}

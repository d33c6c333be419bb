package dev.basalt.oci.api;

import java.util.Set;

/** Media types of the OCI image spec and Docker schema2. */
public final class MediaTypes {
  private MediaTypes() {}

  public static final String OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json";
  public static final String OCI_INDEX = "application/vnd.oci.image.index.v1+json";
  public static final String OCI_CONFIG = "application/vnd.oci.image.config.v1+json";
  public static final String OCI_LAYER_TAR = "application/vnd.oci.image.layer.v1.tar";
  public static final String OCI_LAYER_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip";
  public static final String OCI_LAYER_ZSTD = "application/vnd.oci.image.layer.v1.tar+zstd";
  public static final String OCI_EMPTY = "application/vnd.oci.empty.v1+json";

  public static final String DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json";
  public static final String DOCKER_MANIFEST_LIST = "application/vnd.docker.distribution.manifest.list.v2+json";
  public static final String DOCKER_CONFIG = "application/vnd.docker.container.image.v1+json";
  public static final String DOCKER_LAYER_GZIP = "application/vnd.docker.image.rootfs.diff.tar.gzip";
  public static final String DOCKER_LAYER_ZSTD = "application/vnd.docker.image.rootfs.diff.tar.zstd";
  public static final String DOCKER_LAYER_TAR = "application/vnd.docker.image.rootfs.diff.tar";

  public static final Set<String> MANIFESTS = Set.of(OCI_MANIFEST, DOCKER_MANIFEST);
  public static final Set<String> INDEXES = Set.of(OCI_INDEX, DOCKER_MANIFEST_LIST);
  public static final Set<String> LAYERS = Set.of(
      OCI_LAYER_TAR, OCI_LAYER_GZIP, OCI_LAYER_ZSTD, DOCKER_LAYER_GZIP, DOCKER_LAYER_ZSTD, DOCKER_LAYER_TAR);

  /** Compression implied by a layer media type. */
  public enum Compression { NONE, GZIP, ZSTD }

  /** The compression of a layer media type, or throws naming the type. */
  public static Compression compressionOf(String layerMediaType) {
    return switch (layerMediaType) {
      case OCI_LAYER_TAR, DOCKER_LAYER_TAR -> Compression.NONE;
      case OCI_LAYER_GZIP, DOCKER_LAYER_GZIP -> Compression.GZIP;
      case OCI_LAYER_ZSTD, DOCKER_LAYER_ZSTD -> Compression.ZSTD;
      default -> throw new IllegalArgumentException("not a layer media type: '" + layerMediaType + "'");
    };
  }
}

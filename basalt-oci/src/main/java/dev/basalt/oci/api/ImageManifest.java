package dev.basalt.oci.api;

import java.util.List;
import java.util.Map;

/** A parsed image manifest (OCI or Docker schema2): a read-only view; the bytes stay in {@link RawManifest}. */
public record ImageManifest(String mediaType, Descriptor config, List<Descriptor> layers, Map<String, String> annotations) {
  public ImageManifest {
    layers = List.copyOf(layers);
    annotations = annotations == null ? Map.of() : Map.copyOf(annotations);
  }

  /** Parses an image manifest; throws naming the manifest digest when it is not one. */
  public static ImageManifest parse(RawManifest raw) throws ImageException {
    return ManifestJson.manifest(raw);
  }
}

package dev.basalt.oci.api;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** A parsed OCI image index or Docker manifest list. */
public record ImageIndex(String mediaType, List<Descriptor> manifests, Map<String, String> annotations) {
  public ImageIndex {
    manifests = List.copyOf(manifests);
    annotations = annotations == null ? Map.of() : Map.copyOf(annotations);
  }

  public static ImageIndex parse(RawManifest raw) throws ImageException {
    return ManifestJson.index(raw);
  }

  /**
   * The first manifest for {@code wanted}; a wanted platform without variant prefers an entry without variant
   * (or {@code v8} for arm64), as containers/image does.
   */
  public Descriptor select(Platform wanted, String indexName) throws ImageException {
    Descriptor fallback = null;
    List<String> seen = new ArrayList<>();
    for (Descriptor d : manifests) {
      if (d.platform() == null) continue;
      seen.add(d.platform().toString());
      if (!wanted.matches(d.platform())) continue;
      if (wanted.variant() != null || d.platform().variant() == null) return d;
      if (fallback == null) fallback = d;
    }
    if (fallback != null) return fallback;
    throw new ImageException("no image for platform " + wanted + " in index " + indexName + " (it has: "
        + (seen.isEmpty() ? "no platforms" : String.join(", ", seen)) + ")");
  }
}

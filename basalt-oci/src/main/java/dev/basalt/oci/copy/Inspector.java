package dev.basalt.oci.copy;

import dev.basalt.oci.api.Descriptor;
import dev.basalt.oci.api.ImageException;
import dev.basalt.oci.api.ImageManifest;
import dev.basalt.oci.api.ImageSource;
import dev.basalt.oci.api.Manifests;
import dev.basalt.oci.api.Platform;
import dev.basalt.oci.api.RawManifest;
import java.io.IOException;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.SerializationFeature;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

/** {@code inspect}: JSON shaped like {@code skopeo inspect}, and {@code --raw} / {@code --config}. */
public final class Inspector {
  private Inspector() {}

  /** The manifest or index bytes exactly as stored ({@code --raw}). */
  public static byte[] raw(ImageSource src) throws IOException {
    return src.rootManifest().bytes();
  }

  /** The config blob bytes of the image for {@code platform} ({@code --config}). */
  public static byte[] config(ImageSource src, Platform platform) throws IOException {
    return src.config(ImageManifest.parse(src.resolve(platform)));
  }

  /**
   * skopeo's fields: Name (registries only), Digest (of the reference's manifest or index), RepoTags, Created,
   * DockerVersion, Labels, Architecture, Os, Variant, Layers, LayersData, Env.
   *
   * @param name {@code host/repo} for registry images, else null
   */
  public static ObjectNode inspect(ImageSource src, Platform platform, String name) throws IOException {
    RawManifest root = src.rootManifest();
    RawManifest m = src.resolve(platform);
    ImageManifest manifest = ImageManifest.parse(m);
    byte[] configBytes = src.config(manifest);
    JsonNode config;
    try {
      config = Manifests.json().readTree(configBytes);
    } catch (JacksonException e) {
      throw new ImageException("config " + manifest.config().digest() + " of " + src.name() + " is not valid JSON");
    }
    var json = Manifests.json();
    ObjectNode out = json.createObjectNode();
    if (name != null) out.put("Name", name);
    out.put("Digest", root.digest().toString());
    ArrayNode tags = out.putArray("RepoTags");
    for (String t : src.tags()) tags.add(t);
    JsonNode created = config.get("created");
    if (created != null && created.isString()) out.put("Created", created.stringValue());
    out.put("DockerVersion", config.path("docker_version").asString(""));
    JsonNode labels = config.path("config").get("Labels");
    out.set("Labels", labels == null ? json.nullNode() : labels);
    out.put("Architecture", config.path("architecture").asString(""));
    if (!config.path("variant").asString("").isEmpty()) out.put("Variant", config.path("variant").asString());
    out.put("Os", config.path("os").asString(""));
    ArrayNode layers = out.putArray("Layers");
    ArrayNode data = out.putArray("LayersData");
    for (Descriptor l : manifest.layers()) {
      layers.add(l.digest().toString());
      ObjectNode d = data.addObject();
      d.put("MIMEType", l.mediaType());
      d.put("Digest", l.digest().toString());
      d.put("Size", l.size());
      if (l.annotations().isEmpty()) d.putNull("Annotations");
      else l.annotations().forEach(d.putObject("Annotations")::put);
    }
    JsonNode env = config.path("config").get("Env");
    out.set("Env", env == null ? json.nullNode() : env);
    return out;
  }

  /** Pretty-printed {@link #inspect}. */
  public static String inspectJson(ImageSource src, Platform platform, String name) throws IOException {
    return Manifests.json().writer().with(SerializationFeature.INDENT_OUTPUT).writeValueAsString(inspect(src, platform, name));
  }
}

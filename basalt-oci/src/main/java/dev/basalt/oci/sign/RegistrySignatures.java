package dev.basalt.oci.sign;

import dev.basalt.oci.api.Descriptor;
import dev.basalt.oci.api.Digest;
import dev.basalt.oci.api.ImageException;
import dev.basalt.oci.api.ImageManifest;
import dev.basalt.oci.api.Manifests;
import dev.basalt.oci.api.MediaTypes;
import dev.basalt.oci.api.RawManifest;
import dev.basalt.oci.api.VerifyingInputStream;
import dev.basalt.oci.registry.BlobResponse;
import dev.basalt.oci.registry.RegistryClient;
import dev.basalt.oci.registry.RegistryException;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * Signatures of one repository, read and written where cosign keeps them: simple-signing layers in the image tagged
 * {@code sha256-<hex>.sig}, and Sigstore bundles as OCI 1.1 referrers (the referrers API when the registry has it,
 * else the {@code sha256-<hex>} tag-schema index, which cosign and ORAS read as well).
 */
public final class RegistrySignatures implements SignatureLookup {
  /** Signature payloads and bundles are small; anything larger is refused rather than downloaded. */
  static final int MAX_BLOB = 1 << 20;
  static final int MAX_ENTRIES = 64;
  static final String EMPTY_MEDIA_TYPE = MediaTypes.OCI_EMPTY;
  static final byte[] EMPTY_JSON = {'{', '}'};

  private final RegistryClient client;
  private final String repository;

  public RegistrySignatures(RegistryClient client, String repository) {
    this.client = client;
    this.repository = repository;
  }

  private String where(String reference) {
    return client.registry() + "/" + repository + (reference.contains(":") ? "@" : ":") + reference;
  }

  // ---------------------------------------------------------------- read

  @Override
  public List<CosignSignature> simpleSignatures(Digest manifest) throws IOException {
    String tag = SignatureTags.signatureTag(manifest);
    Optional<RawManifest> sig = fetchIfPresent(tag);
    if (sig.isEmpty()) return List.of();
    if (sig.get().isIndex()) throw new ImageException(where(tag) + " is an index, not a cosign signature image");
    ImageManifest m = ImageManifest.parse(sig.get());
    if (m.layers().size() > MAX_ENTRIES) {
      throw new ImageException(where(tag) + " has " + m.layers().size() + " layers, over the limit of " + MAX_ENTRIES);
    }
    List<CosignSignature> out = new ArrayList<>();
    for (int i = 0; i < m.layers().size(); i++) {
      Descriptor l = m.layers().get(i);
      String origin = where(tag) + " layer " + i;
      byte[] payload = l.mediaType().equals(CosignSignature.MEDIA_TYPE) ? blob(l, origin) : new byte[0];
      out.add(new CosignSignature(l.mediaType(), payload, l.annotations(), origin));
    }
    return out;
  }

  @Override
  public List<AttachedBundle> bundles(Digest manifest) throws IOException {
    List<AttachedBundle> out = new ArrayList<>();
    for (JsonNode e : referrers(manifest)) {
      if (!SigstoreBundle.MEDIA_TYPE.equals(e.path("artifactType").asString(""))) continue;
      if (out.size() >= MAX_ENTRIES) break;
      Digest d;
      try {
        d = Digest.parse(e.path("digest").asString(""));
      } catch (IllegalArgumentException ex) {
        throw new ImageException("referrers of " + manifest + " in " + client.registry() + "/" + repository
            + " list an entry with an invalid digest: " + ex.getMessage());
      }
      String origin = where(d.toString()) + " (bundle referrer)";
      RawManifest rm = client.fetchManifest(repository, d.toString());
      JsonNode n = tree(rm, origin);
      if (!manifest.toString().equals(n.path("subject").path("digest").asString(""))) {
        // a fallback index can list anything; only a manifest that names this subject counts
        continue;
      }
      ImageManifest m = ImageManifest.parse(rm);
      Descriptor layer = m.layers().stream().filter(l -> l.mediaType().equals(SigstoreBundle.MEDIA_TYPE)).findFirst()
          .orElse(null);
      if (layer == null) {
        out.add(new AttachedBundle(new byte[0], origin + ": no " + SigstoreBundle.MEDIA_TYPE + " layer"));
        continue;
      }
      out.add(new AttachedBundle(blob(layer, origin), origin));
    }
    return out;
  }

  /** The referrer entries of {@code subject}: from the referrers API, or from the fallback tag when it has none. */
  private List<JsonNode> referrers(Digest subject) throws IOException {
    Optional<RawManifest> index = client.referrers(repository, subject, SigstoreBundle.MEDIA_TYPE);
    if (index.isEmpty()) index = fetchIfPresent(SignatureTags.referrersTag(subject));
    if (index.isEmpty()) return List.of();
    JsonNode n = tree(index.get(), "referrers index of " + subject);
    List<JsonNode> out = new ArrayList<>();
    n.path("manifests").forEach(out::add);
    return out;
  }

  // ---------------------------------------------------------------- write

  /**
   * Adds a signature layer to {@code sha256-<hex>.sig}, keeping the layers already there (cosign appends too).
   *
   * @return the tag, as {@code registry/repo:sha256-<hex>.sig}
   */
  public String appendSignature(Digest manifest, CosignSignature signature) throws IOException {
    String tag = SignatureTags.signatureTag(manifest);
    List<Descriptor> layers = new ArrayList<>();
    Optional<RawManifest> existing = fetchIfPresent(tag);
    if (existing.isPresent()) {
      if (existing.get().isIndex()) throw new ImageException(where(tag) + " is an index, not a cosign signature image");
      layers.addAll(ImageManifest.parse(existing.get()).layers());
    }
    byte[] payload = signature.payload();
    Descriptor layer = new Descriptor(signature.mediaType(), Digest.sha256(payload), payload.length,
        signature.annotations(), null);
    if (layers.contains(layer)) return where(tag);
    layers.add(layer);
    putBlob(layer, payload);

    // The config mirrors what go-containerregistry writes for cosign: one diff_id and history entry per layer.
    ObjectNode config = Json.object();
    config.put("architecture", "");
    config.put("created", "0001-01-01T00:00:00Z");
    ArrayNode history = config.putArray("history");
    config.put("os", "");
    ObjectNode rootfs = config.putObject("rootfs");
    rootfs.put("type", "layers");
    ArrayNode diffIds = rootfs.putArray("diff_ids");
    for (Descriptor l : layers) {
      diffIds.add(l.digest().toString());
      history.addObject().put("created", "0001-01-01T00:00:00Z");
    }
    config.putObject("config");
    byte[] configBytes = Json.bytes(config);
    Descriptor configDesc = new Descriptor(MediaTypes.OCI_CONFIG, Digest.sha256(configBytes), configBytes.length);
    putBlob(configDesc, configBytes);

    ObjectNode m = Json.object();
    m.put("schemaVersion", 2);
    m.put("mediaType", MediaTypes.OCI_MANIFEST);
    m.set("config", descriptor(configDesc));
    ArrayNode ls = m.putArray("layers");
    for (Descriptor l : layers) ls.add(descriptor(l));
    client.pushManifest(repository, tag, RawManifest.of(Json.bytes(m), MediaTypes.OCI_MANIFEST));
    return where(tag);
  }

  /**
   * Pushes {@code bundle} as a referrer of {@code subject} (artifactType {@link SigstoreBundle#MEDIA_TYPE}, as cosign
   * v3 does) and, when the registry has no referrers API, adds it to the {@code sha256-<hex>} fallback index.
   *
   * @return the referrer manifest's location
   */
  public String attachBundle(Descriptor subject, SigstoreBundle bundle) throws IOException {
    byte[] json = bundle.json();
    Descriptor layer = new Descriptor(SigstoreBundle.MEDIA_TYPE, Digest.sha256(json), json.length);
    putBlob(layer, json);
    Descriptor empty = new Descriptor(EMPTY_MEDIA_TYPE, Digest.sha256(EMPTY_JSON), EMPTY_JSON.length);
    putBlob(empty, EMPTY_JSON);
    Map<String, String> annotations = new TreeMap<>(Map.of(
        "dev.sigstore.bundle.content", bundle.content(),
        "dev.sigstore.bundle.predicateType", SigstoreBundle.SIGN_PREDICATE));
    ObjectNode m = Json.object();
    m.put("schemaVersion", 2);
    m.put("mediaType", MediaTypes.OCI_MANIFEST);
    m.put("artifactType", SigstoreBundle.MEDIA_TYPE);
    m.set("config", descriptor(empty));
    m.putArray("layers").add(descriptor(layer));
    m.set("subject", descriptor(new Descriptor(subject.mediaType(), subject.digest(), subject.size())));
    ObjectNode a = m.putObject("annotations");
    annotations.forEach(a::put);
    RawManifest referrer = RawManifest.of(Json.bytes(m), MediaTypes.OCI_MANIFEST);
    client.pushManifest(repository, referrer.digest().toString(), referrer);

    if (client.referrers(repository, subject.digest(), null).isPresent()) return where(referrer.digest().toString());
    String tag = SignatureTags.referrersTag(subject.digest());
    Optional<RawManifest> existing = fetchIfPresent(tag);
    ObjectNode index;
    if (existing.isPresent()) {
      if (!existing.get().isIndex()) throw new ImageException(where(tag) + " exists and is not a referrers index");
      index = (ObjectNode) tree(existing.get(), where(tag));
      for (JsonNode e : index.path("manifests")) {
        if (referrer.digest().toString().equals(e.path("digest").asString(""))) {
          return where(referrer.digest().toString());
        }
      }
      if (!index.path("manifests").isArray()) throw new ImageException(where(tag) + " has no manifests array");
    } else {
      index = Json.object();
      index.put("schemaVersion", 2);
      index.put("mediaType", MediaTypes.OCI_INDEX);
      index.putArray("manifests");
    }
    ObjectNode entry = ((ArrayNode) index.get("manifests")).addObject();
    entry.put("mediaType", MediaTypes.OCI_MANIFEST);
    entry.put("digest", referrer.digest().toString());
    entry.put("size", referrer.size());
    entry.put("artifactType", SigstoreBundle.MEDIA_TYPE);
    ObjectNode ea = entry.putObject("annotations");
    annotations.forEach(ea::put);
    client.pushManifest(repository, tag, RawManifest.of(Json.bytes(index), MediaTypes.OCI_INDEX));
    return where(referrer.digest().toString());
  }

  // ---------------------------------------------------------------- plumbing

  private Optional<RawManifest> fetchIfPresent(String reference) throws IOException {
    try {
      return Optional.of(client.fetchManifest(repository, reference));
    } catch (RegistryException e) {
      if (e.status() == 404) return Optional.empty();
      throw e;
    }
  }

  private byte[] blob(Descriptor d, String origin) throws IOException {
    if (d.size() > MAX_BLOB) {
      throw new ImageException(origin + " is " + d.size() + " bytes, over the " + MAX_BLOB + "-byte signature limit");
    }
    BlobResponse r = client.fetchBlob(repository, d.digest(), 0);
    try (InputStream in = new VerifyingInputStream(r.stream(), d, origin)) {
      return in.readAllBytes();
    }
  }

  private void putBlob(Descriptor d, byte[] content) throws IOException {
    if (!client.blobExists(repository, d.digest())) {
      client.pushBlob(repository, d, () -> new ByteArrayInputStream(content));
    }
  }

  private static JsonNode tree(RawManifest m, String what) throws ImageException {
    try {
      JsonNode n = Manifests.json().readTree(m.bytes());
      if (n == null || !n.isObject()) throw new ImageException(what + " is not a JSON object");
      return n;
    } catch (JacksonException e) {
      throw new ImageException(what + " is not valid JSON: " + e.getOriginalMessage());
    }
  }

  /** Descriptor JSON in go-containerregistry's field order; annotations sorted. */
  private static ObjectNode descriptor(Descriptor d) {
    ObjectNode n = Json.object();
    n.put("mediaType", d.mediaType());
    n.put("size", d.size());
    n.put("digest", d.digest().toString());
    if (!d.annotations().isEmpty()) {
      ObjectNode a = n.putObject("annotations");
      new TreeMap<>(d.annotations()).forEach(a::put);
    }
    return n;
  }
}

package dev.basalt.oci.sign;

import dev.basalt.oci.api.Digest;
import dev.basalt.oci.api.RawManifest;
import dev.basalt.oci.ref.DockerReference;
import dev.basalt.oci.registry.RegistryClient;
import java.io.IOException;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.util.List;
import java.util.Map;

/** {@code cosign sign --key} and {@code cosign verify --key} for one registry image. */
public final class ImageSigning {
  private ImageSigning() {}

  /**
   * What signing wrote.
   *
   * @param signatureTag where the simple-signing signature went, or null
   * @param bundleReferrer the bundle referrer manifest, or null
   */
  public record SignResult(Digest manifest, String identity, String signatureTag, String bundleReferrer) {}

  /**
   * Signs the manifest {@code ref} points at (an index stays an index: cosign signs the top level). The identity is
   * the repository, {@code registry/path}, without tag, as cosign writes it.
   */
  public static SignResult sign(RegistryClient client, DockerReference ref, PrivateKey key, boolean simpleSigning,
      boolean bundle) throws IOException {
    return sign(client, ref, key, simpleSigning, bundle, null, Map.of());
  }

  /**
   * As {@link #sign(RegistryClient, DockerReference, PrivateKey, boolean, boolean)}, signing exactly {@code manifest}
   * (when not null: the bytes the claims were computed from, so a tag moved meanwhile cannot get them) and putting
   * {@code optional} claims (e.g. {@link SimpleSigningPayload#ROOT_HASH}) into the simple-signing payload; bundles
   * carry no claims.
   */
  public static SignResult sign(RegistryClient client, DockerReference ref, PrivateKey key, boolean simpleSigning,
      boolean bundle, RawManifest manifest, Map<String, String> optional) throws IOException {
    if (!simpleSigning && !bundle) throw new IllegalArgumentException("nothing to write: no signature format chosen");
    if (!optional.isEmpty() && !simpleSigning) {
      throw new IllegalArgumentException("signed claims need the simple-signing format (bundles carry none)");
    }
    RawManifest m = manifest != null ? manifest : client.fetchManifest(ref.repository(), ref.reference());
    RegistrySignatures store = new RegistrySignatures(client, ref.repository());
    String identity = ref.name();
    String tag = simpleSigning
        ? store.appendSignature(m.digest(), CosignSignature.sign(key, identity, m.digest(), optional)) : null;
    String referrer = bundle ? store.attachBundle(m.descriptor(), SigstoreBundle.signImage(key, m.digest())) : null;
    return new SignResult(m.digest(), identity, tag, referrer);
  }

  /** Fetches the manifest {@code ref} points at and verifies its signatures (both forms). */
  public static Verification verify(RegistryClient client, DockerReference ref, List<PublicKey> keys,
      IdentityCheck identity) throws IOException {
    RawManifest m = client.fetchManifest(ref.repository(), ref.reference());
    return new CosignVerifier(keys).verify(m, new RegistrySignatures(client, ref.repository()), identity, true);
  }
}

package dev.basalt.oci.sign;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.basalt.oci.api.Digest;
import dev.basalt.oci.api.MediaTypes;
import dev.basalt.oci.api.RawManifest;
import dev.basalt.oci.registry.CredentialStore;
import dev.basalt.oci.registry.RegistryClient;
import dev.basalt.oci.testing.StubServer;
import java.nio.charset.StandardCharsets;
import java.security.KeyPair;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;

/**
 * The referrers API path (docker-registry 2.8 lacks it, so a stub registry stands in): bundles listed by
 * {@code GET /v2/<name>/referrers/<digest>} are found without the fallback tag.
 */
class ReferrersApiTest {
  static final KeyPair KEY = CosignKeys.generate();

  @Test
  void bundlesAreFoundThroughTheReferrersApiAndVerify() throws Exception {
    RawManifest image = RawManifest.of("{\"schemaVersion\":2,\"config\":{},\"layers\":[]}".getBytes(),
        MediaTypes.OCI_MANIFEST);
    byte[] bundle = SigstoreBundle.signImage(KEY.getPrivate(), image.digest()).json();
    Digest bundleDigest = Digest.sha256(bundle);
    String referrer = "{\"schemaVersion\":2,\"mediaType\":\"" + MediaTypes.OCI_MANIFEST + "\",\"artifactType\":\""
        + SigstoreBundle.MEDIA_TYPE + "\",\"config\":{\"mediaType\":\"application/vnd.oci.empty.v1+json\",\"size\":2,"
        + "\"digest\":\"" + Digest.sha256("{}".getBytes()) + "\"},\"layers\":[{\"mediaType\":\""
        + SigstoreBundle.MEDIA_TYPE + "\",\"size\":" + bundle.length + ",\"digest\":\"" + bundleDigest + "\"}],"
        + "\"subject\":{\"mediaType\":\"" + MediaTypes.OCI_MANIFEST + "\",\"size\":" + image.size() + ",\"digest\":\""
        + image.digest() + "\"}}";
    Digest referrerDigest = Digest.sha256(referrer.getBytes(StandardCharsets.UTF_8));
    String index = "{\"schemaVersion\":2,\"mediaType\":\"" + MediaTypes.OCI_INDEX + "\",\"manifests\":["
        + "{\"mediaType\":\"" + MediaTypes.OCI_MANIFEST + "\",\"digest\":\"" + Digest.sha256("sbom".getBytes())
        + "\",\"size\":4,\"artifactType\":\"application/spdx+json\"},"
        + "{\"mediaType\":\"" + MediaTypes.OCI_MANIFEST + "\",\"digest\":\"" + referrerDigest + "\",\"size\":"
        + referrer.length() + ",\"artifactType\":\"" + SigstoreBundle.MEDIA_TYPE + "\"}]}";
    Map<String, String[]> routes = new HashMap<>();
    routes.put("/v2/", new String[] {"application/json", "{}"});
    routes.put("/v2/app/referrers/" + image.digest(), new String[] {MediaTypes.OCI_INDEX, index});
    routes.put("/v2/app/manifests/" + referrerDigest, new String[] {MediaTypes.OCI_MANIFEST, referrer});
    List<String> asked = new CopyOnWriteArrayList<>();
    try (StubServer stub = new StubServer(ex -> {
      String path = ex.getRequestURI().getPath();
      asked.add(ex.getRequestURI().toString());
      if (path.equals("/v2/app/blobs/" + bundleDigest)) {
        StubServer.respond(ex, 200, "application/octet-stream", bundle);
        return;
      }
      String[] r = routes.get(path);
      if (r == null) StubServer.respond(ex, 404, "application/json", "{\"errors\":[]}".getBytes());
      else StubServer.respond(ex, 200, r[0], r[1].getBytes(StandardCharsets.UTF_8));
    });
        RegistryClient client = RegistryClient.builder(stub.hostPort()).tlsVerify(false)
            .connectTimeout(java.time.Duration.ofMillis(300)).credentialStore(CredentialStore.of(List.of())).build()) {
      assertThat(client.referrers("app", image.digest(), SigstoreBundle.MEDIA_TYPE)).isPresent();
      assertThat(asked).contains("/v2/app/referrers/" + image.digest()
          + "?artifactType=application%2Fvnd.dev.sigstore.bundle.v0.3%2Bjson");
      RegistrySignatures store = new RegistrySignatures(client, "app");
      List<SignatureLookup.AttachedBundle> found = store.bundles(image.digest());
      assertThat(found).singleElement().extracting(SignatureLookup.AttachedBundle::origin)
          .isEqualTo(stub.hostPort() + "/app@" + referrerDigest + " (bundle referrer)");
      Verification v = new CosignVerifier(List.of(KEY.getPublic())).verify(image, store, IdentityCheck.any(), true);
      assertThat(v.verified()).as(v.reason()).isTrue();
      // the fallback tag was never consulted, and the SBOM referrer never fetched
      assertThat(asked).noneMatch(u -> u.endsWith("/manifests/sha256-" + image.digest().hex()))
          .noneMatch(u -> u.contains(Digest.sha256("sbom".getBytes()).hex()));

      // a registry without the API answers 404: no referrers, the caller falls back
      assertThat(client.referrers("other", image.digest(), null)).isEmpty();
    }
  }

  @Test
  void referrersAnswerThatIsNotAnIndexIsAnError() throws Exception {
    Digest d = Digest.sha256("x".getBytes());
    try (StubServer stub = new StubServer(ex -> StubServer.respond(ex, 200, "text/html", "<html>".getBytes()));
        RegistryClient client = RegistryClient.builder(stub.hostPort()).tlsVerify(false)
            .connectTimeout(java.time.Duration.ofMillis(300)).credentialStore(CredentialStore.of(List.of())).build()) {
      assertThatThrownBy(() -> client.referrers("app", d, null))
          .hasMessage("referrers of " + d + " at http://" + stub.hostPort() + "/v2/app/referrers/" + d
              + " came as 'text/html', not an OCI index");
    }
  }
}

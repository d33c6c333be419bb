package dev.basalt.oci.sign;

import static org.assertj.core.api.Assertions.assertThat;

import dev.basalt.oci.api.Digest;
import dev.basalt.oci.api.MediaTypes;
import dev.basalt.oci.api.RawManifest;
import dev.basalt.oci.policy.PolicyDecision;
import dev.basalt.oci.policy.SignaturePolicy;
import dev.basalt.oci.ref.ImageReference;
import java.nio.charset.StandardCharsets;
import java.security.KeyPair;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Signed {@code optional} claims: the root hash travels inside the signed bytes, and only there. */
class SimpleSigningPayloadTest {
  static final KeyPair KEY = CosignKeys.generate();
  static final String HASH = "0123456789abcdef".repeat(4);
  static final RawManifest MANIFEST = RawManifest.of("{\"schemaVersion\":2}".getBytes(StandardCharsets.UTF_8),
      MediaTypes.OCI_MANIFEST);
  static final ImageReference REF = ImageReference.parse("docker://registry.example/app:v1");

  static SignatureLookup only(CosignSignature s) {
    return new SignatureLookup() {
      @Override
      public List<CosignSignature> simpleSignatures(Digest manifest) {
        return List.of(s);
      }

      @Override
      public List<AttachedBundle> bundles(Digest manifest) {
        return List.of();
      }
    };
  }

  @Test
  void withoutClaimsTheBytesAreCosignsAndWithClaimsTheyAreSortedAndParsedBack() {
    Digest d = MANIFEST.digest();
    String plain = new String(SimpleSigningPayload.create("registry.example/app", d), StandardCharsets.UTF_8);
    assertThat(plain).isEqualTo("{\"critical\":{\"identity\":{\"docker-reference\":\"registry.example/app\"},"
        + "\"image\":{\"docker-manifest-digest\":\"" + d + "\"},\"type\":\"cosign container image signature\"},"
        + "\"optional\":null}");
    byte[] claims = SimpleSigningPayload.create("registry.example/app", d,
        Map.of(SimpleSigningPayload.ROOT_HASH, HASH, "a", "b"));
    assertThat(new String(claims, StandardCharsets.UTF_8))
        .endsWith("\"optional\":{\"a\":\"b\",\"dev.basalt.verity.root-hash\":\"" + HASH + "\"}}");
    assertThat(SimpleSigningPayload.optionalClaims(claims)).containsExactlyEntriesOf(
        new java.util.TreeMap<>(Map.of("a", "b", SimpleSigningPayload.ROOT_HASH, HASH)));
    assertThat(SimpleSigningPayload.optionalClaims(SimpleSigningPayload.create("r", d))).isEmpty();
  }

  @Test
  void thePolicyDecisionCarriesTheSignedRootHash() throws Exception {
    CosignSignature s = CosignSignature.sign(KEY.getPrivate(), "registry.example/app", MANIFEST.digest(),
        Map.of(SimpleSigningPayload.ROOT_HASH, HASH));
    PolicyDecision d = SignaturePolicy.requireSignature(List.of(KEY.getPublic())).check(REF, MANIFEST, only(s));
    assertThat(d.accepted()).as(d.reason()).isTrue();
    assertThat(d.signedRootHashes()).containsExactly(HASH);
  }

  @Test
  void aRootHashEditedIntoTheSignedPayloadBreaksTheSignature() throws Exception {
    CosignSignature s = CosignSignature.sign(KEY.getPrivate(), "registry.example/app", MANIFEST.digest(),
        Map.of(SimpleSigningPayload.ROOT_HASH, HASH));
    String other = "f" + HASH.substring(1);
    byte[] edited = new String(s.payload(), StandardCharsets.UTF_8).replace(HASH, other).getBytes(StandardCharsets.UTF_8);
    CosignSignature forged = new CosignSignature(s.mediaType(), edited, s.annotations(), "forged");
    PolicyDecision d = SignaturePolicy.requireSignature(List.of(KEY.getPublic())).check(REF, MANIFEST, only(forged));
    assertThat(d.accepted()).isFalse();
    assertThat(d.reason()).contains("not signed by any trusted key");
    assertThat(d.signedRootHashes()).isEmpty();
    assertThat(Base64.getDecoder().decode(forged.signature())).isNotEmpty();
  }
}

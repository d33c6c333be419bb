package dev.basalt.oci.sign;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.basalt.oci.api.Digest;
import java.nio.charset.StandardCharsets;
import java.security.KeyPair;
import java.security.PublicKey;
import java.util.Base64;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import tools.jackson.databind.JsonNode;

class SigstoreBundleTest {
  static final byte[] ARTIFACT = CosignFixtures.bytes("bundle-key-blob/a.txt");
  static final PublicKey KEY = CosignFixtures.publicKey("bundle-key-blob/managed-key-happy-path/key.pub");

  @ParameterizedTest
  @ValueSource(strings = {"managed-key-happy-path", "managed-key-and-trusted-root"})
  void realKeyBasedBundlesVerifyOverTheBlob(String dir) throws Exception {
    String f = "bundle-key-blob/" + dir + "/bundle.sigstore.json";
    SigstoreBundle b = SigstoreBundle.parse(CosignFixtures.bytes(f), f);
    assertThat(b.content()).isEqualTo("message-signature");
    assertThat(b.verifyBlob(List.of(CosignFixtures.publicKey("bundle-key-blob/" + dir + "/key.pub")), ARTIFACT))
        .isEqualTo(KEY);
  }

  @Test
  void wrongKeysAndOtherArtifactsAreRejected() throws Exception {
    String f = "bundle-key-blob/managed-key-happy-path/bundle.sigstore.json";
    SigstoreBundle b = SigstoreBundle.parse(CosignFixtures.bytes(f), f);
    // the upstream wrong-key fixture is a corrupted key: it must not even load
    assertThatThrownBy(() -> CosignKeys.readPublicKey(
        CosignFixtures.bytes("bundle-key-blob/managed-key-wrong-key_fail/key.pub"), "wrong key.pub"))
        .hasMessage("wrong key.pub: not a valid EC public key: the point is not on the P-256 curve");
    // a valid but different key
    assertThatThrownBy(() -> b.verifyBlob(List.of(CosignFixtures.publicKey("simple-signing/cosign.pub")), ARTIFACT))
        .hasMessage(f + " messageSignature is not signed by any trusted key");
    byte[] other = "another artifact".getBytes(StandardCharsets.UTF_8);
    assertThatThrownBy(() -> b.verifyBlob(List.of(KEY), other))
        .hasMessage(f + " messageSignature is for sha256:"
            + "a0cfc71271d6e278e57cd332ff957c3f7043fdda354c4cbb190a30d56efa01bf, not " + Digest.sha256(other));
  }

  @Test
  void imageBundleIsDsseOverAnInTotoStatementLikeCosignV3() throws Exception {
    KeyPair kp = CosignKeys.generate();
    byte[] manifest = "{\"schemaVersion\":2}".getBytes(StandardCharsets.UTF_8);
    Digest d = Digest.sha256(manifest);
    SigstoreBundle b = SigstoreBundle.signImage(kp.getPrivate(), d);
    JsonNode n = Json.parse(b.json(), "bundle");
    assertThat(n.get("mediaType").stringValue()).isEqualTo("application/vnd.dev.sigstore.bundle.v0.3+json");
    assertThat(n.at("/verificationMaterial/publicKey/hint").stringValue()).isEqualTo(CosignKeys.hint(kp.getPublic()));
    assertThat(n.at("/dsseEnvelope/payloadType").stringValue()).isEqualTo("application/vnd.in-toto+json");
    String statement = new String(Base64.getDecoder().decode(n.at("/dsseEnvelope/payload").stringValue()),
        StandardCharsets.UTF_8);
    assertThat(statement).isEqualTo("{\"_type\":\"https://in-toto.io/Statement/v1\",\"subject\":[{\"digest\":{"
        + "\"sha256\":\"" + d.hex() + "\"},\"annotations\":{}}],\"predicateType\":\"https://sigstore.dev/cosign/sign/v1\","
        + "\"predicate\":{}}");
    // the DSSE signature covers PAE(type, payload), checked here independently of the verifier
    java.security.Signature s = java.security.Signature.getInstance("SHA256withECDSA");
    s.initVerify(kp.getPublic());
    s.update(("DSSEv1 28 application/vnd.in-toto+json " + statement.length() + " " + statement)
        .getBytes(StandardCharsets.UTF_8));
    assertThat(s.verify(Base64.getDecoder().decode(n.at("/dsseEnvelope/signatures/0/sig").stringValue()))).isTrue();

    assertThat(b.verifyImage(List.of(kp.getPublic()), manifest)).isEqualTo(kp.getPublic());
    byte[] other = "{\"schemaVersion\":2 }".getBytes(StandardCharsets.UTF_8);
    assertThatThrownBy(() -> b.verifyImage(List.of(kp.getPublic()), other))
        .hasMessage("new bundle in-toto statement signs " + d + ", not this manifest " + Digest.sha256(other));
    assertThatThrownBy(() -> b.verifyImage(List.of(CosignKeys.generate().getPublic()), manifest))
        .hasMessage("new bundle dsseEnvelope is not signed by any trusted key");
  }

  @Test
  void certificateBundlesAndMalformedOnesAreRefusedByName() {
    assertThatThrownBy(() -> SigstoreBundle.parse(("{\"mediaType\":\"application/vnd.dev.sigstore.bundle.v0.3+json\","
        + "\"verificationMaterial\":{\"certificate\":{}},\"messageSignature\":{}}").getBytes(), "b.json"))
        .hasMessage("b.json: certificate-based (keyless) bundles are not supported, only public-key ones");
    assertThatThrownBy(() -> SigstoreBundle.parse("{\"mediaType\":\"text/plain\"}".getBytes(), "b.json"))
        .hasMessage("b.json: mediaType 'text/plain' is not a Sigstore bundle");
  }
}

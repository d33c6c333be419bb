package dev.basalt.oci.sign;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.basalt.oci.api.Digest;
import dev.basalt.oci.api.MediaTypes;
import dev.basalt.oci.api.RawManifest;
import java.nio.charset.StandardCharsets;
import java.security.KeyPair;
import java.security.PublicKey;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Real cosign and containers/image signatures from the shared fixtures. */
class CosignVerifierTest {
  static final String SS = "simple-signing/";
  static final PublicKey KEY1 = CosignFixtures.publicKey(SS + "cosign.pub");
  static final PublicKey KEY2 = CosignFixtures.publicKey(SS + "cosign2.pub");
  static final byte[] VALID_MANIFEST = CosignFixtures.bytes(SS + "dir-img-cosign-valid/manifest.json");

  static PublicKey key(String name) {
    return name.equals("cosign.pub") ? KEY1 : KEY2;
  }

  @ParameterizedTest(name = "{0} with {2}: {3}")
  @CsvSource(delimiter = '|', value = {
      "dir-img-cosign-valid/signature-1|dir-img-cosign-valid|cosign.pub|true",
      "dir-img-cosign-valid/signature-1|dir-img-cosign-valid|cosign2.pub|false",
      "dir-img-cosign-valid-2/signature-2|dir-img-cosign-valid|cosign.pub|true",
      "dir-img-cosign-valid-2/signature-2|dir-img-cosign-valid|cosign2.pub|false",
      "dir-img-cosign-valid-with-tag/signature-1|dir-img-cosign-valid-with-tag|cosign.pub|true",
      "dir-img-cosign-valid-with-tag/signature-1|dir-img-cosign-valid-with-tag|cosign2.pub|false",
      "dir-img-cosign-key-rekor-valid/signature-1|dir-img-cosign-key-rekor-valid|cosign2.pub|true",
      "dir-img-cosign-key-rekor-valid/signature-1|dir-img-cosign-key-rekor-valid|cosign.pub|false",
      "unknown-cosign-key.signature|dir-img-cosign-valid|cosign.pub|false",
      "unknown-cosign-key.signature|dir-img-cosign-valid|cosign2.pub|false"})
  void fixtureSignaturesVerifyOnlyWithTheirKey(String sig, String dir, String key, boolean valid) {
    byte[] manifest = CosignFixtures.bytes(SS + dir + "/manifest.json");
    SignatureCheck c = new CosignVerifier(List.of(key(key))).check(CosignFixtures.signature(SS + sig), manifest,
        IdentityCheck.any());
    assertThat(c.valid()).as(c.toString()).isEqualTo(valid);
    if (!valid) assertThat(c.reason()).isEqualTo("not signed by any trusted key");
  }

  @Test
  void bothKeysTogetherAcceptEitherSigner() {
    CosignVerifier v = new CosignVerifier(List.of(KEY1, KEY2));
    assertThat(v.check(CosignFixtures.signature(SS + "dir-img-cosign-key-rekor-valid/signature-1"),
        CosignFixtures.bytes(SS + "dir-img-cosign-key-rekor-valid/manifest.json"), IdentityCheck.any()).valid()).isTrue();
    assertThat(v.check(CosignFixtures.signature(SS + "dir-img-cosign-valid/signature-1"), VALID_MANIFEST,
        IdentityCheck.any()).valid()).isTrue();
  }

  @Test
  void signatureOfAnotherManifestIsRejectedByTheDigestBinding() {
    byte[] modified = CosignFixtures.bytes(SS + "dir-img-cosign-modified-manifest/manifest.json");
    SignatureCheck c = new CosignVerifier(List.of(KEY1)).check(
        CosignFixtures.signature(SS + "dir-img-cosign-modified-manifest/signature-1"), modified, IdentityCheck.any());
    assertThat(c.valid()).isFalse();
    assertThat(c.reason()).isEqualTo("signature is for manifest "
        + "sha256:634a8f35b5f16dcf4aaa0822adc0b1964bb786fca12f6831de8ddc45e5986a00, not "
        + "sha256:d9dcafdb480aa7c475e91737b96925e45844213dcb0290b4a90017459121f71f");
  }

  @Test
  void otherAttachmentLayerIsNotASignature() {
    SignatureCheck c = new CosignVerifier(List.of(KEY1, KEY2)).check(
        CosignFixtures.signature(SS + "dir-img-cosign-other-attachment/signature-1"), VALID_MANIFEST,
        IdentityCheck.any());
    assertThat(c.valid()).isFalse();
    assertThat(c.reason()).isEqualTo("layer media type 'text/plain' is not "
        + "application/vnd.dev.cosign.simplesigning.v1+json");
  }

  @Test
  void exactPayloadBytesAreVerifiedAndOneChangedByteBreaksIt() throws Exception {
    byte[] payload = CosignFixtures.bytes(SS + "dir-img-cosign-valid/payload.json");
    String b64 = new String(CosignFixtures.bytes(SS + "dir-img-cosign-valid/signature.b64"), StandardCharsets.US_ASCII);
    CosignVerifier v = new CosignVerifier(List.of(KEY1));
    var good = new CosignSignature(CosignSignature.MEDIA_TYPE, payload,
        Map.of(CosignSignature.SIGNATURE_ANNOTATION, b64), "payload.json");
    assertThat(v.check(good, VALID_MANIFEST, IdentityCheck.any()).valid()).isTrue();
    // cosign's payload is exactly what we would write for the same identity and digest
    SimpleSigningPayload p = SimpleSigningPayload.parse(payload, "payload.json");
    assertThat(p.dockerReference()).isEqualTo("192.168.64.2:5000/cosign-signed-single-sample");
    assertThat(SimpleSigningPayload.create(p.dockerReference(), p.manifestDigest())).isEqualTo(payload);
    for (int i : new int[] {0, 100, payload.length - 1}) {
      byte[] tampered = payload.clone();
      tampered[i] ^= 0x01;
      var bad = new CosignSignature(CosignSignature.MEDIA_TYPE, tampered,
          Map.of(CosignSignature.SIGNATURE_ANNOTATION, b64), "tampered");
      assertThat(v.check(bad, VALID_MANIFEST, IdentityCheck.any()).reason()).isEqualTo("not signed by any trusted key");
    }
  }

  @Test
  void toleratesOptionalFieldsAndTaggedIdentityAndChecksIdentity() {
    CosignSignature sig = CosignFixtures.signature(SS + "dir-img-cosign-valid-with-tag/signature-1");
    CosignVerifier v = new CosignVerifier(List.of(KEY1));
    SignatureCheck ok = v.check(sig, VALID_MANIFEST, IdentityCheck.sameRepository("192.168.64.2:5000/skopeo-signed"));
    assertThat(ok.valid()).isTrue();
    assertThat(ok.identity()).isEqualTo("192.168.64.2:5000/skopeo-signed:tag");
    SignatureCheck other = v.check(sig, VALID_MANIFEST, IdentityCheck.sameRepository("192.168.64.2:5000/other"));
    assertThat(other.valid()).isFalse();
    assertThat(other.reason()).isEqualTo("signed for repository 192.168.64.2:5000/skopeo-signed, not "
        + "192.168.64.2:5000/other");
  }

  @Test
  void manifestWhoseBytesDoNotMatchItsDigestVerifiesNothing() throws Exception {
    byte[] modified = CosignFixtures.bytes(SS + "dir-img-cosign-modified-manifest/manifest.json");
    // bytes of another manifest presented under the signed digest: the verifier hashes, it does not trust
    RawManifest forged = new RawManifest(modified, MediaTypes.DOCKER_MANIFEST, Digest.sha256(VALID_MANIFEST));
    SignatureLookup lookup = lookup(List.of(CosignFixtures.signature(SS + "dir-img-cosign-valid/signature-1")));
    Verification v = new CosignVerifier(List.of(KEY1)).verify(forged, lookup, IdentityCheck.any(), true);
    assertThat(v.verified()).isFalse();
    assertThat(v.reason()).isEqualTo("manifest content hashes to "
        + "sha256:d9dcafdb480aa7c475e91737b96925e45844213dcb0290b4a90017459121f71f, not to its digest "
        + "sha256:634a8f35b5f16dcf4aaa0822adc0b1964bb786fca12f6831de8ddc45e5986a00 (tampered)");
    Verification good = new CosignVerifier(List.of(KEY1)).verify(RawManifest.of(VALID_MANIFEST,
        MediaTypes.DOCKER_MANIFEST), lookup, IdentityCheck.any(), true);
    assertThat(good.verified()).as(good.reason()).isTrue();
  }

  @Test
  void noSignaturesAndOnlyBadSignaturesGiveReasonsListingEachOne() throws Exception {
    RawManifest m = RawManifest.of(VALID_MANIFEST, MediaTypes.DOCKER_MANIFEST);
    CosignVerifier v = new CosignVerifier(List.of(KEY2));
    assertThat(v.verify(m, SignatureLookup.none(), IdentityCheck.any(), true).reason()).isEqualTo(
        "no signatures found for sha256:634a8f35b5f16dcf4aaa0822adc0b1964bb786fca12f6831de8ddc45e5986a00 (no cosign "
            + "signature tag sha256-634a8f35b5f16dcf4aaa0822adc0b1964bb786fca12f6831de8ddc45e5986a00.sig and no "
            + "Sigstore bundle referrer)");
    Verification bad = v.verify(m, lookup(List.of(CosignFixtures.signature(SS + "dir-img-cosign-valid/signature-1"),
        CosignFixtures.signature(SS + "dir-img-cosign-other-attachment/signature-1"))), IdentityCheck.any(), true);
    assertThat(bad.verified()).isFalse();
    assertThat(bad.reason()).startsWith("no valid signature for sha256:634a8f35")
        .contains("simple-signing/dir-img-cosign-valid/signature-1 (simple-signing): invalid: not signed by any "
            + "trusted key")
        .contains("dir-img-cosign-other-attachment/signature-1 (simple-signing): invalid: layer media type 'text/plain'");
  }

  @Test
  void signedPayloadRoundTripsThroughTheContainersImageDiskFormat() throws Exception {
    KeyPair kp = CosignKeys.generate();
    Digest d = Digest.sha256(VALID_MANIFEST);
    CosignSignature s = CosignSignature.sign(kp.getPrivate(), "registry.example/app", d);
    assertThat(new String(s.payload(), StandardCharsets.UTF_8)).isEqualTo("{\"critical\":{\"identity\":{"
        + "\"docker-reference\":\"registry.example/app\"},\"image\":{\"docker-manifest-digest\":\"" + d
        + "\"},\"type\":\"cosign container image signature\"},\"optional\":null}");
    CosignSignature back = CosignSignature.fromSigstoreJson(s.toSigstoreJson(), "disk");
    assertThat(back).isEqualTo(s);
    assertThat(new CosignVerifier(List.of(kp.getPublic())).check(back, VALID_MANIFEST, IdentityCheck.any()).valid())
        .isTrue();
    assertThat(Base64.getDecoder().decode(s.signature())).isNotEmpty();
  }

  @Test
  void rekorSetOfTheFixtureVerifiesWithTheLogKeyAndNothingElse() {
    PublicKey rekor = CosignFixtures.publicKey(SS + "rekor.pub");
    CosignSignature sig = CosignFixtures.signature(SS + "dir-img-cosign-key-rekor-valid/signature-1");
    byte[] manifest = CosignFixtures.bytes(SS + "dir-img-cosign-key-rekor-valid/manifest.json");
    assertThat(new CosignVerifier(List.of(KEY2), List.of(rekor)).check(sig, manifest, IdentityCheck.any()).valid())
        .isTrue();
    assertThat(new CosignVerifier(List.of(KEY2), List.of(KEY1)).check(sig, manifest, IdentityCheck.any()).reason())
        .isEqualTo("Rekor SET is not signed by a trusted Rekor key");
    // the SET covers the log metadata: another integratedTime breaks it
    String bundle = new String(CosignFixtures.bytes(SS + "dir-img-cosign-key-rekor-valid/rekor-bundle.json"),
        StandardCharsets.UTF_8);
    assertThat(bundle).contains("\"integratedTime\":1674251859");
    var moved = new java.util.HashMap<>(sig.annotations());
    moved.put(CosignSignature.REKOR_BUNDLE_ANNOTATION, bundle.replace("1674251859", "1674251860"));
    var tampered = new CosignSignature(sig.mediaType(), sig.payload(), moved, "tampered SET");
    assertThat(new CosignVerifier(List.of(KEY2), List.of(rekor)).check(tampered, manifest, IdentityCheck.any())
        .reason()).isEqualTo("Rekor SET is not signed by a trusted Rekor key");
    // a valid SET moved onto another logged-looking signature records another signature
    CosignSignature unlogged = CosignFixtures.signature(SS + "dir-img-cosign-valid/signature-1");
    var withSet = new java.util.HashMap<>(unlogged.annotations());
    withSet.put(CosignSignature.REKOR_BUNDLE_ANNOTATION, bundle);
    assertThat(new CosignVerifier(List.of(KEY1), List.of(rekor)).check(new CosignSignature(unlogged.mediaType(),
        unlogged.payload(), withSet, "borrowed SET"), VALID_MANIFEST, IdentityCheck.any()).reason())
        .startsWith("Rekor entry is for another payload");
  }

  @Test
  void malformedPayloadsAndWrappersAreNamed() {
    assertThatThrownBy(() -> SimpleSigningPayload.parse("{\"critical\":{\"type\":\"x\"}}".getBytes(), "p"))
        .hasMessage("p: critical.type is 'x', not 'cosign container image signature'");
    assertThatThrownBy(() -> SimpleSigningPayload.parse("[]".getBytes(), "p")).hasMessage("p is not a JSON object");
    assertThatThrownBy(() -> CosignSignature.fromSigstoreJson("{}".getBytes(), "sig"))
        .hasMessage("sig does not start with the '\\0sigstore-json\\n' marker");
  }

  static SignatureLookup lookup(List<CosignSignature> sigs) {
    return new SignatureLookup() {
      @Override
      public List<CosignSignature> simpleSignatures(Digest manifest) {
        return sigs;
      }

      @Override
      public List<AttachedBundle> bundles(Digest manifest) {
        return List.of();
      }
    };
  }
}

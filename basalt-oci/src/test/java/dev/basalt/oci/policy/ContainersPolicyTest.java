package dev.basalt.oci.policy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.basalt.oci.api.Digest;
import dev.basalt.oci.api.MediaTypes;
import dev.basalt.oci.api.RawManifest;
import dev.basalt.oci.ref.DockerReference;
import dev.basalt.oci.ref.ImageReference;
import dev.basalt.oci.sign.CosignSignature;
import dev.basalt.oci.sign.SignatureLookup;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** containers-policy.json parsing, scope matching and evaluation, with the real cosign fixture signatures. */
class ContainersPolicyTest {
  static Path fixtures;
  static RawManifest manifest;
  static SignatureLookup signed;
  static final String REPO = "192.168.64.2:5000/cosign-signed-single-sample";
  static final String DIGEST = "sha256:634a8f35b5f16dcf4aaa0822adc0b1964bb786fca12f6831de8ddc45e5986a00";
  @TempDir Path tmp;

  @BeforeAll
  static void load() throws IOException {
    for (Path d = Path.of("").toAbsolutePath(); d != null && fixtures == null; d = d.getParent()) {
      if (Files.isDirectory(d.resolve("shared/fixtures/cosign"))) fixtures = d.resolve("shared/fixtures/cosign");
    }
    if (fixtures == null) throw new AssertionError("shared/fixtures/cosign not found above " + Path.of("").toAbsolutePath());
    Path ss = fixtures.resolve("simple-signing");
    manifest = RawManifest.of(Files.readAllBytes(ss.resolve("dir-img-cosign-valid/manifest.json")),
        MediaTypes.DOCKER_MANIFEST);
    CosignSignature sig = CosignSignature.fromSigstoreJson(
        Files.readAllBytes(ss.resolve("dir-img-cosign-valid/signature-1")), "signature-1");
    CosignSignature tagged = CosignSignature.fromSigstoreJson(
        Files.readAllBytes(ss.resolve("dir-img-cosign-valid-with-tag/signature-1")), "with-tag/signature-1");
    signed = new SignatureLookup() {
      @Override
      public List<CosignSignature> simpleSignatures(Digest d) {
        return d.equals(manifest.digest()) ? List.of(sig, tagged) : List.of();
      }

      @Override
      public List<AttachedBundle> bundles(Digest d) {
        return List.of();
      }
    };
  }

  ContainersPolicy policy(String json) throws PolicyException {
    return ContainersPolicy.parse(json.replace("KEY1", fixtures.resolve("simple-signing/cosign.pub").toString())
        .replace("KEY2", fixtures.resolve("simple-signing/cosign2.pub").toString()).getBytes(StandardCharsets.UTF_8),
        tmp, "policy.json");
  }

  static ImageReference ref(String s) {
    return ImageReference.parse(s);
  }

  @Test
  void scopesAreMatchedMostSpecificFirst() {
    assertThat(ContainersPolicy.dockerScopes(DockerReference.parse("reg.example.com:5000/team/app/web:v1")))
        .containsExactly("reg.example.com:5000/team/app/web:v1", "reg.example.com:5000/team/app/web",
            "reg.example.com:5000/team/app", "reg.example.com:5000/team", "reg.example.com:5000", "reg.example.com",
            "*.example.com", "*.com");
  }

  @ParameterizedTest(name = "{0} -> {1}")
  @CsvSource({
      "docker://reg.example.com/team/app:v1, transports.docker[\"reg.example.com/team/app:v1\"]",
      "docker://reg.example.com/team/app:v2, transports.docker[\"reg.example.com/team/app\"]",
      "docker://reg.example.com/team/other:v1, transports.docker[\"reg.example.com/team\"]",
      "docker://reg.example.com/x:v1, transports.docker[\"reg.example.com\"]",
      "docker://mirror.example.com/x:v1, transports.docker[\"*.example.com\"]",
      "docker://quay.io/x:v1, transports.docker[\"\"]",
      "oci:/tmp/layout:v1, default"})
  void scopeSelection(String image, String scope) throws Exception {
    ContainersPolicy p = policy("""
        {"default":[{"type":"reject"}],"transports":{"docker":{
          "reg.example.com/team/app:v1":[{"type":"reject"}], "reg.example.com/team/app":[{"type":"reject"}],
          "reg.example.com/team":[{"type":"reject"}], "reg.example.com":[{"type":"reject"}],
          "*.example.com":[{"type":"reject"}], "":[{"type":"insecureAcceptAnything"}]}}}""");
    assertThat(p.scopeFor(ref(image)).getKey()).isEqualTo(scope);
  }

  @Test
  void signedImageIsAcceptedByItsKeyAndRejectedWithReasonsOtherwise() throws Exception {
    ContainersPolicy p = policy("""
        {"default":[{"type":"insecureAcceptAnything"}],"transports":{"docker":{
          "192.168.64.2:5000":[{"type":"sigstoreSigned","keyPath":"KEY1","signedIdentity":{"type":"matchRepository"}}],
          "192.168.64.2:5000/wrong-key":[{"type":"sigstoreSigned","keyPath":"KEY2",
            "signedIdentity":{"type":"matchRepository"}}]}}}""");
    PolicyDecision ok = p.check(ref("docker://" + REPO + ":latest"), manifest, signed);
    assertThat(ok.accepted()).as(ok.reason()).isTrue();
    assertThat(ok.reason()).isEqualTo("policy.json transports.docker[\"192.168.64.2:5000\"]: signature signature-1 by "
        + "a trusted key for " + REPO);

    PolicyDecision unsigned = p.check(ref("docker://192.168.64.2:5000/other:v1"), manifest, SignatureLookup.none());
    assertThat(unsigned.accepted()).isFalse();
    assertThat(unsigned.reason()).isEqualTo("docker://192.168.64.2:5000/other:v1 is rejected by policy.json "
        + "transports.docker[\"192.168.64.2:5000\"]: a sigstore signature is required: no signatures found for "
        + DIGEST + " (no cosign signature tag sha256-" + DIGEST.substring(7) + ".sig and no Sigstore bundle referrer)");

    PolicyDecision wrongKey = p.check(ref("docker://192.168.64.2:5000/wrong-key:v1"), manifest, signed);
    assertThat(wrongKey.accepted()).isFalse();
    assertThat(wrongKey.reason()).contains("signature-1 (simple-signing): invalid: not signed by any trusted key");

    // signed for another repository: the identity rule refuses it
    PolicyDecision otherRepo = p.check(ref("docker://192.168.64.2:5000/elsewhere:v1"), manifest, signed);
    assertThat(otherRepo.accepted()).isFalse();
    assertThat(otherRepo.reason()).contains("signature-1 (simple-signing): invalid: signed for repository " + REPO
        + ", not 192.168.64.2:5000/elsewhere");
  }

  @Test
  void tamperedManifestIsRejectedEvenWithSignatures() throws Exception {
    ContainersPolicy p = policy("""
        {"default":[{"type":"sigstoreSigned","keyPath":"KEY1","signedIdentity":{"type":"matchRepository"}}]}""");
    byte[] bytes = manifest.bytes();
    bytes[bytes.length - 2] ^= 1;
    PolicyDecision d = p.check(ref("docker://" + REPO + ":v1"),
        new RawManifest(bytes, manifest.mediaType(), manifest.digest()), signed);
    assertThat(d.accepted()).isFalse();
    assertThat(d.reason()).endsWith("(tampered)");
  }

  @ParameterizedTest(name = "{0} for {1} signed {2}: {3}")
  @CsvSource(delimiter = '|', value = {
      // default rule: by digest any tag of the repository, by tag only an exact (tagged) identity
      "{\"type\":\"matchRepoDigestOrExact\"}|reg/app@" + DIGEST + "|reg/app|true",
      "{\"type\":\"matchRepoDigestOrExact\"}|reg/app:v1|reg/app|false",
      "{\"type\":\"matchRepoDigestOrExact\"}|reg/app:v1|reg/app:v1|true",
      "{\"type\":\"matchRepoDigestOrExact\"}|reg/app:v1|reg/app:v2|false",
      "{\"type\":\"matchRepoDigestOrExact\"}|reg/app@" + DIGEST + "|reg/other|false",
      "{\"type\":\"matchExact\"}|reg/app:v1|reg/app:v1|true",
      "{\"type\":\"matchExact\"}|reg/app:v1|reg/app|false",
      "{\"type\":\"matchRepository\"}|reg/app:v1|reg/app|true",
      "{\"type\":\"matchRepository\"}|reg/app:v1|reg/app:v9|true",
      "{\"type\":\"matchRepository\"}|reg/app:v1|reg/ap|false",
      "{\"type\":\"exactReference\",\"dockerReference\":\"reg/signed:1\"}|reg/app:v1|reg/signed:1|true",
      "{\"type\":\"exactReference\",\"dockerReference\":\"reg/signed:1\"}|reg/app:v1|reg/app:v1|false",
      "{\"type\":\"exactRepository\",\"dockerRepository\":\"reg/signed\"}|reg/app:v1|reg/signed|true",
      "{\"type\":\"exactRepository\",\"dockerRepository\":\"reg/signed\"}|reg/app:v1|reg/app|false",
      "{\"type\":\"remapIdentity\",\"prefix\":\"mirror.io/lib\",\"signedPrefix\":\"reg/lib\"}|mirror.io/lib/app@" + DIGEST
          + "|reg/lib/app|true",
      "{\"type\":\"remapIdentity\",\"prefix\":\"mirror.io/lib\",\"signedPrefix\":\"reg/lib\"}|mirror.io/library/app@"
          + DIGEST + "|reg/lib/app|false"})
  void signedIdentityRules(String rule, String image, String signedIdentity, boolean match) throws Exception {
    // reg is not a host name: the references are normalized onto docker.io, on both sides alike
    ContainersPolicy p = policy("{\"default\":[{\"type\":\"sigstoreSigned\",\"keyPath\":\"KEY1\",\"signedIdentity\":"
        + rule + "}]}");
    var req = (PolicyRequirement.SigstoreSigned) p.scopeFor(ref("docker://" + image)).getValue().getFirst();
    String mismatch = req.identity().mismatch(ref("docker://" + image), signedIdentity);
    assertThat(mismatch == null).as(String.valueOf(mismatch)).isEqualTo(match);
  }

  @Test
  void keyDataAndKeyPathsAreAcceptedAndRelativePathsResolveAgainstThePolicyDirectory() throws Exception {
    Files.copy(fixtures.resolve("simple-signing/cosign.pub"), tmp.resolve("cosign.pub"));
    String data = Base64.getEncoder().encodeToString(Files.readAllBytes(fixtures.resolve("simple-signing/cosign.pub")));
    for (String req : List.of("\"keyPath\":\"cosign.pub\"", "\"keyData\":\"" + data + "\"",
        "\"keyPaths\":[\"KEY2\",\"cosign.pub\"]", "\"keyDatas\":[\"" + data + "\"]")) {
      Path file = tmp.resolve("policy.json");
      Files.writeString(file, ("{\"default\":[{\"type\":\"sigstoreSigned\"," + req
          + ",\"signedIdentity\":{\"type\":\"matchRepository\"}}]}").replace("KEY2",
          fixtures.resolve("simple-signing/cosign2.pub").toString()));
      PolicyDecision d = SignaturePolicy.load(file).check(ref("docker://" + REPO + ":v1"), manifest, signed);
      assertThat(d.accepted()).as(req + ": " + d.reason()).isTrue();
    }
  }

  @Test
  void unsupportedRequirementsRejectSayingSo() throws Exception {
    ContainersPolicy p = policy("""
        {"default":[{"type":"signedBy","keyType":"GPGKeys","keyPath":"/k.gpg"}],"transports":{"docker":{
          "reg.io":[{"type":"sigstoreSigned","fulcio":{"caPath":"/ca.pem"},"signedIdentity":{"type":"matchRepository"}}]}}}""");
    assertThat(p.check(ref("docker://quay.io/a:1"), manifest, signed).reason()).isEqualTo("docker://quay.io/a:1 is "
        + "rejected by policy.json default: requirement signedBy (GPG simple signing) at default[0] is not supported by "
        + "basalt, so the image cannot be accepted");
    assertThat(p.check(ref("docker://reg.io/a:1"), manifest, signed).reason())
        .contains("sigstoreSigned with fulcio (certificate-based)");
  }

  @Test
  void rekorPublicKeyRequiresALoggedSignature() throws Exception {
    String rekor = fixtures.resolve("simple-signing/rekor.pub").toString();
    ContainersPolicy p = policy("""
        {"default":[{"type":"sigstoreSigned","keyPaths":["KEY1","KEY2"],"rekorPublicKeyPath":"REKOR",
                     "signedIdentity":{"type":"matchRepository"}}]}""".replace("REKOR", rekor));
    // the fixture signatures of dir-img-cosign-valid were never logged
    PolicyDecision d = p.check(ref("docker://" + REPO + ":v1"), manifest, signed);
    assertThat(d.accepted()).isFalse();
    assertThat(d.reason()).contains("signature-1 (simple-signing): invalid: no Rekor bundle "
        + "(dev.sigstore.cosign/bundle annotation)");
    // the key-rekor-valid one was
    Path dir = fixtures.resolve("simple-signing/dir-img-cosign-key-rekor-valid");
    RawManifest logged = RawManifest.of(Files.readAllBytes(dir.resolve("manifest.json")), MediaTypes.DOCKER_MANIFEST);
    CosignSignature sig = CosignSignature.fromSigstoreJson(Files.readAllBytes(dir.resolve("signature-1")), "rekor-sig");
    SignatureLookup lookup = new SignatureLookup() {
      @Override
      public List<CosignSignature> simpleSignatures(Digest m) {
        return List.of(sig);
      }

      @Override
      public List<AttachedBundle> bundles(Digest m) {
        return List.of();
      }
    };
    PolicyDecision ok = p.check(ref("docker://192.168.64.2:5000/cosign-signed/key-1:v1"), logged, lookup);
    assertThat(ok.accepted()).as(ok.reason()).isTrue();
  }

  @Test
  void everyRequirementOfTheScopeMustAccept() throws Exception {
    ContainersPolicy p = policy("""
        {"default":[{"type":"sigstoreSigned","keyPath":"KEY1","signedIdentity":{"type":"matchRepository"}},
                    {"type":"sigstoreSigned","keyPath":"KEY2","signedIdentity":{"type":"matchRepository"}}]}""");
    PolicyDecision d = p.check(ref("docker://" + REPO + ":v1"), manifest, signed);
    assertThat(d.accepted()).isFalse();
    assertThat(d.reason()).contains("not signed by any trusted key");
  }

  @ParameterizedTest(name = "{1}")
  @CsvSource(delimiter = '|', value = {
      "{}|policy.json: 'default' is missing (it is required)",
      "{\"default\":[]}|policy.json: default is an empty list (write [{\"type\":\"reject\"}] to reject)",
      "{\"default\":[{\"type\":\"rejct\"}]}|policy.json: default[0] has unknown requirement type 'rejct'",
      "{\"default\":[{\"type\":\"reject\",\"x\":1}]}|policy.json: default[0] has unknown key 'x'",
      "{\"default\":[{\"type\":\"reject\"}],\"transport\":{}}|policy.json: unknown key 'transport'",
      "{\"default\":[{\"type\":\"sigstoreSigned\",\"keypath\":\"/k\"}]}|policy.json: default[0] has unknown key "
          + "'keypath' for sigstoreSigned",
      "{\"default\":[{\"type\":\"sigstoreSigned\"}]}|policy.json: default[0] sigstoreSigned needs exactly one of "
          + "keyPath, keyPaths, keyData, keyDatas, fulcio or pki",
      "{\"default\":[{\"type\":\"sigstoreSigned\",\"keyPath\":\"KEY1\",\"keyData\":\"eA==\"}]}|policy.json: default[0] "
          + "sigstoreSigned needs exactly one of keyPath, keyPaths, keyData, keyDatas, fulcio or pki, got keyPath, keyData",
      "{\"default\":[{\"type\":\"sigstoreSigned\",\"keyPath\":\"KEY1\",\"signedIdentity\":{\"type\":\"matchAll\"}}]}"
          + "|policy.json: default[0].signedIdentity has unknown type 'matchAll'",
      "{\"default\":[{\"type\":\"sigstoreSigned\",\"keyPath\":\"KEY1\",\"signedIdentity\":{\"type\":\"exactReference\","
          + "\"dockerReference\":\"reg.io/app\"}}]}|policy.json: default[0].signedIdentity.dockerReference 'reg.io/app' "
          + "must have a tag or digest",
      "{\"default\":[{\"type\":\"reject\"}],\"transports\":{\"docker\":{\"http://reg.io\":[{\"type\":\"reject\"}]}}}"
          + "|policy.json: transports.docker[\"http://reg.io\"]: not a docker scope "
          + "(host[:port][/namespace...][:tag or @digest])",
      "{\"default\":[{\"type\":\"sigstoreSigned\",\"keyData\":\"!!\"}]}|policy.json: default[0].keyData is not base64",
      "[1]|policy.json is not a JSON object"})
  void invalidPoliciesNameTheLocation(String json, String message) {
    assertThatThrownBy(() -> policy(json)).isInstanceOf(PolicyException.class).hasMessage(message);
  }

  @Test
  void missingOrBadKeyFilesFailWhenThePolicyIsRead() {
    assertThatThrownBy(() -> policy("{\"default\":[{\"type\":\"sigstoreSigned\",\"keyPath\":\"/nonexistent.pub\"}]}"))
        .hasMessageStartingWith("policy.json: default[0].keyPath cannot read key file /nonexistent.pub");
    assertThatThrownBy(() -> SignaturePolicy.load(tmp.resolve("absent.json")))
        .hasMessageStartingWith("cannot read policy file " + tmp.resolve("absent.json"));
  }
}

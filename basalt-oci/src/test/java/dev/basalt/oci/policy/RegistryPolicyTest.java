package dev.basalt.oci.policy;

import static org.assertj.core.api.Assertions.assertThat;

import dev.basalt.oci.api.RawManifest;
import dev.basalt.oci.ref.DockerReference;
import dev.basalt.oci.ref.ImageReference;
import dev.basalt.oci.registry.CredentialStore;
import dev.basalt.oci.registry.RegistryClient;
import dev.basalt.oci.sign.CosignKeys;
import dev.basalt.oci.sign.ImageSigning;
import dev.basalt.oci.sign.RegistrySignatures;
import dev.basalt.oci.testing.TestImages;
import dev.basalt.oci.testing.TinyImages;
import dev.basalt.testkit.LocalRegistry;
import dev.basalt.testkit.Tools;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Policies evaluated against images signed in the real registry, and what skopeo 1.9 (containers/image) makes of
 * the same policy.json and signatures. Debian's skopeo 1.9.3 has sigstore verification and signing patched out
 * ("Debian-local change: sigstore disabled"), so it cannot cross-check verdicts; it still shows that
 * containers/image parses our policy files and finds basalt's signatures where it looks for them.
 */
class RegistryPolicyTest {
  static LocalRegistry registry;
  static RegistryClient client;
  static Path work;
  static Path registriesD;
  static final KeyPair KEY = CosignKeys.generate();
  static final KeyPair OTHER = CosignKeys.generate();
  static Path pub;

  @BeforeAll
  static void start() throws Exception {
    Tools.require("skopeo");
    registry = LocalRegistry.start();
    client = RegistryClient.builder(registry.hostPort()).tlsVerify(false)
        .credentialStore(CredentialStore.of(List.of())).build();
    work = Files.createTempDirectory("skopeo-policy");
    registriesD = Files.createDirectories(work.resolve("registries.d"));
    Files.writeString(registriesD.resolve("local.yaml"),
        "docker:\n  " + registry.hostPort() + ":\n    use-sigstore-attachments: true\n");
    pub = work.resolve("cosign.pub");
    Files.writeString(pub, CosignKeys.publicKeyPem(KEY.getPublic()));
    TinyImages.push(client, "interop/signed", "v1", "signed");
    ImageSigning.sign(client, ref("interop/signed:v1"), KEY.getPrivate(), true, true);
    TinyImages.push(client, "interop/unsigned", "v1", "unsigned");
    TinyImages.push(client, "interop/otherkey", "v1", "otherkey");
    ImageSigning.sign(client, ref("interop/otherkey:v1"), OTHER.getPrivate(), true, false);
  }

  @AfterAll
  static void stop() throws Exception {
    client.close();
    registry.close();
    TestImages.deleteTree(work);
  }

  static DockerReference ref(String repoAndTag) {
    return DockerReference.parse(registry.hostPort() + "/" + repoAndTag);
  }

  Path policy(String identity) throws Exception {
    Path p = Files.createTempFile(work, "policy", ".json");
    Files.writeString(p, """
        {"default":[{"type":"insecureAcceptAnything"}],
         "transports":{"docker":{"%s":[{"type":"sigstoreSigned","keyPath":"%s"%s}]}}}"""
        .formatted(registry.hostPort(), pub, identity.isEmpty() ? "" : ",\"signedIdentity\":" + identity));
    return p;
  }

  /** skopeo's verdict: exit status of a copy governed by the policy, and its message. */
  static Tools.Result skopeo(Path policy, String ref) throws Exception {
    Path out = Files.createTempDirectory(work, "out");
    List<String> cmd = List.of("skopeo", "copy", "-q", "--policy", policy.toString(), "--registries.d",
        registriesD.toString(), "--src-tls-verify=false", ref, "dir:" + out);
    return Tools.run(cmd, null, 60);
  }

  static PolicyDecision basalt(Path policy, String ref) throws Exception {
    DockerReference r = (DockerReference) ImageReference.parse(ref);
    RawManifest m = client.fetchManifest(r.repository(), r.reference());
    return SignaturePolicy.load(policy).check(r, m, new RegistrySignatures(client, r.repository()));
  }

  @ParameterizedTest(name = "{0} {1}: {2}")
  @CsvSource(delimiter = '|', value = {
      "{\"type\":\"matchRepository\"}|interop/signed:v1|true",
      "{\"type\":\"matchRepository\"}|interop/unsigned:v1|false",
      "{\"type\":\"matchRepository\"}|interop/otherkey:v1|false",
      // the default matchRepoDigestOrExact: cosign's untagged identity only fits a reference by digest
      "|interop/signed:v1|false",
      "|interop/signed@DIGEST|true",
      "{\"type\":\"exactRepository\",\"dockerRepository\":\"HOST/interop/elsewhere\"}|interop/signed:v1|false",
      "{\"type\":\"exactRepository\",\"dockerRepository\":\"HOST/interop/signed\"}|interop/signed:v1|true"})
  void policyDecisionsOnRegistryImages(String identity, String image, boolean accepted) throws Exception {
    String id = identity == null ? "" : identity.replace("HOST", registry.hostPort());
    String ref = "docker://" + registry.hostPort() + "/" + image;
    if (ref.contains("DIGEST")) {
      ref = ref.replace("DIGEST", client.fetchManifest("interop/signed", "v1").digest().toString());
    }
    PolicyDecision b = basalt(policy(id), ref);
    assertThat(b.accepted()).as("basalt: " + b.reason()).isEqualTo(accepted);
  }

  @Test
  void skopeoReadsThePolicyAndFindsBasaltSignaturesButDebianDisabledSigstore() throws Exception {
    Path p = policy("{\"type\":\"matchRepository\"}");
    String signed = "docker://" + registry.hostPort() + "/interop/signed:v1";
    String unsigned = "docker://" + registry.hostPort() + "/interop/unsigned:v1";
    // unsigned: no signature found, by either
    assertThat(skopeo(p, unsigned).stderr()).contains("A signature was required, but no signature exists");
    assertThat(basalt(p, unsigned).reason()).contains("no signatures found");
    // signed: containers/image found the signature in the .sig tag and went on to verify it (Debian stubs that out)
    Tools.Result s = skopeo(p, signed);
    assertThat(s.exitCode()).isNotZero();
    assertThat(s.stderr()).contains("sigstore disabled").doesNotContain("no signature exists");
    assertThat(basalt(p, signed).accepted()).isTrue();
  }

  @Test
  void debianSkopeoCannotSignWithACosignKeySoItCannotCrossCheckOurKeyFormat() throws Exception {
    Path key = work.resolve("cosign.key");
    Files.writeString(key, CosignKeys.encrypt(KEY.getPrivate(), "hunter2".toCharArray()));
    Path pass = work.resolve("pass");
    Files.writeString(pass, "hunter2");
    Path open = work.resolve("open.json");
    Files.writeString(open, "{\"default\":[{\"type\":\"insecureAcceptAnything\"}]}");
    List<String> cmd = new ArrayList<>(List.of("skopeo", "copy", "-q", "--policy", open.toString(), "--registries.d",
        registriesD.toString(), "--src-tls-verify=false", "--dest-tls-verify=false",
        "--sign-by-sigstore-private-key", key.toString(), "--sign-passphrase-file", pass.toString(),
        "docker://" + registry.hostPort() + "/interop/unsigned:v1",
        "docker://" + registry.hostPort() + "/interop/skopeo-signed:v1"));
    // If this starts passing, the installed skopeo can sign: turn it into a real cross-check.
    assertThat(Tools.run(cmd, null, 60).stderr()).contains("sigstore disabled");
  }
}

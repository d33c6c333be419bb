package dev.basalt.cli;

import static dev.basalt.cli.ImageKeygenCommandTest.withStdin;
import static org.assertj.core.api.Assertions.assertThat;

import dev.basalt.testkit.LocalRegistry;
import dev.basalt.testkit.Tools;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * keygen, sign and verify through the CLI against the real registry, then copy --policy / --verify enforcing the
 * result; skopeo checks that a refused copy wrote nothing.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ImageSignVerifyCommandTest {
  LocalRegistry registry;
  Path work;
  Path key;
  Path pub;
  Path otherPub;

  @BeforeAll
  void setUp() throws IOException {
    registry = LocalRegistry.start();
    work = Files.createTempDirectory("basalt-sign-cli");
    withStdin("secret\n", "image", "keygen", "--output-key-prefix", work.resolve("cosign").toString()).ok();
    withStdin("other\n", "image", "keygen", "--output-key-prefix", work.resolve("other").toString()).ok();
    key = work.resolve("cosign.key");
    pub = work.resolve("cosign.pub");
    otherPub = work.resolve("other.pub");
    Path rootfs = Files.createDirectories(work.resolve("rootfs/etc"));
    for (String tag : List.of("signed", "unsigned", "moved")) {
      Files.writeString(rootfs.resolve("tag"), tag + "\n");
      Cli.run("image", "import", work.resolve("rootfs").toString(), "oci:" + work.resolve("layout") + ":" + tag).ok();
      Cli.run("copy", "-q", "--dest-tls-verify=false", "oci:" + work.resolve("layout") + ":" + tag, ref(tag)).ok();
    }
  }

  @AfterAll
  void tearDown() {
    registry.close();
    Tools.run(List.of("rm", "-rf", work.toString()));
  }

  String ref(String tag) {
    return "docker://" + registry.hostPort() + "/cli/app:" + tag;
  }

  @Test
  void signThenVerifyBothFormsAndRefusalsWithReasons() {
    String digest = withStdin("secret\n", "image", "sign", "--tls-verify=false", "--key", key.toString(), ref("signed"))
        .ok().lastLine();
    assertThat(digest).startsWith("sha256:");
    Cli.Run ok = Cli.run("image", "verify", "--tls-verify=false", "--key", pub.toString(), ref("signed")).ok();
    assertThat(ok.out()).contains("Verified OK: " + registry.hostPort() + "/cli/app:sha256-" + digest.substring(7)
        + ".sig layer 0 (simple-signing, identity " + registry.hostPort() + "/cli/app)")
        .contains("(bundle, bound to the digest)");
    assertThat(ok.lastLine()).isEqualTo(digest);

    Cli.Run otherKey = Cli.run("image", "verify", "--tls-verify=false", "--key", otherPub.toString(), ref("signed"));
    assertThat(otherKey.exitCode()).isEqualTo(1);
    assertThat(otherKey.err()).contains("basalt image verify: error: " + ref("signed") + ": no valid signature for " + digest)
        .contains("(simple-signing): invalid: not signed by any trusted key")
        .contains("(bundle): invalid: bundle dsseEnvelope is not signed by any trusted key");

    Cli.Run unsigned = Cli.run("image", "verify", "--tls-verify=false", "--key", pub.toString(), ref("unsigned"));
    assertThat(unsigned.exitCode()).isEqualTo(1);
    assertThat(unsigned.err()).contains("no signatures found for sha256:");

    // either key of several
    Cli.run("image", "verify", "--tls-verify=false", "--key", otherPub.toString(), "--key", pub.toString(),
        ref("signed")).ok();
  }

  @Test
  void wrongPasswordAndBadArgumentsAreRefusedClearly() {
    Cli.Run wrong = withStdin("nope\n", "image", "sign", "--tls-verify=false", "--key", key.toString(), ref("unsigned"));
    assertThat(wrong.exitCode()).isEqualTo(1);
    assertThat(wrong.err()).contains("basalt image sign: error: " + key + ": wrong password (secretbox authentication failed)");
    Cli.Run local = withStdin("secret\n", "image", "sign", "--key", key.toString(), "oci:" + work.resolve("layout")
        + ":signed");
    assertThat(local.exitCode()).isEqualTo(2);
    assertThat(local.err()).contains("signatures are stored in registries");
    Cli.Run noKey = Cli.run("image", "verify", "--tls-verify=false", "--key", work.resolve("absent.pub").toString(),
        ref("signed"));
    assertThat(noKey.exitCode()).isEqualTo(1);
    assertThat(noKey.err()).contains("public key file " + work.resolve("absent.pub") + " does not exist");
    // nothing was signed by the failed attempts
    Cli.Run still = Cli.run("image", "verify", "--tls-verify=false", "--any-identity", "--key", pub.toString(),
        ref("unsigned"));
    assertThat(still.exitCode()).isEqualTo(1);
  }

  @Test
  void copyEnforcesThePolicyBeforeWritingAnything() throws IOException {
    withStdin("secret\n", "image", "sign", "--tls-verify=false", "--key", key.toString(), ref("signed")).ok();
    Path policy = work.resolve("policy.json");
    Files.writeString(policy, """
        {"default":[{"type":"reject"}],
         "transports":{"docker":{"%s/cli":[{"type":"sigstoreSigned","keyPath":"%s",
                                            "signedIdentity":{"type":"matchRepository"}}]}}}"""
        .formatted(registry.hostPort(), pub));

    Path accepted = work.resolve("accepted");
    String digest = Cli.run("copy", "-q", "--src-tls-verify=false", "--policy", policy.toString(), ref("signed"),
        "oci:" + accepted + ":v1").ok().lastLine();
    assertThat(Tools.check("skopeo", "inspect", "--format", "{{.Digest}}", "oci:" + accepted + ":v1").strip())
        .isEqualTo(digest);

    Path refused = work.resolve("refused");
    Cli.Run r = Cli.run("copy", "-q", "--src-tls-verify=false", "--policy", policy.toString(), ref("unsigned"),
        "oci:" + refused + ":v1");
    assertThat(r.exitCode()).isEqualTo(1);
    assertThat(r.err()).contains("basalt copy: error: " + ref("unsigned") + " is rejected by " + policy
        + " transports.docker[\"" + registry.hostPort() + "/cli\"]: a sigstore signature is required: no signatures "
        + "found for sha256:");
    assertThat(refused).doesNotExist();

    // into a registry too: the destination tag never appears
    Cli.Run toRegistry = Cli.run("copy", "-q", "--tls-verify=false", "--verify", otherPub.toString(), ref("signed"),
        "docker://" + registry.hostPort() + "/cli/mirror:v1");
    assertThat(toRegistry.exitCode()).isEqualTo(1);
    assertThat(toRegistry.err()).contains("not signed by any trusted key");
    assertThat(Tools.run(List.of("skopeo", "inspect", "--tls-verify=false", "docker://" + registry.hostPort()
        + "/cli/mirror:v1"), null, 60).exitCode()).isNotZero();
    Cli.run("copy", "-q", "--tls-verify=false", "--verify", pub.toString(), ref("signed"),
        "docker://" + registry.hostPort() + "/cli/mirror:v1").ok();

    // a layout source has no signatures: the default scope rejects it
    Cli.Run local = Cli.run("copy", "-q", "--policy", policy.toString(), "oci:" + accepted + ":v1",
        "oci:" + work.resolve("again") + ":v1");
    assertThat(local.exitCode()).isEqualTo(1);
    assertThat(local.err()).contains("is rejected by " + policy + " default: the policy rejects this image");
  }

  @Test
  void aTagMovedAfterSigningIsNoLongerCovered() {
    withStdin("secret\n", "image", "sign", "--tls-verify=false", "--key", key.toString(), ref("moved")).ok();
    Cli.run("image", "verify", "--tls-verify=false", "--key", pub.toString(), ref("moved")).ok();
    Cli.run("copy", "-q", "--tls-verify=false", ref("unsigned"), ref("moved")).ok();
    Cli.Run r = Cli.run("image", "verify", "--tls-verify=false", "--key", pub.toString(), ref("moved"));
    assertThat(r.exitCode()).isEqualTo(1);
    assertThat(r.err()).contains("no signatures found for sha256:");
  }
}

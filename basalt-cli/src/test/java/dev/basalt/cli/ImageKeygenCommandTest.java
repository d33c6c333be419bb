package dev.basalt.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.basalt.oci.sign.CosignKeys;
import dev.basalt.testkit.Tools;
import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.PrivateKey;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ImageKeygenCommandTest {
  @TempDir Path tmp;

  /** Runs the CLI with {@code stdin} as standard input (how cosign takes a password without a terminal). */
  static Cli.Run withStdin(String stdin, String... args) {
    InputStream old = System.in;
    System.setIn(new ByteArrayInputStream(stdin.getBytes(StandardCharsets.UTF_8)));
    try {
      return Cli.run(args);
    } finally {
      System.setIn(old);
    }
  }

  @Test
  void writesAnEncryptedCosignKeyAndItsPublicKey() throws Exception {
    String prefix = tmp.resolve("release").toString();
    Cli.Run r = withStdin("pa ss\n", "image", "keygen", "--output-key-prefix", prefix).ok();
    assertThat(r.err()).contains("Private key written to " + prefix + ".key");
    Path key = Path.of(prefix + ".key");
    Path pub = Path.of(prefix + ".pub");
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(key))).isEqualTo("rw-------");
    assertThat(Files.readString(key)).startsWith("-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\n");
    // the trailing newline of stdin is not part of the password
    PrivateKey k = CosignKeys.decrypt(Files.readAllBytes(key), "pa ss".toCharArray(), key.toString());
    assertThat(CosignKeys.publicKeyPem(CosignKeys.publicKey(k))).isEqualTo(Files.readString(pub));
    // openssl reads the public key as a P-256 SubjectPublicKeyInfo
    assertThat(Tools.check("openssl", "pkey", "-pubin", "-in", pub.toString(), "-noout", "-text"))
        .contains("ASN1 OID: prime256v1");
    assertThat(tmp.toFile().list()).containsExactlyInAnyOrder("release.key", "release.pub");
  }

  @Test
  void refusesToOverwriteWithoutForce() throws Exception {
    String prefix = tmp.resolve("cosign").toString();
    withStdin("a", "image", "keygen", "--output-key-prefix", prefix).ok();
    String before = Files.readString(Path.of(prefix + ".key"));
    Cli.Run again = withStdin("b", "image", "keygen", "--output-key-prefix", prefix);
    assertThat(again.exitCode()).isEqualTo(2);
    assertThat(again.err()).contains(prefix + ".key already exists; use --force to overwrite it");
    assertThat(Files.readString(Path.of(prefix + ".key"))).isEqualTo(before);
    withStdin("b", "image", "keygen", "--output-key-prefix", prefix, "--force").ok();
    assertThat(Files.readString(Path.of(prefix + ".key"))).isNotEqualTo(before);
  }

  @Test
  void missingDirectoryFailsWithoutLeavingFiles() {
    Cli.Run r = withStdin("x", "image", "keygen", "--output-key-prefix", tmp.resolve("no/such/dir/k").toString());
    assertThat(r.exitCode()).isEqualTo(1);
    assertThat(r.err()).contains("output directory does not exist: " + tmp.resolve("no/such/dir"));
    assertThat(tmp.toFile().list()).isEmpty();
  }
}

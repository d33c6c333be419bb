package dev.basalt.oci.sign;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.security.KeyPair;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.util.Base64;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class CosignKeysTest {

  @ParameterizedTest(name = "{0}")
  @CsvSource(delimiter = '|', value = {
      "sigstore-rs-cosign-generated-empty-password| ''",
      "sigstore-rs-ecdsa-password-123|123",
      "cosign-sigstore-label-password-hello|hello",
      "cosign-cosign-label-password-hello|hello"})
  void decryptsCosignKeysAndDerivesExactlyTheRecordedPublicKey(String name, String password) throws Exception {
    String file = "encrypted-keys/" + name + ".key";
    PrivateKey key = CosignKeys.decrypt(CosignFixtures.bytes(file), password.toCharArray(), file);
    String pub = CosignKeys.publicKeyPem(CosignKeys.publicKey(key));
    assertThat(pub).isEqualTo(new String(CosignFixtures.bytes("encrypted-keys/" + name + ".derived.pub"),
        StandardCharsets.US_ASCII));
    // and the key signs what the derived public key verifies
    PublicKey derived = CosignFixtures.publicKey("encrypted-keys/" + name + ".derived.pub");
    byte[] data = "basalt".getBytes(StandardCharsets.UTF_8);
    assertThat(Ecdsa.verifier(List.of(derived), data, Ecdsa.sign(key, data))).isEqualTo(derived);
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource({"sigstore-rs-ecdsa-password-123", "cosign-sigstore-label-password-hello",
      "cosign-cosign-label-password-hello"})
  void wrongPasswordIsAMacFailureNamingTheFile(String name) {
    String file = "encrypted-keys/" + name + ".key";
    assertThatThrownBy(() -> CosignKeys.decrypt(CosignFixtures.bytes(file), "wrong".toCharArray(), file))
        .isInstanceOf(SignException.class).hasMessage(file + ": wrong password (secretbox authentication failed)");
  }

  @Test
  void sec1PayloadIsRejectedLikeCosignDoes() {
    String file = "encrypted-keys/cosign-sec1-payload-password-hello.key";
    assertThatThrownBy(() -> CosignKeys.decrypt(CosignFixtures.bytes(file), "hello".toCharArray(), file))
        .isInstanceOf(SignException.class)
        .hasMessage(file + ": decrypted key is not a PKCS#8 EC private key (it is a SEC1 'EC PRIVATE KEY' structure, "
            + "which cosign rejects as well)");
  }

  @Test
  void encryptedKeyRoundTripsInCosignsFormat() throws Exception {
    KeyPair kp = CosignKeys.generate();
    String pem = CosignKeys.encrypt(kp.getPrivate(), "s3cret".toCharArray());
    assertThat(pem).startsWith("-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\n")
        .endsWith("-----END ENCRYPTED SIGSTORE PRIVATE KEY-----\n");
    String body = pem.lines().filter(l -> !l.startsWith("-----")).reduce("", String::concat);
    assertThat(pem.lines().filter(l -> !l.startsWith("-----"))).allMatch(l -> l.length() <= 64);
    String json = new String(Base64.getDecoder().decode(body), StandardCharsets.UTF_8);
    assertThat(json).matches("\\{\"kdf\":\\{\"name\":\"scrypt\",\"params\":\\{\"N\":65536,\"r\":8,\"p\":1},"
        + "\"salt\":\"[A-Za-z0-9+/=]{44}\"},\"cipher\":\\{\"name\":\"nacl/secretbox\",\"nonce\":\"[A-Za-z0-9+/=]{32}\"},"
        + "\"ciphertext\":\"[A-Za-z0-9+/=]+\"}");
    PrivateKey back = CosignKeys.decrypt(pem.getBytes(StandardCharsets.US_ASCII), "s3cret".toCharArray(), "cosign.key");
    assertThat(back.getEncoded()).isEqualTo(kp.getPrivate().getEncoded());
    assertThat(CosignKeys.publicKey(back)).isEqualTo(kp.getPublic());
    assertThatThrownBy(() -> CosignKeys.decrypt(pem.getBytes(StandardCharsets.US_ASCII), "s3creT".toCharArray(), "k"))
        .hasMessageContaining("wrong password");
  }

  @Test
  void publicKeyPemRoundTripsByteForByteAndHintMatchesCosign() throws Exception {
    byte[] pem = CosignFixtures.bytes("bundle-key-blob/managed-key-happy-path/key.pub");
    PublicKey k = CosignKeys.readPublicKey(pem, "key.pub");
    assertThat(CosignKeys.publicKeyPem(k)).isEqualTo(new String(pem, StandardCharsets.US_ASCII));
    assertThat(CosignKeys.hint(k)).isEqualTo("TLMsSDfG3ajPsWge+z/vX5T/zluXnmvbkTkwLIV68Tk=");
  }

  @Test
  void badKeyFilesGiveMessagesNamingTheFileAndTheProblem() {
    assertThatThrownBy(() -> CosignKeys.readPublicKey("hello".getBytes(StandardCharsets.US_ASCII), "x.pub"))
        .hasMessage("x.pub is not PEM (no -----BEGIN ...----- / -----END ...----- block)");
    assertThatThrownBy(() -> CosignKeys.readPublicKey(
        CosignFixtures.bytes("bundle-key-blob/managed-key-wrong-key_fail/key.pub"), "wrong.pub"))
        .isInstanceOf(SignException.class).hasMessageStartingWith("wrong.pub: not a valid EC public key");
    byte[] priv = CosignFixtures.bytes("encrypted-keys/sigstore-rs-ecdsa-password-123.key");
    assertThatThrownBy(() -> CosignKeys.readPublicKey(priv, "k.key"))
        .hasMessage("k.key: PEM block is 'ENCRYPTED COSIGN PRIVATE KEY', expected 'PUBLIC KEY'");
    byte[] pub = CosignFixtures.bytes("simple-signing/cosign.pub");
    assertThatThrownBy(() -> CosignKeys.decrypt(pub, new char[0], "cosign.pub"))
        .hasMessageStartingWith("cosign.pub: PEM block is 'PUBLIC KEY', expected 'ENCRYPTED SIGSTORE PRIVATE KEY'");
  }
}

package dev.basalt.oci.sign;

import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.MessageDigest;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.interfaces.ECPrivateKey;
import java.security.interfaces.ECPublicKey;
import java.security.spec.ECGenParameterSpec;
import java.security.spec.ECPoint;
import java.security.spec.ECPublicKeySpec;
import java.security.spec.PKCS8EncodedKeySpec;
import java.security.spec.X509EncodedKeySpec;
import java.util.Arrays;
import java.util.Base64;
import org.bouncycastle.asn1.x9.ECNamedCurveTable;
import org.bouncycastle.asn1.x9.X9ECParameters;
import org.bouncycastle.crypto.generators.SCrypt;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * cosign key files. Private keys are {@code ENCRYPTED SIGSTORE PRIVATE KEY} PEM blocks (older cosign:
 * {@code ENCRYPTED COSIGN PRIVATE KEY}) whose body is the JSON envelope
 * {@code {"kdf":{"name":"scrypt","params":{"N","r","p"},"salt"},"cipher":{"name":"nacl/secretbox","nonce"},"ciphertext"}}
 * around a PKCS#8 DER key; public keys are {@code PUBLIC KEY} PEM (SubjectPublicKeyInfo). Only ECDSA P-256.
 */
public final class CosignKeys {
  /** Label written by current cosign. */
  public static final String SIGSTORE_LABEL = "ENCRYPTED SIGSTORE PRIVATE KEY";
  /** Label written by cosign before 2.0; still read. */
  public static final String COSIGN_LABEL = "ENCRYPTED COSIGN PRIVATE KEY";
  /** scrypt cost of new key files (cosign's current default; 64 MiB of memory). */
  public static final int SCRYPT_N = 65536;
  private static final int MAX_SCRYPT_N = 1 << 20;
  private static final String P256_OID = "1.2.840.10045.3.1.7";
  private static final SecureRandom RANDOM = new SecureRandom();

  private CosignKeys() {}

  /** A fresh ECDSA P-256 key pair. */
  public static KeyPair generate() {
    try {
      KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
      g.initialize(new ECGenParameterSpec("secp256r1"), RANDOM);
      return g.generateKeyPair();
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("the JDK has no EC P-256 key generator", e);
    }
  }

  /** {@code cosign.key} content: the PKCS#8 key sealed with scrypt(password) + secretbox, as cosign writes it. */
  public static String encrypt(PrivateKey key, char[] password) {
    requireP256(key);
    byte[] salt = new byte[32];
    byte[] nonce = new byte[SecretBox.NONCE];
    RANDOM.nextBytes(salt);
    RANDOM.nextBytes(nonce);
    byte[] secret = scrypt(password, salt, SCRYPT_N, 8, 1);
    byte[] box = SecretBox.seal(secret, nonce, key.getEncoded());
    Arrays.fill(secret, (byte) 0);
    ObjectNode env = Json.object();
    ObjectNode kdf = env.putObject("kdf");
    kdf.put("name", "scrypt");
    kdf.putObject("params").put("N", SCRYPT_N).put("r", 8).put("p", 1);
    kdf.put("salt", Base64.getEncoder().encodeToString(salt));
    env.putObject("cipher").put("name", "nacl/secretbox").put("nonce", Base64.getEncoder().encodeToString(nonce));
    env.put("ciphertext", Base64.getEncoder().encodeToString(box));
    return new Pem(SIGSTORE_LABEL, Json.bytes(env)).encode();
  }

  /**
   * Opens an encrypted cosign key (either label), or reads an unencrypted {@code PRIVATE KEY} (PKCS#8) PEM.
   *
   * @param what names the file in messages
   * @throws SignException for a wrong password (MAC failure), a malformed envelope or a non-PKCS#8 / non-P-256 key
   */
  public static PrivateKey decrypt(byte[] pemText, char[] password, String what) throws SignException {
    Pem pem = Pem.parse(pemText, what);
    if (pem.label().equals("PRIVATE KEY")) return pkcs8(pem.body(), what);
    if (!pem.label().equals(SIGSTORE_LABEL) && !pem.label().equals(COSIGN_LABEL)) {
      throw new SignException(what + ": PEM block is '" + pem.label() + "', expected '" + SIGSTORE_LABEL + "' (or '"
          + COSIGN_LABEL + "', 'PRIVATE KEY')");
    }
    JsonNode env = Json.parse(pem.body(), what + " (encrypted key envelope)");
    String w = what + " (encrypted key envelope)";
    JsonNode kdf = Json.obj(env, "kdf", w);
    if (!Json.str(kdf, "name", w + " kdf").equals("scrypt")) {
      throw new SignException(w + ": kdf '" + kdf.get("name").stringValue() + "' is not supported (only scrypt)");
    }
    JsonNode params = Json.obj(kdf, "params", w + " kdf");
    long n = Json.integer(params, "N", w + " kdf params");
    long r = Json.integer(params, "r", w + " kdf params");
    long p = Json.integer(params, "p", w + " kdf params");
    if (n < 2 || n > MAX_SCRYPT_N || Long.bitCount(n) != 1 || r < 1 || r > 32 || p < 1 || p > 16) {
      throw new SignException(w + ": unreasonable scrypt parameters N=" + n + " r=" + r + " p=" + p);
    }
    byte[] salt = Json.b64(kdf, "salt", w + " kdf");
    JsonNode cipher = Json.obj(env, "cipher", w);
    if (!Json.str(cipher, "name", w + " cipher").equals("nacl/secretbox")) {
      throw new SignException(w + ": cipher '" + cipher.get("name").stringValue()
          + "' is not supported (only nacl/secretbox)");
    }
    byte[] nonce = Json.b64(cipher, "nonce", w + " cipher");
    if (nonce.length != SecretBox.NONCE) throw new SignException(w + ": nonce is " + nonce.length + " bytes, not 24");
    byte[] box = Json.b64(env, "ciphertext", w);
    byte[] secret = scrypt(password, salt, (int) n, (int) r, (int) p);
    byte[] plain = SecretBox.open(secret, nonce, box);
    Arrays.fill(secret, (byte) 0);
    if (plain == null) throw new SignException(what + ": wrong password (secretbox authentication failed)");
    try {
      return pkcs8(plain, what);
    } finally {
      Arrays.fill(plain, (byte) 0);
    }
  }

  /** Reads a {@code PUBLIC KEY} PEM (ECDSA P-256). */
  public static PublicKey readPublicKey(byte[] pemText, String what) throws SignException {
    Pem pem = Pem.parse(pemText, what);
    if (!pem.label().equals("PUBLIC KEY")) {
      throw new SignException(what + ": PEM block is '" + pem.label() + "', expected 'PUBLIC KEY'");
    }
    PublicKey key;
    try {
      key = KeyFactory.getInstance("EC").generatePublic(new X509EncodedKeySpec(pem.body()));
    } catch (GeneralSecurityException | RuntimeException e) {
      throw new SignException(what + ": not a valid EC public key (SubjectPublicKeyInfo): " + e.getMessage(), e);
    }
    requireP256(key, what);
    // The JDK accepts any coordinates; a point off the curve is a corrupted or hostile key.
    ECPoint w = ((ECPublicKey) key).getW();
    boolean onCurve;
    try {
      onCurve = p256().getCurve().createPoint(w.getAffineX(), w.getAffineY()).isValid();
    } catch (RuntimeException e) {
      onCurve = false;
    }
    if (!onCurve) throw new SignException(what + ": not a valid EC public key: the point is not on the P-256 curve");
    return key;
  }

  private static X9ECParameters p256() {
    return ECNamedCurveTable.getByOID(new org.bouncycastle.asn1.ASN1ObjectIdentifier(P256_OID));
  }

  /** {@code cosign.pub} content. */
  public static String publicKeyPem(PublicKey key) {
    return new Pem("PUBLIC KEY", key.getEncoded()).encode();
  }

  /** The public half of a P-256 private key (d·G). */
  public static PublicKey publicKey(PrivateKey key) {
    ECPrivateKey ec = requireP256(key);
    org.bouncycastle.math.ec.ECPoint q = p256().getG().multiply(ec.getS()).normalize();
    ECPoint w = new ECPoint(q.getAffineXCoord().toBigInteger(), q.getAffineYCoord().toBigInteger());
    try {
      return KeyFactory.getInstance("EC").generatePublic(new ECPublicKeySpec(w, ec.getParams()));
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  /** cosign's key hint: base64(SHA-256(DER SubjectPublicKeyInfo)). */
  public static String hint(PublicKey key) {
    try {
      return Base64.getEncoder().encodeToString(MessageDigest.getInstance("SHA-256").digest(key.getEncoded()));
    } catch (GeneralSecurityException e) {
      throw new AssertionError(e);
    }
  }

  /** True for a P-256 key (public or private). */
  static boolean isP256(java.security.Key key) {
    java.security.spec.ECParameterSpec spec = key instanceof ECPublicKey p ? p.getParams()
        : key instanceof ECPrivateKey s ? s.getParams() : null;
    return spec != null && spec.getCurve().getField().getFieldSize() == 256
        && spec.getOrder().equals(new BigInteger("FFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551", 16));
  }

  private static ECPrivateKey requireP256(PrivateKey key) {
    if (!(key instanceof ECPrivateKey ec) || !isP256(key)) {
      throw new IllegalArgumentException("only ECDSA P-256 keys are supported, got " + key.getAlgorithm());
    }
    return ec;
  }

  private static void requireP256(PublicKey key, String what) throws SignException {
    if (!isP256(key)) throw new SignException(what + ": only ECDSA P-256 keys are supported");
  }

  private static PrivateKey pkcs8(byte[] der, String what) throws SignException {
    PrivateKey key;
    try {
      key = KeyFactory.getInstance("EC").generatePrivate(new PKCS8EncodedKeySpec(der));
    } catch (GeneralSecurityException | RuntimeException e) {
      String sec1 = der.length > 2 && der[0] == 0x30 && looksLikeSec1(der)
          ? " (it is a SEC1 'EC PRIVATE KEY' structure, which cosign rejects as well)" : "";
      throw new SignException(what + ": decrypted key is not a PKCS#8 EC private key" + sec1, e);
    }
    if (!isP256(key)) throw new SignException(what + ": only ECDSA P-256 keys are supported");
    return key;
  }

  private static boolean looksLikeSec1(byte[] der) {
    try {
      org.bouncycastle.asn1.sec.ECPrivateKey.getInstance(org.bouncycastle.asn1.ASN1Primitive.fromByteArray(der));
      return true;
    } catch (java.io.IOException | RuntimeException e) {
      return false;
    }
  }

  private static byte[] scrypt(char[] password, byte[] salt, int n, int r, int p) {
    ByteBuffer bb = StandardCharsets.UTF_8.encode(CharBuffer.wrap(password));
    byte[] pw = new byte[bb.remaining()];
    bb.get(pw);
    try {
      return SCrypt.generate(pw, salt, n, r, p, 32);
    } finally {
      Arrays.fill(pw, (byte) 0);
      if (bb.hasArray()) Arrays.fill(bb.array(), (byte) 0);
    }
  }
}

package dev.basalt.fleet.client;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.StringReader;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import javax.security.auth.x500.X500Principal;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.openssl.jcajce.JcaPKCS8Generator;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.bouncycastle.pkcs.jcajce.JcaPKCS10CertificationRequestBuilder;

/**
 * Keys, CSRs, certificates and TLS contexts of a device; files written atomically with mode 0600. Public only for
 * the key, CSR and PEM helpers the simulator shares; the rest is the device client's.
 */
public final class DeviceIdentity {
  private static final SecureRandom RANDOM = new SecureRandom();

  private DeviceIdentity() {}

  /** A new EC P-256 key pair, the only kind the fleet CA signs. */
  public static KeyPair newKeyPair() {
    try {
      KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
      g.initialize(new ECGenParameterSpec("secp256r1"), RANDOM);
      return g.generateKeyPair();
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("cannot make an EC P-256 key: " + e.getMessage(), e);
    }
  }

  static String csr(KeyPair kp) {
    return csr(kp, "basalt-device");
  }

  /** A PEM CSR signed by {@code kp}; the server names the device itself, so {@code commonName} is informative only. */
  public static String csr(KeyPair kp, String commonName) {
    try {
      var b = new JcaPKCS10CertificationRequestBuilder(new X500Principal("CN=" + commonName), kp.getPublic());
      return pem(b.build(new JcaContentSignerBuilder("SHA256withECDSA").build(kp.getPrivate())));
    } catch (Exception e) {
      throw new IllegalStateException("cannot make a CSR: " + e.getMessage(), e);
    }
  }

  /** PEM text of a BouncyCastle-writable object (CSR, certificate, PKCS#8 generator). */
  public static String pem(Object o) {
    StringWriter sw = new StringWriter();
    try (JcaPEMWriter w = new JcaPEMWriter(sw)) {
      w.writeObject(o);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return sw.toString();
  }

  static String keyPem(PrivateKey k) {
    try {
      return pem(new JcaPKCS8Generator(k, null));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  static PrivateKey readKey(String pem, Path from) throws IOException {
    try (PEMParser p = new PEMParser(new StringReader(pem))) {
      if (p.readObject() instanceof PrivateKeyInfo pki) return new JcaPEMKeyConverter().getPrivateKey(pki);
    }
    throw new IOException(from + " does not hold a PKCS#8 PEM private key");
  }

  static X509Certificate readCert(String pem, String what) throws IOException {
    try {
      return (X509Certificate) CertificateFactory.getInstance("X.509")
          .generateCertificate(new ByteArrayInputStream(pem.getBytes(StandardCharsets.US_ASCII)));
    } catch (GeneralSecurityException | ClassCastException e) {
      throw new IOException(what + " is not a PEM X.509 certificate: " + e.getMessage(), e);
    }
  }

  /** TLS trusting only the fleet CA, presenting {@code key}+{@code cert} when given. */
  static SSLContext tls(X509Certificate ca, PrivateKey key, X509Certificate cert) {
    try {
      KeyStore trust = KeyStore.getInstance("PKCS12");
      trust.load(null, null);
      trust.setCertificateEntry("fleet-ca", ca);
      TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
      tmf.init(trust);
      KeyManagerFactory kmf = null;
      if (key != null) {
        char[] pw = new char[0];
        KeyStore ks = KeyStore.getInstance("PKCS12");
        ks.load(null, null);
        ks.setKeyEntry("device", key, pw, new Certificate[] {cert, ca});
        kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        kmf.init(ks, pw);
      }
      SSLContext ctx = SSLContext.getInstance("TLS");
      ctx.init(kmf == null ? null : kmf.getKeyManagers(), tmf.getTrustManagers(), RANDOM);
      return ctx;
    } catch (GeneralSecurityException | IOException e) {
      throw new IllegalStateException("cannot set up TLS: " + e.getMessage(), e);
    }
  }

  /** Writes {@code text} to {@code file} through a temporary file and an atomic rename, mode 0600. */
  static void writeSecret(Path file, String text) throws IOException {
    Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
    Files.deleteIfExists(tmp);
    Files.createFile(tmp, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
    Files.writeString(tmp, text, StandardCharsets.UTF_8);
    Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
  }
}

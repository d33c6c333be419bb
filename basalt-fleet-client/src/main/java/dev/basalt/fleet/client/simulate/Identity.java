package dev.basalt.fleet.client.simulate;

import dev.basalt.fleet.client.DeviceIdentity;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.StringReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyStore;
import java.security.MessageDigest;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.HexFormat;
import java.util.Optional;
import javax.naming.ldap.LdapName;
import javax.naming.ldap.Rdn;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocketFactory;
import javax.net.ssl.TrustManagerFactory;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter;
import org.bouncycastle.openssl.jcajce.JcaPKCS8Generator;

/**
 * A simulated device's key and certificate, and the TLS it speaks. Cached as one PEM file per device (key, then
 * certificate) under a directory named after the fleet CA, so identities enrolled with another server are never reused.
 */
record Identity(String deviceId, PrivateKey key, X509Certificate certificate) {
  private static final SecureRandom RANDOM = new SecureRandom();

  static KeyPair newKeyPair() {
    return DeviceIdentity.newKeyPair();
  }

  static String csr(KeyPair kp) {
    return DeviceIdentity.csr(kp, "basalt-simulated-device");
  }

  static String pem(Object o) {
    return DeviceIdentity.pem(o);
  }

  static X509Certificate certificate(String pem, String what) throws IOException {
    try {
      return (X509Certificate) CertificateFactory.getInstance("X.509")
          .generateCertificate(new ByteArrayInputStream(pem.getBytes(StandardCharsets.US_ASCII)));
    } catch (GeneralSecurityException | ClassCastException e) {
      throw new IOException(what + " is not a PEM X.509 certificate: " + e.getMessage(), e);
    }
  }

  static String commonName(X509Certificate c) {
    try {
      for (Rdn r : new LdapName(c.getSubjectX500Principal().getName()).getRdns()) {
        if (r.getType().equalsIgnoreCase("CN")) return r.getValue().toString();
      }
    } catch (javax.naming.InvalidNameException e) {
      throw new IllegalArgumentException("certificate subject is not a DN: " + c.getSubjectX500Principal(), e);
    }
    throw new IllegalArgumentException("certificate has no CN: " + c.getSubjectX500Principal());
  }

  /** Short fingerprint of the CA: the cache subdirectory. */
  static String fingerprint(X509Certificate ca) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(ca.getEncoded()), 0, 8);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  /** TLS trusting only {@code ca}, presenting {@code key}+{@code cert} when given. */
  static SSLSocketFactory tls(X509Certificate ca, PrivateKey key, X509Certificate cert) {
    try {
      KeyStore trust = KeyStore.getInstance("PKCS12");
      trust.load(null, null);
      trust.setCertificateEntry("fleet-ca", ca);
      TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
      tmf.init(trust);
      // A key manager of our own: a PKCS12 key store would encrypt the key (PBKDF2, 10,000 rounds) on every context.
      javax.net.ssl.KeyManager[] kms = key == null ? null : new javax.net.ssl.KeyManager[] {new OneKey(key, new X509Certificate[] {cert, ca})};
      SSLContext ctx = SSLContext.getInstance("TLS");
      ctx.init(kms, tmf.getTrustManagers(), RANDOM);
      return ctx.getSocketFactory();
    } catch (GeneralSecurityException | IOException e) {
      throw new IllegalStateException("cannot set up TLS: " + e.getMessage(), e);
    }
  }

  /** The cached identity in {@code file}; empty when there is none. */
  static Optional<Identity> load(Path file) throws IOException {
    if (!Files.isRegularFile(file)) return Optional.empty();
    String text = Files.readString(file, StandardCharsets.US_ASCII);
    int c = text.indexOf("-----BEGIN CERTIFICATE-----");
    if (c < 0) throw new IOException(file + " holds no certificate; delete it to enroll that device again");
    PrivateKey key;
    try (PEMParser p = new PEMParser(new StringReader(text.substring(0, c)))) {
      if (!(p.readObject() instanceof PrivateKeyInfo pki)) throw new IOException(file + " does not start with a PKCS#8 private key");
      key = new JcaPEMKeyConverter().getPrivateKey(pki);
    }
    X509Certificate cert = certificate(text.substring(c), file.toString());
    return Optional.of(new Identity(commonName(cert), key, cert));
  }

  /** Writes this identity to {@code file} atomically. */
  void save(Path file) throws IOException {
    String text;
    try {
      text = pem(new JcaPKCS8Generator(key, null)) + pem(certificate);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
    Files.writeString(tmp, text, StandardCharsets.US_ASCII);
    Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
  }

  /** Presents one key and chain, whatever is asked. */
  private static final class OneKey extends javax.net.ssl.X509ExtendedKeyManager {
    private final PrivateKey key;
    private final X509Certificate[] chain;

    OneKey(PrivateKey key, X509Certificate[] chain) {
      this.key = key;
      this.chain = chain;
    }

    @Override
    public String[] getClientAliases(String keyType, java.security.Principal[] issuers) {
      return new String[] {"device"};
    }

    @Override
    public String chooseClientAlias(String[] keyType, java.security.Principal[] issuers, java.net.Socket socket) {
      return "device";
    }

    @Override
    public String chooseEngineClientAlias(String[] keyType, java.security.Principal[] issuers, javax.net.ssl.SSLEngine engine) {
      return "device";
    }

    @Override
    public String[] getServerAliases(String keyType, java.security.Principal[] issuers) {
      return null;
    }

    @Override
    public String chooseServerAlias(String keyType, java.security.Principal[] issuers, java.net.Socket socket) {
      return null;
    }

    @Override
    public X509Certificate[] getCertificateChain(String alias) {
      return chain.clone();
    }

    @Override
    public PrivateKey getPrivateKey(String alias) {
      return key;
    }
  }
}

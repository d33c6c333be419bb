package dev.basalt.fleet.server.identity;

import dev.basalt.fleet.server.store.Store.IssuedCertificate;
import java.math.BigInteger;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.MessageDigest;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.security.interfaces.ECPublicKey;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.HexFormat;
import java.util.List;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x500.X500NameBuilder;
import org.bouncycastle.asn1.x500.style.BCStyle;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509ExtensionUtils;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.ContentSigner;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.bouncycastle.operator.jcajce.JcaContentVerifierProviderBuilder;
import org.bouncycastle.pkcs.PKCS10CertificationRequest;
import org.bouncycastle.pkcs.jcajce.JcaPKCS10CertificationRequest;

/** The fleet CA (EC P-256): signs device certificates from CSRs and the device listener's server certificate. */
public final class CertificateAuthority {
  private static final SecureRandom RANDOM = new SecureRandom();

  private final X509Certificate certificate;
  private final PrivateKey key;

  private CertificateAuthority(X509Certificate certificate, PrivateKey key) {
    this.certificate = certificate;
    this.key = key;
  }

  /** A new self-signed CA valid for 20 years. */
  public static CertificateAuthority create(String name, Instant now) {
    try {
      KeyPair kp = ecKeyPair();
      X500Name subject = new X500NameBuilder(BCStyle.INSTANCE).addRDN(BCStyle.CN, name).addRDN(BCStyle.O, "Basalt fleet").build();
      JcaX509ExtensionUtils ext = new JcaX509ExtensionUtils();
      X509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(subject, serial(), Date.from(now.minus(Duration.ofHours(1))),
          Date.from(now.plus(Duration.ofDays(365L * 20))), subject, kp.getPublic())
          .addExtension(Extension.basicConstraints, true, new BasicConstraints(0))
          .addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign))
          .addExtension(Extension.subjectKeyIdentifier, false, ext.createSubjectKeyIdentifier(kp.getPublic()));
      return new CertificateAuthority(sign(b, kp.getPrivate()), kp.getPrivate());
    } catch (GeneralSecurityException | org.bouncycastle.cert.CertIOException e) {
      throw new IllegalStateException("cannot create the fleet CA: " + e.getMessage(), e);
    }
  }

  /** The CA stored as PEM. */
  public static CertificateAuthority load(String certPem, String keyPem) {
    return new CertificateAuthority(Pem.certificate(certPem, "stored CA certificate"), Pem.privateKey(keyPem, "stored CA key"));
  }

  public X509Certificate certificate() {
    return certificate;
  }

  public String certificatePem() {
    return Pem.write(certificate);
  }

  /** The private key as PKCS#8 PEM (for storing it). */
  public String privateKeyPem() {
    try {
      return Pem.write(new org.bouncycastle.openssl.jcajce.JcaPKCS8Generator(key, null));
    } catch (org.bouncycastle.util.io.pem.PemGenerationException e) {
      throw new IllegalStateException("cannot encode the CA key: " + e.getMessage(), e);
    }
  }

  static KeyPair ecKeyPair() throws GeneralSecurityException {
    KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
    g.initialize(new ECGenParameterSpec("secp256r1"), RANDOM);
    return g.generateKeyPair();
  }

  private static BigInteger serial() {
    return new BigInteger(127, RANDOM).setBit(126); // positive, always 16 bytes
  }

  private static X509Certificate sign(X509v3CertificateBuilder b, PrivateKey signer) {
    try {
      ContentSigner s = new JcaContentSignerBuilder("SHA256withECDSA").build(signer);
      return new JcaX509CertificateConverter().getCertificate(b.build(s));
    } catch (Exception e) {
      throw new IllegalStateException("cannot sign a certificate: " + e.getMessage(), e);
    }
  }

  /**
   * Verifies a device CSR (PEM, EC P-256, self-signature) and returns its public key.
   *
   * @throws IllegalArgumentException naming what is wrong with it
   */
  public static PublicKey checkCsr(String csrPem) {
    PKCS10CertificationRequest csr = Pem.csr(csrPem, "csr");
    try {
      JcaPKCS10CertificationRequest j = new JcaPKCS10CertificationRequest(csr);
      PublicKey pk = j.getPublicKey();
      if (!(pk instanceof ECPublicKey ec) || ec.getParams().getCurve().getField().getFieldSize() != 256) {
        throw new IllegalArgumentException("csr key must be EC P-256, got " + pk.getAlgorithm());
      }
      if (!csr.isSignatureValid(new JcaContentVerifierProviderBuilder().build(pk))) {
        throw new IllegalArgumentException("csr signature does not verify");
      }
      return pk;
    } catch (IllegalArgumentException e) {
      throw e;
    } catch (Exception e) {
      throw new IllegalArgumentException("csr cannot be verified: " + e.getMessage(), e);
    }
  }

  /** Issues a client certificate (CN = device id) for the key of {@code csrPem}. */
  public IssuedCertificate issueDevice(String deviceId, String csrPem, Instant now, Duration validity) {
    return issueDevice(deviceId, checkCsr(csrPem), now, validity);
  }

  /**
   * Issues a client certificate (CN = device id) for {@code pk}, a key {@link #checkCsr} returned (enrollment verifies
   * the CSR once: its signature check is the costliest step after the TLS handshake).
   */
  public IssuedCertificate issueDevice(String deviceId, PublicKey pk, Instant now, Duration validity) {
    try {
      X500Name subject = new X500NameBuilder(BCStyle.INSTANCE).addRDN(BCStyle.CN, deviceId).addRDN(BCStyle.O, "Basalt device").build();
      JcaX509ExtensionUtils ext = new JcaX509ExtensionUtils();
      X509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(certificate, serial(),
          Date.from(now.minus(Duration.ofMinutes(5))), Date.from(now.plus(validity)), subject, pk)
          .addExtension(Extension.basicConstraints, true, new BasicConstraints(false))
          .addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.digitalSignature))
          .addExtension(Extension.extendedKeyUsage, false, new ExtendedKeyUsage(KeyPurposeId.id_kp_clientAuth))
          .addExtension(Extension.authorityKeyIdentifier, false, ext.createAuthorityKeyIdentifier(certificate));
      X509Certificate c = sign(b, key);
      return new IssuedCertificate(Pem.write(c), serialHex(c), fingerprint(c), c.getNotAfter().toInstant());
    } catch (GeneralSecurityException | org.bouncycastle.cert.CertIOException e) {
      throw new IllegalStateException("cannot issue a device certificate: " + e.getMessage(), e);
    }
  }

  /** The certificate and key of the device listener, for {@code hosts} (DNS names or IP addresses). */
  public record ServerIdentity(X509Certificate certificate, PrivateKey key) {}

  public ServerIdentity issueServer(List<String> hosts, Instant now, Duration validity) {
    try {
      KeyPair kp = ecKeyPair();
      List<GeneralName> names = new ArrayList<>();
      for (String h : hosts) {
        names.add(isIp(h) ? new GeneralName(GeneralName.iPAddress, h) : new GeneralName(GeneralName.dNSName, h));
      }
      X500Name subject = new X500NameBuilder(BCStyle.INSTANCE).addRDN(BCStyle.CN, hosts.getFirst()).addRDN(BCStyle.O, "Basalt fleet").build();
      X509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(certificate, serial(),
          Date.from(now.minus(Duration.ofMinutes(5))), Date.from(now.plus(validity)), subject, kp.getPublic())
          .addExtension(Extension.basicConstraints, true, new BasicConstraints(false))
          .addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.digitalSignature))
          .addExtension(Extension.extendedKeyUsage, false, new ExtendedKeyUsage(KeyPurposeId.id_kp_serverAuth))
          .addExtension(Extension.subjectAlternativeName, false, new GeneralNames(names.toArray(GeneralName[]::new)));
      return new ServerIdentity(sign(b, key), kp.getPrivate());
    } catch (GeneralSecurityException | org.bouncycastle.cert.CertIOException e) {
      throw new IllegalStateException("cannot issue the server certificate: " + e.getMessage(), e);
    }
  }

  private static boolean isIp(String h) {
    if (!h.matches("[0-9.]+") && !h.contains(":")) return false;
    try {
      InetAddress.getByName(h);
      return true;
    } catch (UnknownHostException e) {
      return false;
    }
  }

  /** Lower-case hex of the serial (how the database and the audit log name a certificate). */
  public static String serialHex(X509Certificate c) {
    return c.getSerialNumber().toString(16);
  }

  /** SHA-256 of the DER certificate, lower-case hex. */
  public static String fingerprint(X509Certificate c) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(c.getEncoded()));
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }
}

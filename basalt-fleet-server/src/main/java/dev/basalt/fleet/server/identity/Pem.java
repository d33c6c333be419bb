package dev.basalt.fleet.server.identity;

import java.io.IOException;
import java.io.StringReader;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.security.PrivateKey;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.openssl.PEMKeyPair;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.pkcs.PKCS10CertificationRequest;

/** PEM in and out (certificates, PKCS#8 keys, CSRs). */
public final class Pem {
  private Pem() {}

  public static String write(Object o) {
    StringWriter sw = new StringWriter();
    try (JcaPEMWriter w = new JcaPEMWriter(sw)) {
      w.writeObject(o);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return sw.toString();
  }

  private static Object read(String pem, String what) {
    if (pem == null || pem.isBlank()) throw new IllegalArgumentException(what + " is missing");
    try (PEMParser p = new PEMParser(new StringReader(pem))) {
      Object o = p.readObject();
      if (o == null) throw new IllegalArgumentException(what + " is not PEM (no -----BEGIN line)");
      return o;
    } catch (IOException | RuntimeException e) {
      if (e instanceof IllegalArgumentException iae) throw iae;
      throw new IllegalArgumentException(what + " is not valid PEM: " + e.getMessage(), e);
    }
  }

  public static X509Certificate certificate(String pem, String what) {
    if (!(read(pem, what) instanceof X509CertificateHolder h)) throw new IllegalArgumentException(what + " is not a PEM certificate");
    try {
      return new JcaX509CertificateConverter().getCertificate(h);
    } catch (CertificateException e) {
      throw new IllegalArgumentException(what + ": " + e.getMessage(), e);
    }
  }

  public static PrivateKey privateKey(String pem, String what) {
    Object o = read(pem, what);
    try {
      if (o instanceof PrivateKeyInfo pki) return new JcaPEMKeyConverter().getPrivateKey(pki);
      if (o instanceof PEMKeyPair kp) return new JcaPEMKeyConverter().getKeyPair(kp).getPrivate();
    } catch (IOException e) {
      throw new IllegalArgumentException(what + ": " + e.getMessage(), e);
    }
    throw new IllegalArgumentException(what + " is not a PEM private key");
  }

  public static PKCS10CertificationRequest csr(String pem, String what) {
    if (!(read(pem, what) instanceof PKCS10CertificationRequest r)) {
      throw new IllegalArgumentException(what + " is not a PEM certificate request (-----BEGIN CERTIFICATE REQUEST-----)");
    }
    return r;
  }
}

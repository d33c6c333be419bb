package dev.basalt.fleet.server.identity;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.basalt.testkit.Tools;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The CA's certificates as the real {@code openssl} sees them. */
class CertificateAuthorityTest {
  @TempDir Path dir;

  @Test
  void deviceAndServerCertificatesVerifyWithOpenssl() throws Exception {
    Path openssl = Tools.require("openssl");
    Instant now = Instant.now();
    CertificateAuthority ca = CertificateAuthority.create("Test CA", now);
    CertificateAuthority reloaded = CertificateAuthority.load(ca.certificatePem(), ca.privateKeyPem());
    Files.writeString(dir.resolve("ca.pem"), reloaded.certificatePem());

    // a CSR made by openssl itself
    Tools.check(openssl.toString(), "ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", dir.resolve("k.pem").toString());
    Tools.check(openssl.toString(), "req", "-new", "-key", dir.resolve("k.pem").toString(), "-subj", "/CN=ignored",
        "-out", dir.resolve("req.pem").toString());
    var cert = reloaded.issueDevice("d-123", Files.readString(dir.resolve("req.pem")), now, Duration.ofDays(30));
    Files.writeString(dir.resolve("dev.pem"), cert.pem());
    String verify = Tools.check(openssl.toString(), "verify", "-purpose", "sslclient", "-CAfile", dir.resolve("ca.pem").toString(),
        dir.resolve("dev.pem").toString());
    assertThat(verify).contains("OK");
    String text = Tools.check(openssl.toString(), "x509", "-in", dir.resolve("dev.pem").toString(), "-noout", "-text");
    assertThat(text).contains("Subject: CN = d-123").contains("TLS Web Client Authentication").contains("prime256v1");
    assertThat(cert.serial()).isEqualTo(CertificateAuthority.serialHex(Pem.certificate(cert.pem(), "c")));
    assertThat(cert.expires()).isBetween(now.plus(Duration.ofDays(30)).minusSeconds(1), now.plus(Duration.ofDays(30)).plusSeconds(1));

    var server = reloaded.issueServer(List.of("fleet.example", "127.0.0.1"), now, Duration.ofDays(1));
    Files.writeString(dir.resolve("srv.pem"), Pem.write(server.certificate()));
    assertThat(Tools.check(openssl.toString(), "verify", "-purpose", "sslserver", "-CAfile", dir.resolve("ca.pem").toString(),
        dir.resolve("srv.pem").toString())).contains("OK");
    assertThat(Tools.check(openssl.toString(), "x509", "-in", dir.resolve("srv.pem").toString(), "-noout", "-ext", "subjectAltName"))
        .contains("DNS:fleet.example").contains("IP Address:127.0.0.1");
  }

  @Test
  void csrsAreCheckedBeforeSigning() throws Exception {
    assertThatThrownBy(() -> CertificateAuthority.checkCsr("hello")).hasMessageContaining("csr is not PEM");
    assertThatThrownBy(() -> CertificateAuthority.checkCsr(null)).hasMessageContaining("csr is missing");
    KeyPairGenerator rsa = KeyPairGenerator.getInstance("RSA");
    rsa.initialize(2048);
    KeyPair kp = rsa.generateKeyPair();
    var b = new org.bouncycastle.pkcs.jcajce.JcaPKCS10CertificationRequestBuilder(new javax.security.auth.x500.X500Principal("CN=x"), kp.getPublic());
    String csr = Pem.write(b.build(new org.bouncycastle.operator.jcajce.JcaContentSignerBuilder("SHA256withRSA").build(kp.getPrivate())));
    assertThatThrownBy(() -> CertificateAuthority.checkCsr(csr)).hasMessageContaining("EC P-256");
    KeyPairGenerator ec = KeyPairGenerator.getInstance("EC");
    ec.initialize(new ECGenParameterSpec("secp384r1"));
    KeyPair p384 = ec.generateKeyPair();
    var b2 = new org.bouncycastle.pkcs.jcajce.JcaPKCS10CertificationRequestBuilder(new javax.security.auth.x500.X500Principal("CN=x"), p384.getPublic());
    String csr384 = Pem.write(b2.build(new org.bouncycastle.operator.jcajce.JcaContentSignerBuilder("SHA256withECDSA").build(p384.getPrivate())));
    assertThatThrownBy(() -> CertificateAuthority.checkCsr(csr384)).hasMessageContaining("EC P-256");
  }
}

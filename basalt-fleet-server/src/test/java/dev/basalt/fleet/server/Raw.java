package dev.basalt.fleet.server;

import dev.basalt.fleet.server.identity.Pem;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.time.Duration;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

/** Raw HTTP for the tests that must send what the typed clients never send. */
final class Raw {
  private Raw() {}

  static HttpClient plain() {
    return HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
  }

  /** A client presenting the key and certificate of a device state dir (or none when {@code stateDir} is null). */
  static HttpClient mtls(String caPem, Path stateDir) throws Exception {
    X509Certificate ca = Pem.certificate(caPem, "ca");
    PrivateKey key = stateDir == null ? null : Pem.privateKey(Files.readString(stateDir.resolve("device.key")), "key");
    X509Certificate cert = stateDir == null ? null : Pem.certificate(Files.readString(stateDir.resolve("device.crt")), "crt");
    return tls(ca, key, cert);
  }

  static HttpClient tls(X509Certificate ca, PrivateKey key, X509Certificate cert) throws Exception {
    KeyStore trust = KeyStore.getInstance("PKCS12");
    trust.load(null, null);
    trust.setCertificateEntry("ca", ca);
    TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
    tmf.init(trust);
    KeyManagerFactory kmf = null;
    if (key != null) {
      KeyStore ks = KeyStore.getInstance("PKCS12");
      ks.load(null, null);
      ks.setKeyEntry("k", key, new char[0], new Certificate[] {cert});
      kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
      kmf.init(ks, new char[0]);
    }
    SSLContext ctx = SSLContext.getInstance("TLS");
    ctx.init(kmf == null ? null : kmf.getKeyManagers(), tmf.getTrustManagers(), null);
    return HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).sslContext(ctx).build();
  }

  static HttpResponse<String> send(HttpClient c, String method, URI uri, String token, String body) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(30))
        .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
    if (body != null) b.header("Content-Type", "application/json");
    if (token != null) b.header("Authorization", "Bearer " + token);
    return c.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }
}

package dev.basalt.fleet.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.ServerSocket;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What the device client does without a server (the end-to-end paths are in basalt-fleet-server's tests). */
class DeviceClientTest {
  @TempDir Path dir;

  static String selfSignedCa() throws Exception {
    var kp = DeviceIdentity.newKeyPair();
    X500Name n = new X500Name("CN=test");
    var b = new JcaX509v3CertificateBuilder(n, java.math.BigInteger.ONE, Date.from(Instant.now()), Date.from(Instant.now().plusSeconds(3600)), n, kp.getPublic());
    return DeviceIdentity.pem(b.build(new JcaContentSignerBuilder("SHA256withECDSA").build(kp.getPrivate())));
  }

  @Test
  void builderNamesWhatIsWrong() throws Exception {
    assertThatThrownBy(() -> DeviceClient.builder().server(URI.create("http://x"))).hasMessageContaining("https://");
    assertThatThrownBy(() -> DeviceClient.builder().enrollmentToken("bst_x")).hasMessageContaining("bet_");
    assertThatThrownBy(() -> DeviceClient.builder().caCertificate("nope")).hasMessageContaining("PEM certificate");
    assertThatThrownBy(() -> DeviceClient.builder().server(URI.create("https://x")).stateDir(dir).build())
        .hasMessageContaining("fleet CA certificate is needed");
    assertThatThrownBy(() -> DeviceClient.builder().retry(Duration.ofSeconds(2), Duration.ofSeconds(1))).hasMessageContaining("initial <= max");
  }

  @Test
  void enrollmentRetriesAnUnreachableServerUntilTheTimeout() throws Exception {
    int port;
    try (ServerSocket s = new ServerSocket(0)) {
      port = s.getLocalPort();
    }
    DeviceClient c = DeviceClient.builder().server(URI.create("https://127.0.0.1:" + port)).stateDir(dir.resolve("s"))
        .caCertificate(selfSignedCa()).enrollmentToken("bet_x").retry(Duration.ofMillis(20), Duration.ofMillis(100)).build();
    long t0 = System.nanoTime();
    assertThatThrownBy(() -> c.enroll(Duration.ofMillis(800))).isInstanceOf(FleetClientException.class).hasMessage("enrollment timed out");
    assertThat(Duration.ofNanos(System.nanoTime() - t0)).isBetween(Duration.ofMillis(700), Duration.ofSeconds(5));
    assertThat(c.isEnrolled()).isFalse();
    assertThat(c.deviceId()).isEmpty();
    assertThat(Files.exists(dir.resolve("s/device.key"))).as("no key kept for a request that never reached the server").isFalse();
    assertThat(Files.getPosixFilePermissions(dir.resolve("s/ca.crt")).toString()).isEqualTo("[OWNER_READ, OWNER_WRITE]");
    assertThatThrownBy(() -> c.pollDesired(null, Duration.ZERO)).isInstanceOf(IllegalStateException.class).hasMessageContaining("not enrolled");
  }

  @Test
  void backoffGrowsToItsCapWithJitter() {
    var b = new DeviceClient.Backoff(Duration.ofMillis(100), Duration.ofMillis(1000));
    long[] waits = new long[8];
    for (int i = 0; i < waits.length; i++) waits[i] = b.next();
    assertThat(waits[0]).isBetween(50L, 100L);
    assertThat(waits[1]).isBetween(100L, 200L);
    for (int i = 4; i < waits.length; i++) assertThat(waits[i]).isBetween(500L, 1000L);
    b.reset();
    assertThat(b.next()).isBetween(50L, 100L);
  }
}

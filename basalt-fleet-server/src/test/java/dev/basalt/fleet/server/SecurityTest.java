package dev.basalt.fleet.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.basalt.api.ApiJson;
import dev.basalt.api.fleet.AdminTokenRequest;
import dev.basalt.api.fleet.DesiredState;
import dev.basalt.api.fleet.DeviceInfo;
import dev.basalt.api.fleet.FleetSpec;
import dev.basalt.fleet.client.DeviceClient;
import dev.basalt.fleet.server.identity.CertificateAuthority;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.Parameter;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.EnumSource;

/** The security must-holds of the fleet server, over real HTTP/TLS on SQLite and PostgreSQL. */
@ParameterizedClass
@EnumSource(TestFleet.Db.class)
class SecurityTest {
  static final String D1 = "sha256:" + "1a".repeat(32);

  @Parameter TestFleet.Db db;
  @TempDir Path dir;
  TestFleet fleet;

  @BeforeEach
  void start() {
    fleet = new TestFleet(db, dir, b -> b.enrollmentFailureLimit(3, Duration.ofMinutes(1)).maxBodyBytes(64 * 1024));
  }

  @AfterEach
  void stop() {
    fleet.close();
  }

  URI dev(String path) {
    return URI.create("https://localhost:" + fleet.server.devicePort() + path);
  }

  @Test
  void aDeviceCertificateCannotReadOrChangeAnotherDevice() throws Exception {
    DeviceClient a = fleet.activeDevice("a", Map.of("site", "a"));
    DeviceClient b = fleet.activeDevice("b", Map.of("site", "b"));
    String idA = a.deviceId().orElseThrow();
    String idB = b.deviceId().orElseThrow();
    fleet.admin.createFleet(new FleetSpec("fb", "site=b", "r.example/os@" + D1, null, null));
    DesiredState ofB = b.awaitDesired(null);
    while (ofB.digest() == null) ofB = b.awaitDesired(ofB.etag());
    HttpClient asA = Raw.mtls(fleet.server.caCertificatePem(), dir.resolve("dev-a"));

    // URL spoofing: query and path naming B still answer A's own state (or nothing)
    HttpResponse<String> r = Raw.send(asA, "GET", dev("/device/v1/desired?deviceId=" + idB + "&id=" + idB), null, null);
    assertThat(r.statusCode()).isEqualTo(200);
    DesiredState seen = ApiJson.read(r.body(), DesiredState.class, "desired");
    assertThat(seen.digest()).as("A is in no fleet; B's target must not leak").isNull();
    assertThat(Raw.send(asA, "GET", dev("/device/v1/devices/" + idB + "/desired"), null, null).statusCode()).isEqualTo(404);
    // enrollment lookup of B shows only public material (B's certificate), never a way to act as B
    String status = "{\"node\":{\"booted\":null,\"staged\":null,\"rollback\":null,\"failedDigests\":[],\"updatePhase\":\"failed\","
        + "\"lastError\":\"spoofed\"},\"bytesDownloaded\":1";
    // body spoofing: a device id in the body is refused, and B is untouched
    r = Raw.send(asA, "POST", dev("/device/v1/status"), null, status + ",\"deviceId\":\"" + idB + "\"}");
    assertThat(r.statusCode()).isEqualTo(400);
    assertThat(r.body()).contains("deviceId");
    assertThat(fleet.admin.device(idB).lastError()).isNull();
    // a valid report only ever lands on the certificate's device
    r = Raw.send(asA, "POST", dev("/device/v1/status"), null, status + "}");
    assertThat(r.statusCode()).isEqualTo(204);
    assertThat(fleet.admin.device(idA).lastError()).isEqualTo("spoofed");
    assertThat(fleet.admin.device(idB).lastError()).isNull();

    // no certificate: refused
    HttpClient anon = Raw.mtls(fleet.server.caCertificatePem(), null);
    r = Raw.send(anon, "GET", dev("/device/v1/desired"), null, null);
    assertThat(r.statusCode()).isEqualTo(401);
    assertThat(r.body()).contains("client certificate");
    // a certificate from another CA with B's id as CN: the handshake or the request fails
    CertificateAuthority other = CertificateAuthority.create("evil", Instant.now());
    KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
    g.initialize(new ECGenParameterSpec("secp256r1"));
    KeyPair kp = g.generateKeyPair();
    var forged = other.issueDevice(idB, csr(kp), Instant.now(), Duration.ofDays(1));
    HttpClient evil = Raw.tls(dev.basalt.fleet.server.identity.Pem.certificate(fleet.server.caCertificatePem(), "ca"), kp.getPrivate(),
        dev.basalt.fleet.server.identity.Pem.certificate(forged.pem(), "forged"));
    int code;
    try {
      code = Raw.send(evil, "GET", dev("/device/v1/desired"), null, null).statusCode();
    } catch (java.io.IOException e) {
      code = -1; // handshake refused
    }
    assertThat(code).isNotIn(200, 204, 304);
    assertThat(code == -1 || code == 401 || code == 403).as("refused, got %d", code).isTrue();
    // the device API is not on the admin listener and the admin API is not on the device listener
    assertThat(Raw.send(Raw.plain(), "GET", fleet.httpUri("/device/v1/desired"), null, null).statusCode()).isEqualTo(404);
    assertThat(Raw.send(asA, "GET", dev("/api/v1/devices"), fleet.adminToken, null).statusCode()).isEqualTo(404);
  }

  static String csr(KeyPair kp) throws Exception {
    var b = new org.bouncycastle.pkcs.jcajce.JcaPKCS10CertificationRequestBuilder(
        new javax.security.auth.x500.X500Principal("CN=x"), kp.getPublic());
    return dev.basalt.fleet.server.identity.Pem.write(b.build(new org.bouncycastle.operator.jcajce.JcaContentSignerBuilder("SHA256withECDSA").build(kp.getPrivate())));
  }

  @Test
  void adminApiNeedsAValidTokenWithTheRightScope() throws Exception {
    HttpClient c = Raw.plain();
    HttpResponse<String> r = Raw.send(c, "GET", fleet.httpUri("/api/v1/devices"), null, null);
    assertThat(r.statusCode()).isEqualTo(401);
    assertThat(r.headers().firstValue("WWW-Authenticate")).hasValue("Bearer");
    assertThat(Raw.send(c, "GET", fleet.httpUri("/api/v1/devices"), "bst_wrong", null).statusCode()).isEqualTo(401);
    var reader = fleet.admin.createAdminToken(new AdminTokenRequest("ui", Set.of("fleet:read"), null));
    assertThat(Raw.send(c, "GET", fleet.httpUri("/api/v1/devices"), reader.token(), null).statusCode()).isEqualTo(200);
    r = Raw.send(c, "POST", fleet.httpUri("/api/v1/fleets"), reader.token(), "{\"name\":\"x\"}");
    assertThat(r.statusCode()).isEqualTo(403);
    assertThat(r.body()).contains("fleet:write");
    assertThat(Raw.send(c, "GET", fleet.httpUri("/api/v1/audit"), reader.token(), null).statusCode()).isEqualTo(403);
    fleet.admin.revokeAdminToken(reader.id());
    assertThat(Raw.send(c, "GET", fleet.httpUri("/api/v1/devices"), reader.token(), null).statusCode()).isEqualTo(401);
    var expired = fleet.admin.createAdminToken(new AdminTokenRequest("old", Set.of("admin"), Instant.now().minusSeconds(1)));
    assertThat(Raw.send(c, "GET", fleet.httpUri("/api/v1/devices"), expired.token(), null).statusCode()).isEqualTo(401);
  }

  @Test
  void unknownRoutesAre404NotServerErrors() throws Exception {
    HttpClient c = Raw.plain();
    for (String path : new String[] {"/nonexistent", "/api/v1/nonexistent", "/api/v2/devices"}) {
      HttpResponse<String> r = Raw.send(c, "GET", fleet.httpUri(path), fleet.adminToken, null);
      assertThat(r.statusCode()).as(path).isEqualTo(404);
      assertThat(Raw.send(c, "GET", fleet.httpUri(path), null, null).statusCode()).as(path + " without a token").isIn(401, 404);
      assertThat(Raw.send(c, "POST", fleet.httpUri(path), null, "{}").statusCode()).as("POST " + path).isIn(401, 404);
    }
    HttpClient device = Raw.mtls(fleet.server.caCertificatePem(), null);
    assertThat(Raw.send(device, "GET", fleet.deviceUri().resolve("/device/v1/nonexistent"), null, null).statusCode()).isEqualTo(404);
  }

  @Test
  void badJsonIsA400NamingTheProblem() throws Exception {
    HttpClient c = Raw.plain();
    HttpResponse<String> r = Raw.send(c, "POST", fleet.httpUri("/api/v1/fleets"), fleet.adminToken, "{\"name\": \"x\",\n \"selector\": ");
    assertThat(r.statusCode()).isEqualTo(400);
    assertThat(r.body()).contains("malformed FleetSpec JSON").contains("line 2");
    r = Raw.send(c, "POST", fleet.httpUri("/api/v1/fleets"), fleet.adminToken, "{\"name\":\"x\",\"selektor\":\"a=b\"}");
    assertThat(r.statusCode()).isEqualTo(400);
    assertThat(r.body()).contains("selektor");
    r = Raw.send(c, "POST", fleet.httpUri("/api/v1/fleets"), fleet.adminToken, "{\"name\":\"x\",\"selector\":\"a in b\"}");
    assertThat(r.statusCode()).isEqualTo(400);
    assertThat(r.body()).contains("label selector 'a in b'").contains("parentheses");
    r = Raw.send(c, "POST", fleet.httpUri("/api/v1/fleets"), fleet.adminToken, "{\"name\":\"x\",\"targetRef\":\"r/os@sha256:12\"}");
    assertThat(r.statusCode()).isEqualTo(400);
    assertThat(r.body()).contains("targetRef digest");
    r = Raw.send(c, "POST", fleet.httpUri("/api/v1/fleets"), fleet.adminToken, "");
    assertThat(r.statusCode()).isEqualTo(400);
    assertThat(r.body()).contains("empty");
    assertThat(fleet.admin.fleets()).isEmpty();
  }

  @Test
  void oversizedBodiesAre413() throws Exception {
    String big = "{\"name\":\"x\",\"selector\":\"" + "a".repeat(100_000) + "\"}";
    HttpResponse<String> r = Raw.send(Raw.plain(), "POST", fleet.httpUri("/api/v1/fleets"), fleet.adminToken, big);
    assertThat(r.statusCode()).isEqualTo(413);
    assertThat(r.body()).contains("limit of 65536 bytes");
    DeviceClient a = fleet.activeDevice("a", Map.of());
    r = Raw.send(Raw.mtls(fleet.server.caCertificatePem(), dir.resolve("dev-a")), "POST", dev("/device/v1/status"), null, big);
    assertThat(r.statusCode()).isEqualTo(413);
    assertThat(a.isEnrolled()).isTrue();
    assertThat(fleet.admin.fleets()).isEmpty();
  }

  @Test
  void enrollmentTokenGuessingIsRateLimitedPerSource() throws Exception {
    var good = fleet.token(Map.of(), null);
    HttpClient anon = Raw.mtls(fleet.server.caCertificatePem(), null);
    KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
    g.initialize(new ECGenParameterSpec("secp256r1"));
    String csr = csr(g.generateKeyPair());
    String body = ApiJson.write(new dev.basalt.api.fleet.EnrollRequest("bet_guess", csr, "g", Map.of()));
    for (int i = 0; i < 3; i++) {
      HttpResponse<String> r = Raw.send(anon, "POST", dev("/device/v1/enroll"), null, body);
      assertThat(r.statusCode()).as("bad try %d", i + 1).isEqualTo(401);
      assertThat(r.body()).contains("enrollment token is not valid");
    }
    HttpResponse<String> r = Raw.send(anon, "POST", dev("/device/v1/enroll"), null, body);
    assertThat(r.statusCode()).isEqualTo(429);
    assertThat(r.headers().firstValue("Retry-After")).isPresent();
    String goodBody = ApiJson.write(new dev.basalt.api.fleet.EnrollRequest(good.token(), csr, "g", Map.of()));
    assertThat(Raw.send(anon, "POST", dev("/device/v1/enroll"), null, goodBody).statusCode())
        .as("the source stays blocked, even with a valid token").isEqualTo(429);
    assertThat(fleet.admin.devices(null, null, null)).extracting(DeviceInfo::name).doesNotContain("g");
  }

  @Test
  void badCsrIsRefusedWithoutCreatingADevice() throws Exception {
    var good = fleet.token(Map.of(), null);
    HttpClient anon = Raw.mtls(fleet.server.caCertificatePem(), null);
    String body = ApiJson.write(new dev.basalt.api.fleet.EnrollRequest(good.token(), "-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n", "g", Map.of()));
    HttpResponse<String> r = Raw.send(anon, "POST", dev("/device/v1/enroll"), null, body);
    assertThat(r.statusCode()).isEqualTo(400);
    assertThat(r.body()).contains("csr");
    assertThat(fleet.admin.devices(null, null, null)).isEmpty();
  }
}

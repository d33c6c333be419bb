package dev.basalt.fleet.client;

import dev.basalt.api.fleet.DesiredState;
import dev.basalt.api.fleet.DeviceState;
import dev.basalt.api.fleet.EnrollRequest;
import dev.basalt.api.fleet.EnrollResponse;
import dev.basalt.api.fleet.RenewRequest;
import dev.basalt.api.fleet.StatusReport;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.KeyPair;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ThreadLocalRandom;

/**
 * The device side of the fleet protocol over java.net.http: enrollment (EC P-256 key, CSR, wait for approval), then
 * mTLS calls with the issued certificate: long-poll of the desired state (ETag, jitter, exponential backoff on errors),
 * status reports and certificate renewal.
 *
 * <p>State directory (mode 0700, files 0600): {@code device.key} (PKCS#8 PEM), {@code device.crt}, {@code ca.crt},
 * {@code device.id}. A client built on a directory that already holds a certificate is enrolled at once.
 *
 * <pre>{@code
 * DeviceClient c = DeviceClient.builder().server(URI.create("https://fleet:8443")).stateDir(dir)
 *     .caCertificate(caPem).enrollmentToken(token).name("kiosk-7").build();
 * c.enroll(Duration.ofHours(1));
 * DesiredState d = c.awaitDesired(null);
 * c.report(new StatusReport(nodeStatus, 0));
 * }</pre>
 */
public final class DeviceClient {
  private final URI server;
  private final Path dir;
  private final X509Certificate ca;
  private final String enrollmentToken;
  private final String name;
  private final Map<String, String> labels;
  private final Duration retryInitial;
  private final Duration retryMax;
  private final Duration pollJitter;
  private final Duration pollWait;
  private final Clock clock;
  private volatile HttpClient http;
  private volatile X509Certificate certificate;
  private volatile String deviceId;

  private DeviceClient(Builder b) throws IOException {
    this.server = b.server;
    this.dir = b.stateDir;
    this.enrollmentToken = b.enrollmentToken;
    this.name = b.name;
    this.labels = b.labels;
    this.retryInitial = b.retryInitial;
    this.retryMax = b.retryMax;
    this.pollJitter = b.pollJitter;
    this.pollWait = b.pollWait;
    this.clock = b.clock;
    Files.createDirectories(dir);
    Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwx------"));
    Path caFile = dir.resolve("ca.crt");
    if (b.caPem != null) {
      this.ca = DeviceIdentity.readCert(b.caPem, "fleet CA certificate");
      DeviceIdentity.writeSecret(caFile, b.caPem);
    } else if (Files.exists(caFile)) {
      this.ca = DeviceIdentity.readCert(Files.readString(caFile), caFile.toString());
    } else {
      throw new IllegalArgumentException("the fleet CA certificate is needed (caCertificate) to trust the server; "
          + caFile + " does not exist either");
    }
    Path idFile = dir.resolve("device.id");
    if (Files.exists(idFile)) deviceId = Files.readString(idFile).strip();
    loadIdentity();
  }

  public static Builder builder() {
    return new Builder();
  }

  private Path file(String n) {
    return dir.resolve(n);
  }

  private void loadIdentity() throws IOException {
    Path crt = file("device.crt");
    Path key = file("device.key");
    if (Files.exists(crt) && Files.exists(key)) {
      certificate = DeviceIdentity.readCert(Files.readString(crt), crt.toString());
      PrivateKey k = DeviceIdentity.readKey(Files.readString(key), key);
      http = client(DeviceIdentity.tls(ca, k, certificate));
    } else {
      certificate = null;
      http = client(DeviceIdentity.tls(ca, null, null));
    }
  }

  private static HttpClient client(javax.net.ssl.SSLContext tls) {
    return HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).sslContext(tls)
        .connectTimeout(Duration.ofSeconds(10)).build();
  }

  /** The server-given device id; empty before the first enrollment request. */
  public Optional<String> deviceId() {
    return Optional.ofNullable(deviceId);
  }

  /** Whether a certificate is held (enrollment finished). */
  public boolean isEnrolled() {
    return certificate != null;
  }

  /** The current certificate; empty before enrollment. */
  public Optional<X509Certificate> certificate() {
    return Optional.ofNullable(certificate);
  }

  /**
   * Enrolls (once) and waits until approved, retrying with exponential backoff and jitter on errors and following the
   * server's retry-after while pending. Returns the device id.
   *
   * @throws FleetClientException when the token is refused, the device was rejected (revoked, decommissioned) or
   *     {@code timeout} passed
   */
  public String enroll(Duration timeout) throws IOException, InterruptedException {
    if (isEnrolled()) return deviceId;
    Instant deadline = clock.instant().plus(timeout);
    Backoff backoff = new Backoff(retryInitial, retryMax);
    while (true) {
      long pause;
      try {
        EnrollResponse r = deviceId == null ? requestEnrollment() : enrollmentState();
        if (r.state() == DeviceState.ACTIVE) {
          accept(r);
          return deviceId;
        }
        if (r.state() != DeviceState.PENDING) throw new FleetClientException(403, "enrollment of " + deviceId + " ended " + r.state().wireName());
        backoff.reset();
        pause = Duration.ofSeconds(Math.max(1, r.retryAfterSeconds())).toMillis();
      } catch (FleetClientException e) {
        // 4xx is final except rate limiting; 5xx and network errors are retried
        if (e.status() >= 400 && e.status() < 500 && e.status() != 429) throw e;
        pause = backoff.next();
      }
      long left = Duration.between(clock.instant(), deadline).toMillis();
      if (left <= 0) {
        throw new FleetClientException(0, deviceId == null ? "enrollment timed out" : "device " + deviceId + " is still pending approval");
      }
      Thread.sleep(Math.min(left, pause));
    }
  }

  private EnrollResponse requestEnrollment() throws IOException {
    if (enrollmentToken == null) throw new IllegalStateException("no enrollment token configured");
    KeyPair kp = DeviceIdentity.newKeyPair();
    String csr = DeviceIdentity.csr(kp);
    HttpResponse<byte[]> res = Http.send(http, Http.request(server, "/device/v1/enroll", Duration.ofSeconds(30))
        .header("Content-Type", "application/json").POST(Http.json(new EnrollRequest(enrollmentToken, csr, name, labels))).build());
    EnrollResponse r = Http.expect(res, EnrollResponse.class);
    // Keep the key before anything else: the certificate will be for it.
    DeviceIdentity.writeSecret(file("device.key"), DeviceIdentity.keyPem(kp.getPrivate()));
    DeviceIdentity.writeSecret(file("device.id"), r.deviceId() + "\n");
    deviceId = r.deviceId();
    return r;
  }

  private EnrollResponse enrollmentState() throws IOException {
    HttpResponse<byte[]> res = Http.send(http, Http.request(server, "/device/v1/enroll/" + deviceId, Duration.ofSeconds(30)).GET().build());
    return Http.expect(res, EnrollResponse.class);
  }

  private void accept(EnrollResponse r) throws IOException {
    if (r.certificate() == null) throw new FleetClientException(0, "server approved " + r.deviceId() + " without a certificate");
    DeviceIdentity.readCert(r.certificate(), "issued certificate");
    DeviceIdentity.writeSecret(file("device.crt"), r.certificate());
    loadIdentity();
  }

  private HttpClient mtls() {
    if (certificate == null) throw new IllegalStateException("device is not enrolled (no certificate in " + dir + ")");
    return http;
  }

  /**
   * One poll of the desired state: with {@code etag} (the last one seen) the server holds the request up to
   * {@code wait} and answers empty (304) when nothing changed.
   */
  public Optional<DesiredState> pollDesired(String etag, Duration wait) throws FleetClientException {
    HttpRequest.Builder rb = Http.request(server, "/device/v1/desired?wait=" + wait.toSeconds(), wait.plusSeconds(15)).GET();
    if (etag != null) rb.header("If-None-Match", etag);
    HttpResponse<byte[]> res = Http.send(mtls(), rb.build());
    if (res.statusCode() == 304) return Optional.empty();
    return Optional.of(Http.expect(res, DesiredState.class));
  }

  /**
   * Long-polls until the desired state differs from {@code etag} (null: returns the current one), retrying errors with
   * exponential backoff and full jitter, and spacing polls by a random share of the poll jitter.
   *
   * @throws FleetClientException 401/403 (the certificate was revoked or replaced): retrying cannot help
   */
  public DesiredState awaitDesired(String etag) throws FleetClientException, InterruptedException {
    Backoff backoff = new Backoff(retryInitial, retryMax);
    while (true) {
      try {
        Optional<DesiredState> d = pollDesired(etag, pollWait);
        backoff.reset();
        if (d.isPresent()) return d.get();
        if (!pollJitter.isZero()) Thread.sleep(ThreadLocalRandom.current().nextLong(pollJitter.toMillis() + 1));
      } catch (FleetClientException e) {
        if (e.status() == 401 || e.status() == 403) throw e;
        Thread.sleep(backoff.next());
      }
    }
  }

  /** Sends a status report. */
  public void report(StatusReport report) throws FleetClientException {
    Objects.requireNonNull(report, "report");
    HttpResponse<byte[]> res = Http.send(mtls(), Http.request(server, "/device/v1/status", Duration.ofSeconds(30))
        .header("Content-Type", "application/json").POST(Http.json(report)).build());
    Http.check(res);
  }

  /** Whether the certificate has less than a third of its lifetime left. */
  public boolean renewalDue() {
    X509Certificate c = certificate;
    if (c == null) return false;
    long from = c.getNotBefore().getTime();
    long to = c.getNotAfter().getTime();
    return clock.millis() > to - (to - from) / 3;
  }

  /**
   * Renews the certificate over mTLS with a new key; the new key and certificate replace the old ones on disk and in
   * use (the old certificate stops working on the server at once).
   */
  public void renew() throws IOException {
    KeyPair kp = DeviceIdentity.newKeyPair();
    HttpResponse<byte[]> res = Http.send(mtls(), Http.request(server, "/device/v1/renew", Duration.ofSeconds(30))
        .header("Content-Type", "application/json").POST(Http.json(new RenewRequest(DeviceIdentity.csr(kp)))).build());
    EnrollResponse r = Http.expect(res, EnrollResponse.class);
    DeviceIdentity.readCert(r.certificate(), "renewed certificate");
    DeviceIdentity.writeSecret(file("device.key"), DeviceIdentity.keyPem(kp.getPrivate()));
    DeviceIdentity.writeSecret(file("device.crt"), r.certificate());
    loadIdentity();
  }

  /** Renews when {@link #renewalDue()}; returns whether it did. */
  public boolean renewIfDue() throws IOException {
    if (!renewalDue()) return false;
    renew();
    return true;
  }

  /** Exponential backoff with full jitter. */
  static final class Backoff {
    private final long initial;
    private final long max;
    private long current;

    Backoff(Duration initial, Duration max) {
      this.initial = initial.toMillis();
      this.max = max.toMillis();
      this.current = this.initial;
    }

    long next() {
      long wait = ThreadLocalRandom.current().nextLong(current / 2, current + 1);
      current = Math.min(max, current * 2);
      return wait;
    }

    void reset() {
      current = initial;
    }
  }

  /** Options of a {@link DeviceClient}. */
  public static final class Builder {
    private URI server;
    private Path stateDir;
    private String caPem;
    private String enrollmentToken;
    private String name;
    private Map<String, String> labels = Map.of();
    private Duration retryInitial = Duration.ofSeconds(1);
    private Duration retryMax = Duration.ofMinutes(5);
    private Duration pollJitter = Duration.ofSeconds(5);
    private Duration pollWait = Duration.ofSeconds(30);
    private Clock clock = Clock.systemUTC();

    private Builder() {}

    /** The device listener, {@code https://host:port}. */
    public Builder server(URI uri) {
      if (uri == null || !"https".equals(uri.getScheme())) throw new IllegalArgumentException("server must be an https:// URI, got " + uri);
      this.server = uri;
      return this;
    }

    /** Where the key, certificates and id are kept (created 0700). */
    public Builder stateDir(Path d) {
      this.stateDir = Objects.requireNonNull(d, "stateDir");
      return this;
    }

    /** The fleet CA certificate (PEM) the server's certificate must chain to; needed once, then kept in the state dir. */
    public Builder caCertificate(String pem) {
      if (pem == null || !pem.contains("-----BEGIN CERTIFICATE-----")) throw new IllegalArgumentException("caCertificate must be a PEM certificate");
      this.caPem = pem;
      return this;
    }

    /** The enrollment token baked into the image ({@code bet_...}). */
    public Builder enrollmentToken(String token) {
      if (token == null || !token.startsWith("bet_")) throw new IllegalArgumentException("enrollment token must start with bet_");
      this.enrollmentToken = token;
      return this;
    }

    public Builder name(String n) {
      this.name = n;
      return this;
    }

    /** Labels the device claims (the token's labels override them). */
    public Builder labels(Map<String, String> l) {
      this.labels = Map.copyOf(l);
      return this;
    }

    /** First and largest wait of the exponential backoff on errors (default 1 s, 5 min). */
    public Builder retry(Duration initial, Duration max) {
      if (initial.toMillis() < 1 || max.compareTo(initial) < 0) throw new IllegalArgumentException("retry needs 0 < initial <= max, got " + initial + ", " + max);
      this.retryInitial = initial;
      this.retryMax = max;
      return this;
    }

    /** Largest random pause between long polls (default 5 s). */
    public Builder pollJitter(Duration d) {
      if (d.isNegative()) throw new IllegalArgumentException("pollJitter must be >= 0, got " + d);
      this.pollJitter = d;
      return this;
    }

    /** How long the server may hold a poll (default 30 s; the server caps it). */
    public Builder pollWait(Duration d) {
      if (d.isNegative()) throw new IllegalArgumentException("pollWait must be >= 0, got " + d);
      this.pollWait = d;
      return this;
    }

    public Builder clock(Clock c) {
      this.clock = Objects.requireNonNull(c, "clock");
      return this;
    }

    /** Builds the client, reading any identity already in the state dir. */
    public DeviceClient build() throws IOException {
      if (server == null) throw new IllegalStateException("server is required");
      if (stateDir == null) throw new IllegalStateException("stateDir is required");
      return new DeviceClient(this);
    }
  }
}

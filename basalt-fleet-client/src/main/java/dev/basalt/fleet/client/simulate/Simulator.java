package dev.basalt.fleet.client.simulate;

import dev.basalt.api.ApiJson;
import dev.basalt.api.fleet.DeviceState;
import dev.basalt.api.fleet.EnrollRequest;
import dev.basalt.api.fleet.EnrollResponse;
import dev.basalt.fleet.client.AdminClient;
import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.BiPredicate;
import java.util.function.Consumer;
import java.util.function.IntFunction;
import javax.net.ssl.SSLSocketFactory;

/**
 * N virtual devices on virtual threads speaking the real device protocol to a fleet server: enrollment with a CSR
 * (approved by an auto-approve token or by the admin API), then mTLS long-polls of the desired state and status
 * reports. Each follows its desired state like the node agent: download (simulated time), stage, reboot when allowed,
 * boot healthy — or, with probability {@code failureRate}, fail the boot trial and fall back (the booted digest stays,
 * the new one joins {@code failedDigests}). Whether a device fails a digest is a pure function of the seed, the
 * device's index and the digest, so runs repeat.
 *
 * <pre>{@code
 * try (Simulator sim = Simulator.builder().server(uri).caCertificate(caPem).enrollmentToken(token).devices(1000).build()) {
 *   sim.enroll();
 *   sim.start();
 *   sim.awaitBooted(digest, Duration.ofMinutes(5));
 * }
 * }</pre>
 */
public final class Simulator implements AutoCloseable {
  /** An error answer. */
  static final class StatusException extends IOException {
    private static final long serialVersionUID = 1L;
    final int status;

    StatusException(int status, String message) {
      super(message);
      this.status = status;
    }
  }

  final X509Certificate ca;
  final String host;
  final int port;
  final int pollWaitSeconds;
  final long downloadMillis;
  final long rebootMillis;
  final long imageBytes = 256L << 20;
  /**
   * Bounds the TLS handshakes of the follow loops in flight: 10,000 devices starting (or waking from a reboot) at once
   * would otherwise queue 10,000 handshakes on the server, time out and retry, where a real fleet's boots are spread.
   */
  final java.util.concurrent.Semaphore connecting = new java.util.concurrent.Semaphore(64);
  final LongAdder requests = new LongAdder();
  final LongAdder errors = new LongAdder();
  final LongAdder operations = new LongAdder();
  volatile LatencyHistogram latency = new LatencyHistogram();
  private final Builder b;
  private final List<SimDevice> devices = new ArrayList<>();
  private final List<Thread> threads = new ArrayList<>();
  private long startedNanos;

  private Simulator(Builder b) throws IOException {
    this.b = b;
    this.ca = Identity.certificate(b.caPem, "fleet CA certificate");
    this.host = b.server.getHost();
    this.port = b.server.getPort() < 0 ? 443 : b.server.getPort();
    this.pollWaitSeconds = (int) b.pollWait.toSeconds();
    this.downloadMillis = b.downloadTime.toMillis();
    this.rebootMillis = b.rebootTime.toMillis();
  }

  public static Builder builder() {
    return new Builder();
  }

  void log(String message) {
    b.log.accept(message);
  }

  /**
   * Whether device {@code index} fails the boot trial of {@code digest}: decided by {@link Builder#failWhen} when given,
   * else by the seed, never by chance.
   */
  boolean fails(int index, String digest) {
    if (b.failWhen != null) return b.failWhen.test(devices.get(index).identity.deviceId(), digest);
    if (b.failureRate <= 0) return false;
    long h = b.seed * 0x9E3779B97F4A7C15L + index;
    h = h * 31 + digest.hashCode();
    return new SplittableRandom(h).nextDouble() < b.failureRate;
  }

  /**
   * Makes every device an identity: from the cache when it holds one enrolled with this server's CA, else by enrolling
   * (CSR, then approval: by the token's auto-approve rule or, with an admin client, by approving it). Returns how many
   * enrolled now (the rest came from the cache).
   */
  public int enroll() throws IOException, InterruptedException {
    if (!devices.isEmpty()) throw new IllegalStateException("already enrolled");
    Path cache = b.identities == null ? null : Files.createDirectories(b.identities.resolve(Identity.fingerprint(ca)));
    SSLSocketFactory anonymous = Identity.tls(ca, null, null);
    Identity[] ids = new Identity[b.devices];
    AtomicInteger fresh = new AtomicInteger();
    Semaphore permits = new Semaphore(b.enrollConcurrency);
    List<Future<?>> tasks = new ArrayList<>();
    try (ExecutorService ex = Executors.newVirtualThreadPerTaskExecutor()) {
      for (int i = 0; i < b.devices; i++) {
        int index = i;
        permits.acquire();
        tasks.add(ex.submit(() -> {
          try {
            String name = b.namePrefix + String.format("%06d", index);
            Path file = cache == null ? null : cache.resolve(name + ".pem");
            Identity id = file == null ? null : Identity.load(file).orElse(null);
            if (id == null) {
              id = enrollOne(anonymous, index, name);
              fresh.incrementAndGet();
              if (file != null) id.save(file);
            }
            ids[index] = id;
            return null;
          } finally {
            permits.release();
          }
        }));
      }
      for (Future<?> f : tasks) {
        try {
          f.get();
        } catch (java.util.concurrent.ExecutionException e) {
          Throwable c = e.getCause();
          throw new IOException("enrolling the simulated devices failed: " + c.getMessage(), c);
        }
      }
    }
    for (int i = 0; i < ids.length; i++) devices.add(new SimDevice(i, ids[i], this, b.initialRef, b.initialDigest));
    return fresh.get();
  }

  private Identity enrollOne(SSLSocketFactory anonymous, int index, String name) throws IOException, InterruptedException {
    KeyPair kp = Identity.newKeyPair();
    try (Wire w = new Wire(anonymous, host, port)) {
      byte[] body = ApiJson.mapper().writeValueAsBytes(new EnrollRequest(b.enrollmentTokens.get(index % b.enrollmentTokens.size()),
          Identity.csr(kp), name, b.labels.apply(index)));
      EnrollResponse r = enrollCall(w, "POST", "/device/v1/enroll", body);
      long deadline = System.nanoTime() + b.enrollTimeout.toNanos();
      while (r.state() == DeviceState.PENDING) {
        if (b.admin != null) {
          b.admin.approve(r.deviceId());
        } else {
          if (System.nanoTime() > deadline) throw new IOException("device " + name + " (" + r.deviceId() + ") is still pending approval after " + b.enrollTimeout);
          Thread.sleep(Math.max(1, r.retryAfterSeconds()) * 1000L);
        }
        r = enrollCall(w, "GET", "/device/v1/enroll/" + r.deviceId(), null);
      }
      if (r.state() != DeviceState.ACTIVE || r.certificate() == null) {
        throw new IOException("enrollment of " + name + " ended " + r.state().wireName());
      }
      X509Certificate cert = Identity.certificate(r.certificate(), "certificate issued to " + name);
      return new Identity(r.deviceId(), kp.getPrivate(), cert);
    }
  }

  private EnrollResponse enrollCall(Wire w, String method, String path, byte[] body) throws IOException {
    Wire.Response r = w.exchange(method, path, null, body, 30_000);
    requests.increment();
    if (r.status() / 100 != 2) {
      errors.increment();
      throw new StatusException(r.status(), method + " " + path + ": " + r.status() + " " + new String(r.body(), StandardCharsets.UTF_8));
    }
    return ApiJson.mapper().readValue(r.body(), EnrollResponse.class);
  }

  /** Starts every device's follow loop on its own virtual thread (after {@link #enroll()}). */
  public synchronized void start() {
    if (devices.isEmpty()) throw new IllegalStateException("enroll() first");
    if (!threads.isEmpty()) throw new IllegalStateException("already started");
    resetStats();
    for (SimDevice d : devices) threads.add(Thread.ofVirtual().name("sim-" + d.index).start(d::follow));
  }

  private void resetStats() {
    latency = new LatencyHistogram();
    requests.reset();
    errors.reset();
    operations.reset();
    startedNanos = System.nanoTime();
  }

  /** The simulated devices' ids (after {@link #enroll()}), in index order. */
  public List<String> deviceIds() {
    return devices.stream().map(d -> d.identity.deviceId()).toList();
  }

  /** The digest each device boots now, in index order (as {@link #deviceIds()}). */
  public List<String> bootedDigests() {
    return devices.stream().map(SimDevice::booted).toList();
  }

  /** How many devices boot each digest now. */
  public Map<String, Integer> bootedCounts() {
    Map<String, Integer> m = new LinkedHashMap<>();
    for (SimDevice d : devices) m.merge(d.booted(), 1, Integer::sum);
    return m;
  }

  /** How many devices failed to boot {@code digest} (and fell back). */
  public int failedCount(String digest) {
    int n = 0;
    for (SimDevice d : devices) if (d.hasFailed(digest)) n++;
    return n;
  }

  /**
   * Waits until every device booted {@code digest} or failed it; returns whether that happened within {@code timeout}.
   */
  public boolean awaitBooted(String digest, Duration timeout) throws InterruptedException {
    return awaitBooted(digest, timeout, false);
  }

  /**
   * Waits until every device booted {@code digest} or failed it and, with {@code reported}, also told the server so
   * (a run that stops at once must not take the last reports with it); returns whether that happened within
   * {@code timeout}.
   */
  public boolean awaitBooted(String digest, Duration timeout, boolean reported) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (true) {
      int settled = 0;
      for (SimDevice d : devices) {
        if ((digest.equals(d.booted()) || d.hasFailed(digest)) && !(reported && d.reportPending())) {
          settled++;
        }
      }
      if (settled == devices.size()) return true;
      if (System.nanoTime() > deadline) return false;
      Thread.sleep(20);
    }
  }

  /** Status reports, latency and errors since {@link #start()}. */
  public Stats stats() {
    LatencyHistogram h = latency;
    return new Stats(devices.size(), requests.sum(), errors.sum(), Duration.ofNanos(System.nanoTime() - startedNanos),
        h.quantileMillis(0.50), h.quantileMillis(0.99), operations.sum());
  }

  /** How a check-in reaches the server. */
  public enum Connection {
    /**
     * The device's own connection, opened at its first check-in and kept alive (HTTP/1.1 keep-alive), as a node agent
     * keeps its HTTPS connection between polls.
     */
    KEEP_ALIVE,
    /** A new TCP connection per check-in that resumes the device's TLS session (abbreviated handshake). */
    RESUMED,
    /** A new TCP connection and a full TLS handshake per check-in (a device just booted, no session to resume). */
    FULL_HANDSHAKE
  }

  /**
   * The check-in benchmark (instead of {@link #start()}): for {@code duration}, {@code concurrency} workers take the
   * devices in turn, each check-in a new TLS connection with the device's certificate (a full handshake), a poll that
   * does not wait and a status report. Latency is that of the whole check-in.
   */
  public Stats checkIns(Duration duration, int concurrency) throws InterruptedException {
    return checkIns(duration, concurrency, Connection.FULL_HANDSHAKE);
  }

  /**
   * The check-in benchmark over the connections {@code connection} says; with {@link Connection#KEEP_ALIVE} each device
   * keeps its connection open afterwards (until {@link #close()}), so a second run measures warm connections only.
   */
  public Stats checkIns(Duration duration, int concurrency, Connection connection) throws InterruptedException {
    Objects.requireNonNull(connection, "connection");
    if (devices.isEmpty()) throw new IllegalStateException("enroll() first");
    if (concurrency < 1) throw new IllegalArgumentException("concurrency must be >= 1, got " + concurrency);
    resetStats();
    AtomicInteger next = new AtomicInteger();
    long end = System.nanoTime() + duration.toNanos();
    List<Thread> workers = new ArrayList<>();
    for (int w = 0; w < concurrency; w++) {
      workers.add(Thread.ofVirtual().name("checkin-" + w).start(() -> {
        while (System.nanoTime() < end) {
          SimDevice d = devices.get(Math.floorMod(next.getAndIncrement(), devices.size()));
          long t0 = System.nanoTime();
          try {
            d.checkIn(connection);
            latency.record(System.nanoTime() - t0);
            operations.increment();
          } catch (IOException | RuntimeException e) {
            // counted in errors
          }
        }
      }));
    }
    for (Thread t : workers) t.join();
    return stats();
  }

  /**
   * Every device checks in once, {@code concurrency} at a time, over {@code connection}: with
   * {@link Connection#KEEP_ALIVE} this opens every device's connection (the warm-up before measuring warm check-ins).
   */
  public Stats checkInEach(int concurrency, Connection connection) throws InterruptedException {
    Objects.requireNonNull(connection, "connection");
    if (devices.isEmpty()) throw new IllegalStateException("enroll() first");
    if (concurrency < 1) throw new IllegalArgumentException("concurrency must be >= 1, got " + concurrency);
    resetStats();
    AtomicInteger next = new AtomicInteger();
    List<Thread> workers = new ArrayList<>();
    for (int w = 0; w < concurrency; w++) {
      workers.add(Thread.ofVirtual().name("checkin-" + w).start(() -> {
        for (int i = next.getAndIncrement(); i < devices.size(); i = next.getAndIncrement()) {
          long t0 = System.nanoTime();
          try {
            devices.get(i).checkIn(connection);
            latency.record(System.nanoTime() - t0);
            operations.increment();
          } catch (IOException | RuntimeException e) {
            // counted in errors
          }
        }
      }));
    }
    for (Thread t : workers) t.join();
    return stats();
  }

  /** How many devices hold an open (kept-alive) connection to the server now. */
  public int openConnections() {
    int n = 0;
    for (SimDevice d : devices) if (d.connected()) n++;
    return n;
  }

  /** Stops every device (closing its connection) and waits for the threads. */
  @Override
  public synchronized void close() throws InterruptedException {
    for (SimDevice d : devices) d.stop();
    for (Thread t : threads) t.interrupt();
    for (Thread t : threads) t.join(5000);
    threads.clear();
  }

  /** The digest a name stands for in simulations: {@code sha256} of the text (simulated images have no manifest). */
  public static String digestOf(String text) {
    try {
      return "sha256:" + HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  /** Options of a {@link Simulator}; each setter checks its value. */
  public static final class Builder {
    private URI server;
    private String caPem;
    private List<String> enrollmentTokens;
    private int devices = 1;
    private double failureRate;
    private BiPredicate<String, String> failWhen;
    private long seed = 1;
    private Path identities;
    private AdminClient admin;
    private IntFunction<Map<String, String>> labels = i -> Map.of("simulated", "true");
    private String namePrefix = "sim-";
    private String initialRef = "simulated.example/os";
    private String initialDigest = digestOf("basalt simulated initial image");
    private Duration downloadTime = Duration.ofSeconds(2);
    private Duration rebootTime = Duration.ofSeconds(1);
    private Duration pollWait = Duration.ofSeconds(30);
    private Duration enrollTimeout = Duration.ofMinutes(10);
    private int enrollConcurrency = 16;
    private Consumer<String> log = m -> { };

    private Builder() {}

    /** The device listener, {@code https://host:port}. */
    public Builder server(URI uri) {
      if (uri == null || !"https".equals(uri.getScheme()) || uri.getHost() == null) {
        throw new IllegalArgumentException("server must be the device listener https://host:port, got " + uri);
      }
      this.server = uri;
      return this;
    }

    /** The fleet CA certificate, PEM. */
    public Builder caCertificate(String pem) {
      if (pem == null || !pem.contains("-----BEGIN CERTIFICATE-----")) throw new IllegalArgumentException("caCertificate must be a PEM certificate");
      this.caPem = pem;
      return this;
    }

    /** The enrollment token ({@code bet_...}). */
    public Builder enrollmentToken(String token) {
      return enrollmentTokens(List.of(token == null ? "" : token));
    }

    /**
     * Several enrollment tokens, device {@code i} enrolling with token {@code i % n}: each enrollment counts a use of
     * its token, so parallel enrollments with one token queue on that token's row.
     */
    public Builder enrollmentTokens(List<String> tokens) {
      if (tokens == null || tokens.isEmpty()) throw new IllegalArgumentException("at least one enrollment token is required");
      for (int i = 0; i < tokens.size(); i++) {
        if (tokens.get(i) == null || !tokens.get(i).startsWith("bet_")) {
          throw new IllegalArgumentException("enrollment token " + (tokens.size() == 1 ? "" : "#" + i + " ") + "must start with bet_");
        }
      }
      this.enrollmentTokens = List.copyOf(tokens);
      return this;
    }

    public Builder devices(int n) {
      if (n < 1 || n > 1_000_000) throw new IllegalArgumentException("devices must be 1..1000000, got " + n);
      this.devices = n;
      return this;
    }

    /** Share of boot trials that fail, 0..1 (default 0). */
    public Builder failureRate(double r) {
      if (!(r >= 0 && r <= 1)) throw new IllegalArgumentException("failure rate must be 0..1, got " + r);
      this.failureRate = r;
      return this;
    }

    /**
     * Decides which boot trials fail instead of {@link #failureRate}: {@code test(deviceId, digest)} is asked once per
     * boot trial, on the device's thread (so it may change between trials).
     */
    public Builder failWhen(BiPredicate<String, String> deviceIdAndDigest) {
      this.failWhen = Objects.requireNonNull(deviceIdAndDigest, "failWhen");
      return this;
    }

    public Builder seed(long s) {
      this.seed = s;
      return this;
    }

    /** Where enrolled identities are cached (per fleet CA), so later runs skip enrollment. */
    public Builder identities(Path dir) {
      this.identities = Objects.requireNonNull(dir, "identities");
      return this;
    }

    /** Approves pending devices with this admin client (when the token does not auto-approve). */
    public Builder approveWith(AdminClient a) {
      this.admin = Objects.requireNonNull(a, "admin");
      return this;
    }

    /** The labels every device asks for at enrollment (default {@code simulated=true}). */
    public Builder labels(Map<String, String> l) {
      Map<String, String> copy = Map.copyOf(l);
      this.labels = i -> copy;
      return this;
    }

    /** The labels device {@code i} asks for at enrollment (for label selectors, canaries and budgets). */
    public Builder labels(IntFunction<Map<String, String>> perDevice) {
      Objects.requireNonNull(perDevice, "labels");
      this.labels = i -> Map.copyOf(perDevice.apply(i));
      return this;
    }

    /** Device names are this prefix plus a 6-digit index (default {@code sim-}); also the identity cache's file names. */
    public Builder namePrefix(String p) {
      if (p == null || !p.matches("[A-Za-z0-9._-]{0,40}")) throw new IllegalArgumentException("name prefix must be letters, digits, . _ -, got '" + p + "'");
      this.namePrefix = p;
      return this;
    }

    /** What every device boots at the start. */
    public Builder initialImage(String ref, String digest) {
      this.initialRef = Objects.requireNonNull(ref, "ref");
      this.initialDigest = Objects.requireNonNull(digest, "digest");
      return this;
    }

    /** Simulated time of a download and of a reboot (defaults 2 s and 1 s). */
    public Builder timing(Duration download, Duration reboot) {
      if (download.isNegative() || reboot.isNegative()) throw new IllegalArgumentException("download and reboot times must be >= 0");
      this.downloadTime = download;
      this.rebootTime = reboot;
      return this;
    }

    /** How long a long poll may be held (default 30 s). */
    public Builder pollWait(Duration d) {
      if (d.isNegative() || d.toSeconds() > 300) throw new IllegalArgumentException("poll wait must be 0..300 s, got " + d);
      this.pollWait = d;
      return this;
    }

    /** Parallel enrollments (default 16) and how long a pending device waits for approval (default 10 min). */
    public Builder enrollment(int concurrency, Duration timeout) {
      if (concurrency < 1) throw new IllegalArgumentException("enrollment concurrency must be >= 1, got " + concurrency);
      this.enrollConcurrency = concurrency;
      this.enrollTimeout = Objects.requireNonNull(timeout, "timeout");
      return this;
    }

    /** Where device events go (default nowhere). */
    public Builder log(Consumer<String> l) {
      this.log = Objects.requireNonNull(l, "log");
      return this;
    }

    public Simulator build() throws IOException {
      if (server == null) throw new IllegalStateException("server is required");
      if (caPem == null) throw new IllegalStateException("caCertificate is required");
      if (enrollmentTokens == null) throw new IllegalStateException("enrollmentToken is required");
      return new Simulator(this);
    }
  }
}

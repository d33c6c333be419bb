package dev.basalt.fleet.server;

import dev.basalt.fleet.server.controller.ControllerLock;
import dev.basalt.fleet.server.controller.FleetController;
import dev.basalt.fleet.server.controller.Rollouts;
import dev.basalt.fleet.server.controller.TargetSignatures;
import dev.basalt.fleet.server.http.AdminApi;
import dev.basalt.fleet.server.http.DesiredWaiters;
import dev.basalt.fleet.server.http.DeviceApi;
import dev.basalt.fleet.server.http.Metrics;
import dev.basalt.fleet.server.http.ServerContext;
import dev.basalt.fleet.server.identity.CertificateAuthority;
import dev.basalt.fleet.server.identity.EnrollmentLimiter;
import dev.basalt.fleet.server.identity.Tokens;
import dev.basalt.fleet.server.store.Database;
import dev.basalt.fleet.server.store.DesiredListener;
import dev.basalt.fleet.server.store.RolloutStore;
import dev.basalt.fleet.server.store.Store;
import dev.basalt.fleet.server.web.FleetUi;
import io.helidon.common.tls.Tls;
import io.helidon.common.tls.TlsClientAuth;
import io.helidon.webserver.WebServer;
import io.helidon.webserver.http.HttpRouting;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * The Basalt fleet server: one process, two listeners.
 *
 * <ul>
 *   <li>plain HTTP (default port 8080): the admin REST API {@code /api/v1/...} (bearer tokens with scopes), the
 *       OpenAPI document {@code /openapi}, Prometheus {@code /metrics}, {@code /healthz}, and the web UI at {@code /};
 *   <li>TLS "device" (default 8443), client certificate optional: enrollment without one, every other device call
 *       with a certificate from the fleet CA that is still the device's active one.
 * </ul>
 *
 * State lives in SQLite under the data dir (default) or PostgreSQL; the fleet CA is created on first start and kept in
 * the database (so replicas share it; {@code ca.pem} in the data dir is a copy for baking into images). On first start
 * without an admin token file, a bootstrap admin token is printed once to the console.
 *
 * <pre>{@code
 * try (FleetServer s = FleetServer.builder().dataDir(dir).httpPort(0).devicePort(0).build().start()) { ... }
 * }</pre>
 */
public final class FleetServer implements AutoCloseable {
  private static final System.Logger LOG = System.getLogger(FleetServer.class.getName());

  private final Builder b;
  private Database db;
  private FleetController controller;
  private DesiredWaiters waiters;
  private DesiredListener listener;
  private WebServer web;
  private CertificateAuthority ca;
  private String bootstrapToken;
  private final List<String> adminRoutes = new ArrayList<>();
  private final List<String> deviceRoutes = new ArrayList<>();

  private FleetServer(Builder b) {
    this.b = b;
  }

  public static Builder builder() {
    return new Builder();
  }

  /** Opens (and migrates) the database, loads or creates the CA and the bootstrap token, binds both listeners. */
  public synchronized FleetServer start() {
    if (web != null) throw new IllegalStateException("server already started");
    try {
      Files.createDirectories(b.dataDir);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot create data dir " + b.dataDir, e);
    }
    db = b.databaseUrl == null ? Database.sqlite(b.dataDir) : Database.open(b.databaseUrl, b.databaseUser, b.databasePassword);
    try {
      Store store = new Store(db, b.clock);
      ca = loadCa(store);
      bootstrap(store);
      waiters = new DesiredWaiters();
      Rollouts rollouts = new Rollouts(store, new RolloutStore(db), b.clock, () -> Tokens.id("r-"));
      controller = new FleetController(store, rollouts, ControllerLock.forDatabase(db), b.controllerInterval,
          b.wakeDebounce, waiters::changed);
      Metrics metrics = new Metrics(store::deviceCountsByState);
      ServerContext ctx = new ServerContext(store, ca, controller, waiters, metrics,
          new EnrollmentLimiter(b.enrollFailureLimit, b.enrollFailureWindow, b.clock), b.maxWait, b.maxBodyBytes,
          b.certificateValidity, b.enrollRetryAfterSeconds, rollouts, new TargetSignatures(b.registryTlsVerify, b.dataDir));
      CertificateAuthority.ServerIdentity id = ca.issueServer(b.deviceHosts, b.clock.instant(), Duration.ofDays(365));
      Tls tls = Tls.builder().privateKey(id.key()).privateKeyCertChain(List.of(id.certificate(), ca.certificate()))
          .trust(List.of(ca.certificate())).clientAuth(TlsClientAuth.OPTIONAL).build();
      HttpRouting.Builder admin = HttpRouting.builder();
      admin.addFilter(LatencyFilter.of(metrics, "http"));
      AdminApi.register(admin, ctx, adminRoutes);
      FleetUi.register(admin, ctx); // the web UI: pages, not API routes (so not in routes()/OpenAPI)
      HttpRouting.Builder device = HttpRouting.builder();
      device.addFilter(LatencyFilter.of(metrics, "device"));
      DeviceApi.register(device, ctx, deviceRoutes);
      web = WebServer.builder().address(InetAddress.getByName(b.bindAddress)).port(b.httpPort).shutdownHook(false)
          .routing(admin)
          .putSocket("device", s -> s.address(address(b.bindAddress)).port(b.devicePort).tls(tls).routing(device))
          .build().start();
      if (db.dialect() == Database.Dialect.POSTGRESQL) listener = new DesiredListener(db, waiters::changed);
      controller.start();
      LOG.log(System.Logger.Level.INFO, "fleet server on http port " + web.port() + ", device port " + web.port("device")
          + ", " + db.dialect().name().toLowerCase(java.util.Locale.ROOT) + " database");
      return this;
    } catch (IOException | RuntimeException e) {
      close();
      if (e instanceof IOException io) throw new UncheckedIOException(io);
      throw (RuntimeException) e;
    }
  }

  private static InetAddress address(String host) {
    try {
      return InetAddress.getByName(host);
    } catch (IOException e) {
      throw new IllegalArgumentException("bind address " + host + " does not resolve", e);
    }
  }

  private CertificateAuthority loadCa(Store store) throws IOException {
    String[] stored = store.ca().orElse(null);
    if (stored == null) {
      CertificateAuthority fresh = CertificateAuthority.create("Basalt fleet CA", b.clock.instant());
      stored = store.storeCaIfAbsent(fresh.certificatePem(), fresh.privateKeyPem());
    }
    CertificateAuthority loaded = CertificateAuthority.load(stored[0], stored[1]);
    Path pem = b.dataDir.resolve("ca.pem");
    Files.writeString(pem, loaded.certificatePem(), StandardCharsets.US_ASCII);
    return loaded;
  }

  private void bootstrap(Store store) throws IOException {
    if (b.adminTokenFile != null) {
      String token = Files.readString(b.adminTokenFile, StandardCharsets.UTF_8).strip();
      if (!token.startsWith(Tokens.ADMIN_PREFIX) || token.length() < 40) {
        throw new IllegalArgumentException("admin token file " + b.adminTokenFile + " must hold one token bst_... of at least 40 characters");
      }
      if (store.adminTokenByHash(Tokens.hash(token)).isEmpty()) {
        store.createAdminToken("system", Tokens.id("at-"), "bootstrap", Set.of("admin"), Tokens.hash(token), null);
      }
    } else if (!store.hasAdminTokens()) {
      bootstrapToken = Tokens.secret(Tokens.ADMIN_PREFIX);
      store.createAdminToken("system", Tokens.id("at-"), "bootstrap", Set.of("admin"), Tokens.hash(bootstrapToken), null);
      // Deliberately the console, not the log: the token is shown once and stored only hashed.
      b.console.println("Basalt fleet server: bootstrap admin token (shown once, keep it safe): " + bootstrapToken);
      b.console.flush();
    }
  }

  /** Bound port of the plain listener (admin API). */
  public int httpPort() {
    return running().port();
  }

  /** Bound port of the TLS device listener. */
  public int devicePort() {
    return running().port("device");
  }

  private WebServer running() {
    if (web == null) throw new IllegalStateException("server not started");
    return web;
  }

  /** The fleet CA certificate, PEM (devices trust it for the device listener; bake it into images). */
  public String caCertificatePem() {
    if (ca == null) throw new IllegalStateException("server not started");
    return ca.certificatePem();
  }

  /** The bootstrap admin token when this start created it (first start without a token file); empty otherwise. */
  public Optional<String> bootstrapAdminToken() {
    return Optional.ofNullable(bootstrapToken);
  }

  /** Whether this instance holds the controller lock (always on SQLite). */
  public boolean isControllerLeader() {
    return controller != null && controller.isLeader();
  }

  /** Runs one controller pass now (tests, CLI); returns the devices whose desired state changed. */
  public List<String> reconcileNow() {
    return controller.tick();
  }

  /** Every route registered, "METHOD /path" with {@code {param}} placeholders: admin listener then device listener. */
  public List<String> routes() {
    List<String> all = new ArrayList<>(adminRoutes);
    all.addAll(deviceRoutes);
    return Collections.unmodifiableList(all);
  }

  /** Stops the listeners, the controller (releasing its lock) and the database pool. */
  public synchronized void stop() {
    if (waiters != null) waiters.wakeAll();
    if (web != null) {
      web.stop();
      web = null;
    }
    if (listener != null) {
      listener.close();
      listener = null;
    }
    if (controller != null) {
      controller.close();
      controller = null;
    }
    if (db != null) {
      db.close();
      db = null;
    }
  }

  @Override
  public void close() {
    stop();
  }

  /** Options of a {@link FleetServer}; each setter validates its value. */
  public static final class Builder {
    private Path dataDir;
    private String databaseUrl;
    private String databaseUser;
    private String databasePassword;
    private String bindAddress = "0.0.0.0";
    private int httpPort = 8080;
    private int devicePort = 8443;
    private List<String> deviceHosts;
    private Path adminTokenFile;
    private PrintStream console = System.out;
    private Clock clock = Clock.systemUTC();
    private Duration maxWait = Duration.ofSeconds(30);
    private long maxBodyBytes = 1 << 20;
    private int enrollFailureLimit = 10;
    private Duration enrollFailureWindow = Duration.ofMinutes(1);
    private Duration certificateValidity = Duration.ofDays(90);
    private Duration controllerInterval = Duration.ofSeconds(1);
    private Duration wakeDebounce = Duration.ofMillis(25);
    private boolean registryTlsVerify = true;
    private int enrollRetryAfterSeconds = 30;

    private Builder() {}

    /** Where the SQLite database and {@code ca.pem} live (required). */
    public Builder dataDir(Path dir) {
      this.dataDir = Objects.requireNonNull(dir, "dataDir");
      return this;
    }

    /** Use this database instead of SQLite in the data dir: {@code jdbc:postgresql://host/db} (or {@code jdbc:sqlite:...}). */
    public Builder database(String jdbcUrl, String user, String password) {
      if (jdbcUrl == null || !(jdbcUrl.startsWith("jdbc:postgresql:") || jdbcUrl.startsWith("jdbc:sqlite:"))) {
        throw new IllegalArgumentException("database url must start with jdbc:postgresql: or jdbc:sqlite:, got " + jdbcUrl);
      }
      this.databaseUrl = jdbcUrl;
      this.databaseUser = user;
      this.databasePassword = password;
      return this;
    }

    /** Address both listeners bind (default 0.0.0.0). */
    public Builder bindAddress(String address) {
      this.bindAddress = Objects.requireNonNull(address, "bindAddress");
      return this;
    }

    /** Port of the plain admin listener; 0 picks a free one (default 8080). */
    public Builder httpPort(int port) {
      this.httpPort = port(port, "httpPort");
      return this;
    }

    /** Port of the TLS device listener; 0 picks a free one (default 8443). */
    public Builder devicePort(int port) {
      this.devicePort = port(port, "devicePort");
      return this;
    }

    private static int port(int p, String what) {
      if (p < 0 || p > 65535) throw new IllegalArgumentException(what + " must be 0..65535, got " + p);
      return p;
    }

    /** Host names and IP addresses devices use to reach the device listener (its certificate's SANs). */
    public Builder deviceHosts(List<String> hosts) {
      if (hosts == null || hosts.isEmpty()) throw new IllegalArgumentException("deviceHosts needs at least one name");
      for (String h : hosts) {
        if (h == null || h.isBlank() || h.contains(" ")) throw new IllegalArgumentException("invalid device host name '" + h + "'");
      }
      this.deviceHosts = List.copyOf(hosts);
      return this;
    }

    /** A file holding the admin token to register on start (instead of printing a generated one). */
    public Builder adminTokenFile(Path file) {
      if (!Files.isRegularFile(file)) throw new IllegalArgumentException("admin token file " + file + " does not exist");
      this.adminTokenFile = file;
      return this;
    }

    /** Where the bootstrap admin token is printed (default standard output; never the log). */
    public Builder console(PrintStream out) {
      this.console = Objects.requireNonNull(out, "console");
      return this;
    }

    public Builder clock(Clock c) {
      this.clock = Objects.requireNonNull(c, "clock");
      return this;
    }

    /** Cap of a long poll's {@code ?wait=} (default 30 s). */
    public Builder maxWait(Duration d) {
      if (d.isNegative() || d.compareTo(Duration.ofMinutes(5)) > 0) throw new IllegalArgumentException("maxWait must be 0..5 min, got " + d);
      this.maxWait = d;
      return this;
    }

    /** Largest request body accepted; larger ones get 413 (default 1 MiB). */
    public Builder maxBodyBytes(long n) {
      if (n < 1024) throw new IllegalArgumentException("maxBodyBytes must be >= 1024, got " + n);
      this.maxBodyBytes = n;
      return this;
    }

    /** Bad enrollment tokens allowed per source address within {@code window} before 429 (default 10 a minute). */
    public Builder enrollmentFailureLimit(int failures, Duration window) {
      if (failures < 1) throw new IllegalArgumentException("enrollment failure limit must be >= 1, got " + failures);
      if (window.isNegative() || window.isZero()) throw new IllegalArgumentException("enrollment failure window must be positive, got " + window);
      this.enrollFailureLimit = failures;
      this.enrollFailureWindow = window;
      return this;
    }

    /** Lifetime of device certificates (default 90 days). */
    public Builder certificateValidity(Duration d) {
      if (d.compareTo(Duration.ofMinutes(1)) < 0) throw new IllegalArgumentException("certificateValidity must be >= 1 min, got " + d);
      this.certificateValidity = d;
      return this;
    }

    /**
     * How long the controller waits after a wake-up (an API change, a status report that ends an update step) for
     * more of them before its pass (default 25 ms): a burst of reports costs one pass.
     */
    public Builder wakeDebounce(Duration d) {
      if (d == null || d.isNegative() || d.compareTo(Duration.ofSeconds(5)) > 0) {
        throw new IllegalArgumentException("wakeDebounce must be 0..5 s, got " + d);
      }
      this.wakeDebounce = d;
      return this;
    }

    /**
     * Whether registries must present a certificate the JVM trusts when the server checks a fleet target's
     * signatures (default true); false also allows plain HTTP (test and lab registries).
     */
    public Builder registryTlsVerify(boolean on) {
      this.registryTlsVerify = on;
      return this;
    }

    /** Period of the controller's pass, which steps active rollouts (default 1 s; API changes and reports trigger one). */
    public Builder controllerInterval(Duration d) {
      if (d.toMillis() < 10) throw new IllegalArgumentException("controllerInterval must be >= 10 ms, got " + d);
      this.controllerInterval = d;
      return this;
    }

    /** What pending devices are told to wait between asks (default 30 s). */
    public Builder enrollRetryAfterSeconds(int s) {
      if (s < 1) throw new IllegalArgumentException("enrollRetryAfterSeconds must be >= 1, got " + s);
      this.enrollRetryAfterSeconds = s;
      return this;
    }

    public FleetServer build() {
      if (dataDir == null) throw new IllegalStateException("dataDir is required");
      if (deviceHosts == null) {
        List<String> hosts = new ArrayList<>(List.of("localhost", "127.0.0.1", "::1"));
        try {
          String h = InetAddress.getLocalHost().getHostName();
          if (!hosts.contains(h)) hosts.add(h);
        } catch (IOException ignored) {
          // no host name: localhost only
        }
        deviceHosts = hosts;
      }
      return new FleetServer(this);
    }
  }
}

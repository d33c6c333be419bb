package dev.basalt.fleet.server.http;

import dev.basalt.api.fleet.DesiredState;
import dev.basalt.api.fleet.DeviceInfo;
import dev.basalt.api.fleet.DeviceState;
import dev.basalt.api.fleet.EnrollRequest;
import dev.basalt.api.fleet.EnrollResponse;
import dev.basalt.api.fleet.LabelSelector;
import dev.basalt.api.fleet.RenewRequest;
import dev.basalt.api.fleet.StatusReport;
import dev.basalt.fleet.server.identity.CertificateAuthority;
import dev.basalt.fleet.server.identity.Tokens;
import dev.basalt.fleet.server.store.Store;
import dev.basalt.fleet.server.store.Store.EnrollmentTokenRecord;
import dev.basalt.fleet.server.store.Store.IssuedCertificate;
import dev.basalt.fleet.server.store.StoreException;
import io.helidon.webserver.http.HttpRouting;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import javax.security.auth.x500.X500Principal;

/**
 * The device API on the TLS listener. Enrollment needs no client certificate; every other call identifies the device
 * by its client certificate alone (CN = device id, serial = the one active certificate of that device), never by
 * anything in the URL or body.
 */
public final class DeviceApi {
  private final ServerContext ctx;
  private final Store store;

  private DeviceApi(ServerContext ctx) {
    this.ctx = ctx;
    this.store = ctx.store();
  }

  /** Registers the device routes; {@code registered} collects "METHOD path". */
  public static void register(HttpRouting.Builder routing, ServerContext ctx, List<String> registered) {
    DeviceApi api = new DeviceApi(ctx);
    Errors.install(routing);
    new Routes(routing, registered)
        .post("/device/v1/enroll", api::enroll)
        .get("/device/v1/enroll/{id}", api::enrollment)
        .get("/device/v1/desired", api::desired)
        .post("/device/v1/status", api::status)
        .post("/device/v1/renew", api::renew);
  }

  /** The authenticated device: CN and serial of its client certificate. */
  record Caller(String deviceId, String serial) {}

  static Optional<Caller> peer(ServerRequest req) {
    Optional<Certificate[]> certs = req.remotePeer().tlsCertificates();
    if (certs.isEmpty() || certs.get().length == 0 || !(certs.get()[0] instanceof X509Certificate c)) return Optional.empty();
    String cn = null;
    for (String part : c.getSubjectX500Principal().getName(X500Principal.RFC2253).split(",")) {
      if (part.startsWith("CN=")) cn = part.substring(3);
    }
    return cn == null ? Optional.empty() : Optional.of(new Caller(cn, CertificateAuthority.serialHex(c)));
  }

  private static Caller caller(ServerRequest req) {
    return peer(req).orElseThrow(() -> new HttpError(401, "this call needs the device's client certificate (mTLS)"));
  }

  private static HttpError notActive(Caller c) {
    return new HttpError(403, "certificate " + c.serial() + " of device " + c.deviceId() + " is not active (revoked, replaced or decommissioned)");
  }

  private void enroll(ServerRequest req, ServerResponse res) {
    String source = req.remotePeer().host();
    long blocked = ctx.limiter().blockedForSeconds(source);
    if (blocked > 0) {
      ctx.metrics().enrollment("rejected");
      throw new HttpError(429, "too many bad enrollment tokens from " + source + "; retry later", blocked);
    }
    EnrollRequest r = Json.read(req, EnrollRequest.class, ctx.maxBodyBytes());
    EnrollmentTokenRecord token = r.token() == null ? null : store.enrollmentTokenByHash(Tokens.hash(r.token())).orElse(null);
    if (token == null || token.revoked() || (token.expiresAt() != null && !token.expiresAt().isAfter(store.now()))) {
      ctx.limiter().failed(source);
      ctx.metrics().enrollment("rejected");
      // The same answer for unknown, revoked and expired tokens: nothing to learn by guessing.
      throw new HttpError(401, "enrollment token is not valid");
    }
    java.security.PublicKey key = CertificateAuthority.checkCsr(r.csr());
    LabelSelector.checkLabels(r.labels());
    Map<String, String> labels = new HashMap<>(r.labels());
    labels.putAll(token.labels()); // the token's labels are trusted, the device's claims are not
    String id = Tokens.id("d-");
    String name = r.name() == null || r.name().isBlank() ? id : r.name().strip();
    if (name.length() > 200) throw new HttpError(400, "name is longer than 200 characters");
    boolean approve = token.autoApprove() != null && LabelSelector.parse(token.autoApprove()).matches(labels);
    IssuedCertificate cert = approve ? ctx.ca().issueDevice(id, key, store.now(), ctx.certificateValidity()) : null;
    DeviceInfo d = store.enroll(token, new Store.NewDevice(id, name, labels, r.csr(), cert));
    ctx.metrics().enrollment(approve ? "approved" : "pending");
    if (approve) ctx.controller().wake();
    Json.send(res, approve ? 201 : 202, response(d.id(), d.state(), cert == null ? null : cert.pem()));
  }

  private IssuedCertificate issue(String id, String csr) {
    return ctx.ca().issueDevice(id, csr, store.now(), ctx.certificateValidity());
  }

  private EnrollResponse response(String id, DeviceState state, String certPem) {
    boolean active = state == DeviceState.ACTIVE;
    return new EnrollResponse(id, state, active ? certPem : null, active ? ctx.ca().certificatePem() : null,
        state == DeviceState.PENDING ? ctx.enrollRetryAfterSeconds() : 0);
  }

  private void enrollment(ServerRequest req, ServerResponse res) {
    String id = req.path().pathParameters().get("id");
    Store.DeviceRecord d = store.device(id).orElseThrow(() -> new HttpError(404, "no enrollment " + id));
    if (d.info().state() == DeviceState.DECOMMISSIONED) throw new HttpError(410, "device " + id + " was decommissioned");
    Json.send(res, 200, response(id, d.info().state(), d.certificate()));
  }

  private void desired(ServerRequest req, ServerResponse res) {
    Caller c = caller(req);
    long waitSeconds = req.query().first("wait").map(DeviceApi::seconds).orElse(0L);
    if (waitSeconds < 0) throw new HttpError(400, "wait must be >= 0 seconds, got " + waitSeconds);
    long waitMillis = Math.min(Duration.ofSeconds(waitSeconds).toMillis(), ctx.maxWait().toMillis());
    String inm = req.headers().first(io.helidon.http.HeaderNames.IF_NONE_MATCH).orElse(null);
    long deadline = System.nanoTime() + waitMillis * 1_000_000;
    boolean touched = false;
    while (true) {
      CompletableFuture<Void> change = ctx.waiters().register(c.deviceId());
      Store.DevicePoll p = store.desired(c.deviceId(), c.serial()).orElseThrow(() -> notActive(c));
      if (!touched) {
        touched = true;
        ctx.metrics().checkins.increment();
        if (p.lastSeen() == null || p.lastSeen().isBefore(store.now().minusSeconds(60))) store.touch(c.deviceId(), c.serial());
      }
      DesiredState d = p.desired();
      res.header("ETag", d.etag());
      if (inm == null || !inm.equals(d.etag())) {
        Json.send(res, 200, d);
        return;
      }
      long left = deadline - System.nanoTime();
      if (left <= 0) {
        res.status(304).send();
        return;
      }
      try {
        change.get(left, TimeUnit.NANOSECONDS);
      } catch (TimeoutException e) {
        res.status(304).send();
        return;
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new HttpError(503, "server is stopping");
      } catch (ExecutionException e) {
        throw new IllegalStateException(e);
      }
    }
  }

  private static long seconds(String s) {
    try {
      return Long.parseLong(s);
    } catch (NumberFormatException e) {
      throw new HttpError(400, "wait must be a whole number of seconds, got '" + s + "'");
    }
  }

  private void status(ServerRequest req, ServerResponse res) {
    Caller c = caller(req);
    StatusReport r = Json.read(req, StatusReport.class, ctx.maxBodyBytes());
    Store.ReportResult result = store.report(c.deviceId(), c.serial(), r);
    if (result == Store.ReportResult.NOT_ACTIVE) throw notActive(c);
    ctx.metrics().statusReports.increment();
    // The end of an update step (staged, rebooted, failed) may move a rollout on: a debounced controller pass.
    // A report that changed nothing the controller reads (an idle device checking in) wakes nothing.
    if (result == Store.ReportResult.CHANGED && !r.node().updatePhase().inProgress()) ctx.controller().wake();
    res.status(204).send();
  }

  private void renew(ServerRequest req, ServerResponse res) {
    Caller c = caller(req);
    RenewRequest r = Json.read(req, RenewRequest.class, ctx.maxBodyBytes());
    if (store.desired(c.deviceId(), c.serial()).isEmpty()) throw notActive(c);
    IssuedCertificate cert = issue(c.deviceId(), r.csr());
    try {
      store.renew(c.deviceId(), c.serial(), r.csr(), cert);
    } catch (StoreException e) {
      throw notActive(c);
    }
    Json.send(res, 200, new EnrollResponse(c.deviceId(), DeviceState.ACTIVE, cert.pem(), ctx.ca().certificatePem(), 0));
  }
}

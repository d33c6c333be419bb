package dev.basalt.fleet.server.http;

import dev.basalt.api.fleet.AdminTokenInfo;
import dev.basalt.api.fleet.AdminTokenRequest;
import dev.basalt.api.fleet.DeviceInfo;
import dev.basalt.api.fleet.DeviceState;
import dev.basalt.api.fleet.DeviceUpdate;
import dev.basalt.api.fleet.EnrollmentTokenRequest;
import dev.basalt.api.fleet.FleetSpec;
import dev.basalt.api.fleet.LabelSelector;
import dev.basalt.fleet.server.controller.Membership;
import dev.basalt.fleet.server.identity.Tokens;
import dev.basalt.fleet.server.store.Store;
import dev.basalt.fleet.server.store.Store.AdminTokenRecord;
import io.helidon.http.HeaderNames;
import io.helidon.webserver.http.HttpRouting;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;

/**
 * The admin REST API ({@code /api/v1}, bearer token with scopes) and the unauthenticated {@code /healthz},
 * {@code /metrics}, {@code /openapi} on the plain listener.
 */
public final class AdminApi {
  /** Class-path location of the hand-written OpenAPI document. */
  public static final String OPENAPI_RESOURCE = "/dev/basalt/fleet/server/openapi.yaml";

  private final ServerContext ctx;
  private final Store store;

  private AdminApi(ServerContext ctx) {
    this.ctx = ctx;
    this.store = ctx.store();
  }

  /** Registers the admin routes; {@code registered} collects "METHOD path". */
  public static void register(HttpRouting.Builder routing, ServerContext ctx, List<String> registered) {
    AdminApi a = new AdminApi(ctx);
    Errors.install(routing);
    byte[] openapi = openapi();
    new Routes(routing, registered)
        .get("/healthz", (req, res) -> Json.send(res, 200, Map.of("status", "ok", "controller", ctx.controller().isLeader())))
        .get("/metrics", (req, res) -> res.header("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
            .send(ctx.metrics().scrape().getBytes(StandardCharsets.UTF_8)))
        .get("/openapi", (req, res) -> res.header("Content-Type", "application/yaml").send(openapi))
        .get("/api/v1/ca", (req, res) -> {
          a.auth(req, "fleet:read");
          res.header("Content-Type", "application/x-pem-file").send(ctx.ca().certificatePem().getBytes(StandardCharsets.US_ASCII));
        })
        .get("/api/v1/devices", a::listDevices)
        .get("/api/v1/devices/{id}", a::getDevice)
        .patch("/api/v1/devices/{id}", a::updateDevice)
        .delete("/api/v1/devices/{id}", a::decommission)
        .post("/api/v1/devices/{id}/approve", a::approve)
        .post("/api/v1/devices/{id}/revoke", a::revoke)
        .get("/api/v1/fleets", (req, res) -> {
          a.auth(req, "fleet:read");
          Json.send(res, 200, a.store.fleets());
        })
        .post("/api/v1/fleets", (req, res) -> a.putFleet(req, res, true))
        .get("/api/v1/fleets/{name}", (req, res) -> {
          a.auth(req, "fleet:read");
          String n = req.path().pathParameters().get("name");
          Json.send(res, 200, a.store.fleet(n).orElseThrow(() -> new HttpError(404, "fleet " + n + " does not exist")));
        })
        .put("/api/v1/fleets/{name}", (req, res) -> a.putFleet(req, res, false))
        .delete("/api/v1/fleets/{name}", (req, res) -> {
          String actor = a.auth(req, "fleet:write");
          a.store.deleteFleet(actor, req.path().pathParameters().get("name"));
          ctx.controller().wake();
          res.status(204).send();
        })
        .get("/api/v1/fleets/{name}/devices", (req, res) -> {
          a.auth(req, "fleet:read");
          String n = req.path().pathParameters().get("name");
          if (a.store.fleet(n).isEmpty()) throw new HttpError(404, "fleet " + n + " does not exist");
          Json.send(res, 200, a.store.devices(null, n, null, a.intParam(req, "limit", 1000), a.intParam(req, "offset", 0)));
        })
        .get("/api/v1/enrollment-tokens", (req, res) -> {
          a.auth(req, "devices:approve");
          Json.send(res, 200, a.store.enrollmentTokens().stream().map(t -> t.info(null)).toList());
        })
        .post("/api/v1/enrollment-tokens", a::createEnrollmentToken)
        .delete("/api/v1/enrollment-tokens/{id}", (req, res) -> {
          String actor = a.auth(req, "devices:approve");
          a.store.revokeEnrollmentToken(actor, req.path().pathParameters().get("id"));
          res.status(204).send();
        })
        .get("/api/v1/admin-tokens", (req, res) -> {
          a.auth(req, "admin");
          Json.send(res, 200, a.store.adminTokens().stream().map(AdminTokenRecord::info).toList());
        })
        .post("/api/v1/admin-tokens", a::createAdminToken)
        .delete("/api/v1/admin-tokens/{id}", (req, res) -> {
          String actor = a.auth(req, "admin");
          a.store.revokeAdminToken(actor, req.path().pathParameters().get("id"));
          res.status(204).send();
        })
        .get("/api/v1/audit", (req, res) -> {
          a.auth(req, "admin");
          Json.send(res, 200, a.store.audit(a.intParam(req, "limit", 100), a.intParam(req, "before", 0)));
        });
  }

  private static byte[] openapi() {
    try (InputStream in = AdminApi.class.getResourceAsStream(OPENAPI_RESOURCE)) {
      if (in == null) throw new IllegalStateException(OPENAPI_RESOURCE + " is missing from the class path");
      return in.readAllBytes();
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  /** Checks the bearer token and its scope; returns the actor name for the audit log. */
  String auth(ServerRequest req, String scope) {
    String h = req.headers().first(HeaderNames.AUTHORIZATION).orElse(null);
    if (h == null || !h.regionMatches(true, 0, "Bearer ", 0, 7)) {
      throw new HttpError(401, "missing bearer token (Authorization: Bearer bst_...)");
    }
    String token = h.substring(7).strip();
    AdminTokenRecord t = token.startsWith(Tokens.ADMIN_PREFIX) ? store.adminTokenByHash(Tokens.hash(token)).orElse(null) : null;
    if (t == null || t.revoked() || (t.expiresAt() != null && !t.expiresAt().isAfter(store.now()))) {
      throw new HttpError(401, "bearer token is not valid (unknown, revoked or expired)");
    }
    if (!t.scopes().contains(scope) && !t.scopes().contains("admin")) {
      throw new HttpError(403, "token " + t.name() + " lacks scope " + scope + " (has " + t.scopes() + ")");
    }
    return "token:" + t.name();
  }

  int intParam(ServerRequest req, String name, int dflt) {
    String v = req.query().first(name).orElse(null);
    if (v == null) return dflt;
    try {
      int i = Integer.parseInt(v);
      if (i < 0) throw new NumberFormatException();
      return i;
    } catch (NumberFormatException e) {
      throw new HttpError(400, "query parameter " + name + " must be a whole number >= 0, got '" + v + "'");
    }
  }

  private void listDevices(ServerRequest req, ServerResponse res) {
    auth(req, "fleet:read");
    DeviceState state = req.query().first("state").map(DeviceState::ofWireName).orElse(null);
    String fleet = req.query().first("fleet").orElse(null);
    LabelSelector sel = req.query().first("selector").map(LabelSelector::parse).orElse(null);
    Json.send(res, 200, store.devices(state, fleet, sel, intParam(req, "limit", 1000), intParam(req, "offset", 0)));
  }

  private DeviceInfo device(String id) {
    Store.DeviceRecord d = store.device(id).orElseThrow(() -> new HttpError(404, "device " + id + " does not exist"));
    if (d.info().state() == DeviceState.DECOMMISSIONED) throw new HttpError(410, "device " + id + " was decommissioned");
    return d.info();
  }

  private void getDevice(ServerRequest req, ServerResponse res) {
    auth(req, "fleet:read");
    Json.send(res, 200, device(req.path().pathParameters().get("id")));
  }

  private void updateDevice(ServerRequest req, ServerResponse res) {
    String actor = auth(req, "fleet:write");
    String id = req.path().pathParameters().get("id");
    DeviceUpdate u = Json.read(req, DeviceUpdate.class, ctx.maxBodyBytes());
    if (u.labels() != null) LabelSelector.checkLabels(u.labels());
    DeviceInfo d = store.updateDevice(actor, id, u.name(), u.labels(), (h, labels) -> {
      Membership.requireDisjoint(store.selectors(h), Map.of(id, labels));
    });
    ctx.controller().wake();
    Json.send(res, 200, d);
  }

  private void approve(ServerRequest req, ServerResponse res) {
    String actor = auth(req, "devices:approve");
    String id = req.path().pathParameters().get("id");
    DeviceInfo d = store.approve(actor, id, csr -> ctx.ca().issueDevice(id, csr, store.now(), ctx.certificateValidity()));
    ctx.controller().wake();
    Json.send(res, 200, d);
  }

  private void revoke(ServerRequest req, ServerResponse res) {
    String actor = auth(req, "devices:approve");
    DeviceInfo d = store.revoke(actor, req.path().pathParameters().get("id"));
    ctx.waiters().changed(List.of(d.id())); // its waiting poll re-checks the certificate and ends
    ctx.controller().wake();
    Json.send(res, 200, d);
  }

  private void decommission(ServerRequest req, ServerResponse res) {
    String actor = auth(req, "devices:approve");
    String id = req.path().pathParameters().get("id");
    store.decommission(actor, id);
    ctx.waiters().changed(List.of(id));
    ctx.controller().wake();
    res.status(204).send();
  }

  private void putFleet(ServerRequest req, ServerResponse res, boolean create) {
    String actor = auth(req, "fleet:write");
    FleetSpec spec = Json.read(req, FleetSpec.class, ctx.maxBodyBytes());
    if (!create) {
      String name = req.path().pathParameters().get("name");
      if (!name.equals(spec.name())) throw new HttpError(400, "fleet name in the body (" + spec.name() + ") differs from the URL (" + name + ")");
    }
    var f = store.putFleet(actor, spec, create, h -> Membership.requireDisjoint(store.selectors(h), store.memberCandidates(h)));
    ctx.controller().wake();
    Json.send(res, create ? 201 : 200, f);
  }

  private void createEnrollmentToken(ServerRequest req, ServerResponse res) {
    String actor = auth(req, "devices:approve");
    EnrollmentTokenRequest r = Json.read(req, EnrollmentTokenRequest.class, ctx.maxBodyBytes());
    String secret = Tokens.secret(Tokens.ENROLLMENT_PREFIX);
    var t = store.createEnrollmentToken(actor, Tokens.id("et-"), r.name(), r.labels(), r.autoApprove(), r.expiresAt(),
        r.maxUses(), Tokens.hash(secret));
    Json.send(res, 201, t.info(secret));
  }

  private void createAdminToken(ServerRequest req, ServerResponse res) {
    String actor = auth(req, "admin");
    AdminTokenRequest r = Json.read(req, AdminTokenRequest.class, ctx.maxBodyBytes());
    String secret = Tokens.secret(Tokens.ADMIN_PREFIX);
    AdminTokenRecord t = store.createAdminToken(actor, Tokens.id("at-"), r.name(), r.scopes(), Tokens.hash(secret), r.expiresAt());
    AdminTokenInfo i = t.info();
    Json.send(res, 201, new AdminTokenInfo(i.id(), i.name(), i.scopes(), i.createdAt(), i.expiresAt(), secret));
  }
}

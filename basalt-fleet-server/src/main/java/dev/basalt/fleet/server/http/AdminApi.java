package dev.basalt.fleet.server.http;

import dev.basalt.api.fleet.AdminTokenInfo;
import dev.basalt.api.fleet.AdminTokenRequest;
import dev.basalt.api.fleet.DeviceInfo;
import dev.basalt.api.fleet.DeviceState;
import dev.basalt.api.fleet.DeviceUpdate;
import dev.basalt.api.fleet.EnrollmentTokenRequest;
import dev.basalt.api.fleet.FleetSpec;
import dev.basalt.api.fleet.LabelSelector;
import dev.basalt.api.fleet.FleetInfo;
import dev.basalt.api.fleet.RolloutAction;
import dev.basalt.api.fleet.RolloutRequest;
import dev.basalt.api.fleet.SignatureRequirement;
import dev.basalt.fleet.server.controller.Membership;
import dev.basalt.fleet.server.controller.Rollouts;
import dev.basalt.fleet.server.rollout.ImageTarget;
import dev.basalt.fleet.server.rollout.RolloutPolicy;
import dev.basalt.fleet.server.store.RolloutStore;
import dev.basalt.fleet.server.store.RolloutStore.RolloutRecord;
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
        .get("/api/v1/fleets/{name}/rollouts", a::listRollouts)
        .post("/api/v1/fleets/{name}/rollouts", a::startRollout)
        .get("/api/v1/rollouts/{id}", (req, res) -> {
          a.auth(req, "fleet:read");
          Json.send(res, 200, Rollouts.info(a.rollout(req)));
        })
        .get("/api/v1/rollouts/{id}/events", a::rolloutEvents)
        .post("/api/v1/rollouts/{id}/pause", (req, res) -> a.act(req, res, Rollouts.Action.PAUSE))
        .post("/api/v1/rollouts/{id}/resume", (req, res) -> a.act(req, res, Rollouts.Action.RESUME))
        .post("/api/v1/rollouts/{id}/approve", (req, res) -> a.act(req, res, Rollouts.Action.APPROVE))
        .post("/api/v1/rollouts/{id}/revert", (req, res) -> a.act(req, res, Rollouts.Action.REVERT))
        .post("/api/v1/rollouts/{id}/abort", (req, res) -> a.act(req, res, Rollouts.Action.ABORT))
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

  /**
   * Creates or replaces a fleet. A target to be set is checked against the fleet's signature requirement first (422).
   * Changing the target of a fleet that has a policy starts a rollout to it (the fleet keeps its old target until
   * the rollout succeeds); without a policy the new target is assigned at once. Either is refused (409) while a
   * rollout is active.
   */
  private void putFleet(ServerRequest req, ServerResponse res, boolean create) {
    String actor = auth(req, "fleet:write");
    FleetSpec spec = Json.read(req, FleetSpec.class, ctx.maxBodyBytes());
    if (!create) {
      String name = req.path().pathParameters().get("name");
      if (!name.equals(spec.name())) throw new HttpError(400, "fleet name in the body (" + spec.name() + ") differs from the URL (" + name + ")");
    }
    RolloutPolicy policy = spec.policy() == null ? null : RolloutStore.policy(spec.policy());
    if (spec.signatures() != null) ctx.signatures().policies(spec.name(), spec.signatures());
    FleetInfo old = create ? null : store.fleet(spec.name()).orElse(null);
    boolean retarget = spec.targetDigest() != null && (old == null || !spec.targetDigest().equals(old.spec().targetDigest()));
    if (retarget) verify(spec.name(), spec.signatures(), spec.targetRef(), spec.targetDigest());
    boolean viaRollout = retarget && old != null && policy != null && old.spec().targetDigest() != null;
    FleetSpec stored = viaRollout ? spec.withTarget(old.spec().targetRef(), old.spec().targetDigest()) : spec;
    List<String> changed = new java.util.ArrayList<>();
    var f = store.putFleet(actor, stored, create, h -> {
      Membership.requireDisjoint(store.selectors(h), store.memberCandidates(h));
      if (!create && retarget) {
        ctx.rollouts().store().active(h, spec.name()).ifPresent(r -> {
          if (!viaRollout) {
            throw new HttpError(409, "fleet " + spec.name() + " has an active rollout " + r.id() + " (" + r.state().phase()
                + "); abort it before setting another target");
          }
        });
      }
      if (viaRollout) {
        FleetInfo now = store.fleet(h, spec.name()).orElseThrow();
        changed.addAll(ctx.rollouts().start(h, actor, now, new ImageTarget(spec.targetRef(), spec.targetDigest()), policy)
            .changedDevices());
      }
    });
    if (!changed.isEmpty()) ctx.waiters().changed(changed);
    ctx.controller().wake();
    Json.send(res, create ? 201 : 200, f);
  }

  /** 422 naming the digest and the reason when the target does not satisfy the fleet's signature requirement. */
  private void verify(String fleet, SignatureRequirement req, String ref, String digest) {
    ctx.signatures().refusal(fleet, req, ref, digest).ifPresent(why -> {
      throw new HttpError(422, why);
    });
  }

  private RolloutRecord rollout(ServerRequest req) {
    String id = req.path().pathParameters().get("id");
    return ctx.rollouts().store().rollout(id).orElseThrow(() -> new HttpError(404, "rollout " + id + " does not exist"));
  }

  private FleetInfo fleetOr404(ServerRequest req) {
    String n = req.path().pathParameters().get("name");
    return store.fleet(n).orElseThrow(() -> new HttpError(404, "fleet " + n + " does not exist"));
  }

  private void listRollouts(ServerRequest req, ServerResponse res) {
    auth(req, "fleet:read");
    FleetInfo f = fleetOr404(req);
    Json.send(res, 200, ctx.rollouts().store().rollouts(f.spec().name(), intParam(req, "limit", 100)).stream()
        .map(Rollouts::info).toList());
  }

  private void startRollout(ServerRequest req, ServerResponse res) {
    String actor = auth(req, "fleet:write");
    FleetInfo f = fleetOr404(req);
    RolloutRequest r = Json.read(req, RolloutRequest.class, ctx.maxBodyBytes());
    RolloutPolicy policy = Rollouts.policyFor(f, r.policy());
    verify(f.spec().name(), f.spec().signatures(), r.targetRef(), r.targetDigest());
    Rollouts.Outcome o = store.inTransaction(h -> {
      FleetInfo now = store.fleet(h, f.spec().name()).orElseThrow(() -> new HttpError(404, "fleet " + f.spec().name() + " does not exist"));
      return ctx.rollouts().start(h, actor, now, new ImageTarget(r.targetRef(), r.targetDigest()), policy);
    });
    ctx.waiters().changed(o.changedDevices());
    ctx.controller().wake();
    Json.send(res, 201, Rollouts.info(o.rollout()));
  }

  private void rolloutEvents(ServerRequest req, ServerResponse res) {
    auth(req, "fleet:read");
    RolloutRecord r = rollout(req);
    int limit = intParam(req, "limit", 1000);
    if (limit < 1 || limit > 10000) throw new HttpError(400, "query parameter limit must be 1..10000, got " + limit);
    String after = req.query().first("after").orElse("0");
    long seq;
    try {
      seq = Long.parseLong(after);
      if (seq < 0) throw new NumberFormatException();
    } catch (NumberFormatException e) {
      throw new HttpError(400, "query parameter after must be an event seq >= 0, got '" + after + "'");
    }
    Json.send(res, 200, ctx.rollouts().store().events(r.id(), seq, limit).stream().map(Rollouts::info).toList());
  }

  private void act(ServerRequest req, ServerResponse res, Rollouts.Action action) {
    String actor = auth(req, "fleet:write");
    String id = req.path().pathParameters().get("id");
    RolloutAction body = req.content().hasEntity() ? Json.readOptional(req, RolloutAction.class, ctx.maxBodyBytes()) : null;
    Rollouts.Outcome o = ctx.rollouts().act(actor, id, action, body);
    ctx.waiters().changed(o.changedDevices());
    ctx.controller().wake();
    Json.send(res, 200, Rollouts.info(o.rollout()));
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

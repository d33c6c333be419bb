package dev.basalt.fleet.server.web;

import dev.basalt.fleet.server.http.ServerContext;
import dev.basalt.fleet.server.identity.EnrollmentLimiter;
import dev.basalt.fleet.server.identity.Tokens;
import dev.basalt.fleet.server.store.Store;
import dev.basalt.fleet.server.store.Store.AdminTokenRecord;
import dev.basalt.fleet.server.store.StoreException;
import io.helidon.http.HeaderNames;
import io.helidon.http.Status;
import io.helidon.webserver.http.Handler;
import io.helidon.webserver.http.HttpRouting;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;
import java.io.IOException;
import java.io.InputStream;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The fleet web UI on the plain listener: server-rendered pages at {@code /}, a little JS and CSS under
 * {@code /static/}, a live rollout view over SSE.
 *
 * <p>Login takes an admin token; the browser then holds only an HttpOnly, SameSite=Strict cookie with a random
 * server-side session id. Every request re-checks the token behind the session (revoked or expired: back to login)
 * and its scopes: pages need {@code fleet:read}, approving or rejecting a device {@code devices:approve}. Each POST
 * form carries the session's CSRF token, and a cross-origin {@code Origin} is refused.
 */
public final class FleetUi {
  /** Name of the session cookie. */
  public static final String COOKIE = "basalt_ui";
  static final String READ = "fleet:read";
  static final String APPROVE = "devices:approve";
  private static final System.Logger LOG = System.getLogger(FleetUi.class.getName());
  private static final int MAX_FORM_BYTES = 16 * 1024;
  private static final String CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:;"
      + " connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

  private final ServerContext ctx;
  private final Store store;
  private final Sessions sessions;
  private final EnrollmentLimiter loginLimiter = new EnrollmentLimiter(10, Duration.ofMinutes(1), Clock.systemUTC());
  private final Pages pages;
  private final RolloutStream stream;
  private final Assets assets = new Assets();

  private FleetUi(ServerContext ctx) {
    this.ctx = ctx;
    this.store = ctx.store();
    this.sessions = new Sessions(store::now, Duration.ofHours(8), Duration.ofHours(24));
    this.pages = new Pages(store, ctx.rollouts().store(), new WebQueries(store));
    this.stream = new RolloutStream(ctx.rollouts().store(), this::viewer);
  }

  /** Mounts the UI routes on the plain listener's routing (the admin API's paths stay untouched). */
  public static void register(HttpRouting.Builder routing, ServerContext ctx) {
    FleetUi ui = new FleetUi(ctx);
    routing.get("/static/{file}", ui.assets::serve)
        .get("/login", ui::loginPage)
        .post("/login", ui::login)
        .post("/logout", ui::logout)
        .get("/", ui.page(READ, ui.pages::fleets))
        .get("/fleets/{name}", ui.page(READ, ui.pages::fleet))
        .get("/versions", ui.page(READ, ui.pages::versions))
        .get("/rollouts", ui.page(READ, ui.pages::rollouts))
        .get("/rollouts/{id}", ui.page(READ, ui.pages::rollout))
        .get("/rollouts/{id}/stream", ui.stream::handle)
        .get("/devices", ui.page(READ, ui.pages::devices))
        .get("/devices/{id}", ui.page(READ, ui.pages::device))
        .get("/enrollments", ui.page(READ, ui.pages::enrollments))
        .post("/devices/{id}/approve", ui.action(APPROVE, ui::approve))
        .post("/devices/{id}/reject", ui.action(APPROVE, ui::reject));
  }

  /** Who is looking: a live session and the admin token behind it. */
  record Viewer(Sessions.Session session, AdminTokenRecord token) {
    boolean can(String scope) {
      return token.scopes().contains(scope) || token.scopes().contains("admin");
    }

    /** The audit log's actor, the same as through the API. */
    String actor() {
      return "token:" + token.name();
    }
  }

  /** An answer with a status and a message for the operator (never a secret). */
  static final class UiError extends RuntimeException {
    private static final long serialVersionUID = 1L;
    final int status;

    UiError(int status, String message) {
      super(message, null, false, false);
      this.status = status;
    }
  }

  interface PageHandler {
    String render(ServerRequest req, Viewer v);
  }

  interface ActionHandler {
    /** Does the change; returns where to go next (a local path). */
    String run(ServerRequest req, Viewer v, Map<String, String> form);
  }

  Optional<Viewer> viewer(ServerRequest req) {
    String id = req.headers().cookies().first(COOKIE).orElse(null);
    Sessions.Session s = sessions.find(id).orElse(null);
    if (s == null) return Optional.empty();
    AdminTokenRecord t = store.adminTokenByHash(s.tokenHash()).orElse(null);
    if (t == null || t.revoked() || (t.expiresAt() != null && !t.expiresAt().isAfter(store.now()))) {
      sessions.remove(s.id());
      return Optional.empty();
    }
    return Optional.of(new Viewer(s, t));
  }

  private Handler page(String scope, PageHandler p) {
    return (req, res) -> {
      Viewer v = null;
      try {
        v = viewer(req).orElse(null);
        if (v == null) {
          toLogin(req, res);
          return;
        }
        if (!v.can(scope)) throw new UiError(403, "token " + v.token().name() + " lacks scope " + scope);
        html(res, 200, p.render(req, v));
      } catch (RuntimeException e) {
        error(req, res, v, e);
      }
    };
  }

  private Handler action(String scope, ActionHandler a) {
    return (req, res) -> {
      Viewer v = null;
      try {
        v = viewer(req).orElse(null);
        if (v == null) {
          redirect(res, "/login");
          return;
        }
        checkOrigin(req);
        Map<String, String> form = form(req);
        if (!Sessions.csrfMatches(v.session(), form.get("csrf"))) {
          throw new UiError(403, "the form's CSRF token is missing or stale: reload the page and try again");
        }
        if (!v.can(scope)) throw new UiError(403, "token " + v.token().name() + " lacks scope " + scope);
        redirect(res, a.run(req, v, form));
      } catch (RuntimeException e) {
        error(req, res, v, e);
      }
    };
  }

  private void error(ServerRequest req, ServerResponse res, Viewer v, RuntimeException e) {
    int status;
    String msg;
    if (e instanceof UiError u) {
      status = u.status;
      msg = u.getMessage();
    } else if (e instanceof StoreException s) {
      status = switch (s.kind()) {
        case NOT_FOUND -> 404;
        case GONE -> 410;
        case CONFLICT -> 409;
        case INVALID -> 400;
      };
      msg = s.getMessage();
    } else if (e instanceof IllegalArgumentException) {
      status = 400;
      msg = e.getMessage();
    } else {
      // The text may quote request data: log the type and route only.
      LOG.log(System.Logger.Level.ERROR, "UI error on " + req.prologue().method().text() + " "
          + req.matchingPattern().orElse("?") + ": " + e.getClass().getName());
      status = 500;
      msg = "internal server error";
    }
    html(res, status, pages.error(v, status, msg));
  }

  static void html(ServerResponse res, int status, String body) {
    res.status(Status.create(status));
    securityHeaders(res);
    res.header("Content-Type", "text/html; charset=utf-8");
    res.send(body.getBytes(StandardCharsets.UTF_8));
  }

  static void securityHeaders(ServerResponse res) {
    res.header("Content-Security-Policy", CSP);
    res.header("X-Content-Type-Options", "nosniff");
    res.header("X-Frame-Options", "DENY");
    res.header("Referrer-Policy", "same-origin");
    res.header("Cache-Control", "no-store");
  }

  static void redirect(ServerResponse res, String location) {
    res.status(Status.SEE_OTHER_303);
    res.header("Location", location);
    res.header("Cache-Control", "no-store");
    res.send();
  }

  private static void toLogin(ServerRequest req, ServerResponse res) {
    String target = req.path().rawPath();
    String q = req.query().rawValue();
    if (q != null && !q.isEmpty()) target += "?" + q;
    redirect(res, "/login?next=" + Html.seg(target));
  }

  /** A local path to go to after login; anything else (other hosts, schemes, "//x") becomes "/". */
  static String safeNext(String next) {
    if (next == null || !next.startsWith("/") || next.startsWith("//") || next.contains("\\") || next.startsWith("/login")) return "/";
    for (int i = 0; i < next.length(); i++) {
      if (next.charAt(i) < 0x21 || next.charAt(i) > 0x7e) return "/";
    }
    return next;
  }

  /** Refuses a POST whose Origin header names another site (SameSite cookies are the first line, this the second). */
  private static void checkOrigin(ServerRequest req) {
    String origin = req.headers().first(HeaderNames.ORIGIN).orElse(null);
    if (origin == null) return;
    String host = req.headers().first(HeaderNames.HOST).orElse("");
    if (!origin.equals("http://" + host) && !origin.equals("https://" + host)) {
      throw new UiError(403, "cross-origin form post refused (Origin " + origin + ")");
    }
  }

  static Map<String, String> form(ServerRequest req) {
    byte[] body;
    try (InputStream in = req.content().inputStream()) {
      body = in.readNBytes(MAX_FORM_BYTES + 1);
    } catch (IOException e) {
      throw new UiError(400, "cannot read the form: " + e.getMessage());
    }
    if (body.length > MAX_FORM_BYTES) throw new UiError(413, "form larger than " + MAX_FORM_BYTES + " bytes");
    Map<String, String> out = new HashMap<>();
    String s = new String(body, StandardCharsets.US_ASCII);
    if (s.isEmpty()) return out;
    for (String pair : s.split("&")) {
      int eq = pair.indexOf('=');
      String k = eq < 0 ? pair : pair.substring(0, eq);
      String v = eq < 0 ? "" : pair.substring(eq + 1);
      try {
        out.putIfAbsent(URLDecoder.decode(k, StandardCharsets.UTF_8), URLDecoder.decode(v, StandardCharsets.UTF_8));
      } catch (IllegalArgumentException e) {
        throw new UiError(400, "malformed form field '" + k + "'");
      }
    }
    return out;
  }

  // ---- login / logout

  private void loginPage(ServerRequest req, ServerResponse res) {
    String next = safeNext(req.query().first("next").orElse("/"));
    if (viewer(req).isPresent()) {
      redirect(res, next);
      return;
    }
    html(res, 200, pages.login(next, null));
  }

  private void login(ServerRequest req, ServerResponse res) {
    try {
      checkOrigin(req);
      Map<String, String> f = form(req);
      String next = safeNext(f.get("next"));
      String source = req.remotePeer().host();
      long blocked = loginLimiter.blockedForSeconds(source);
      if (blocked > 0) {
        res.header("Retry-After", Long.toString(blocked));
        html(res, 429, pages.login(next, "Too many failed sign-ins from this address; try again in " + blocked + " s."));
        return;
      }
      String token = f.getOrDefault("token", "").strip();
      AdminTokenRecord t = token.startsWith(Tokens.ADMIN_PREFIX) ? store.adminTokenByHash(Tokens.hash(token)).orElse(null) : null;
      if (t == null || t.revoked() || (t.expiresAt() != null && !t.expiresAt().isAfter(store.now()))) {
        loginLimiter.failed(source);
        html(res, 401, pages.login(next, "That token is not valid (unknown, revoked or expired)."));
        return;
      }
      // A fresh id on every login: a session id planted before login is never promoted.
      sessions.remove(req.headers().cookies().first(COOKIE).orElse(null));
      Sessions.Session s = sessions.create(Tokens.hash(token));
      res.header("Set-Cookie", COOKIE + "=" + s.id() + "; Path=/; HttpOnly; SameSite=Strict"
          + (req.isSecure() ? "; Secure" : ""));
      redirect(res, next);
    } catch (RuntimeException e) {
      error(req, res, null, e);
    }
  }

  private void logout(ServerRequest req, ServerResponse res) {
    try {
      checkOrigin(req);
      Viewer v = viewer(req).orElse(null);
      if (v != null) {
        if (!Sessions.csrfMatches(v.session(), form(req).get("csrf"))) throw new UiError(403, "the form's CSRF token is missing or stale");
        sessions.remove(v.session().id());
      }
      res.header("Set-Cookie", COOKIE + "=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0");
      redirect(res, "/login");
    } catch (RuntimeException e) {
      error(req, res, null, e);
    }
  }

  // ---- device actions

  private String approve(ServerRequest req, Viewer v, Map<String, String> form) {
    String id = req.path().pathParameters().get("id");
    store.approve(v.actor(), id, csr -> ctx.ca().issueDevice(id, csr, store.now(), ctx.certificateValidity()));
    ctx.controller().wake();
    return "/enrollments?approved=" + Html.seg(id);
  }

  private String reject(ServerRequest req, Viewer v, Map<String, String> form) {
    String id = req.path().pathParameters().get("id");
    var d = store.device(id).orElseThrow(() -> new UiError(404, "device " + id + " does not exist"));
    if (d.info().state() != dev.basalt.api.fleet.DeviceState.PENDING) {
      throw new UiError(409, "device " + id + " is " + d.info().state().wireName() + ", not pending: revoke it through the API");
    }
    store.revoke(v.actor(), id);
    ctx.waiters().changed(List.of(id));
    ctx.controller().wake();
    return "/enrollments?rejected=" + Html.seg(id);
  }
}

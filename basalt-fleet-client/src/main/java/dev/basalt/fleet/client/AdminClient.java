package dev.basalt.fleet.client;

import dev.basalt.api.fleet.AdminTokenInfo;
import dev.basalt.api.fleet.AdminTokenRequest;
import dev.basalt.api.fleet.AuditEntry;
import dev.basalt.api.fleet.DeviceInfo;
import dev.basalt.api.fleet.DeviceState;
import dev.basalt.api.fleet.DeviceUpdate;
import dev.basalt.api.fleet.EnrollmentTokenInfo;
import dev.basalt.api.fleet.EnrollmentTokenRequest;
import dev.basalt.api.fleet.FleetInfo;
import dev.basalt.api.fleet.FleetSpec;
import dev.basalt.api.fleet.RolloutAction;
import dev.basalt.api.fleet.RolloutEventInfo;
import dev.basalt.api.fleet.RolloutInfo;
import dev.basalt.api.fleet.RolloutRequest;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import tools.jackson.core.type.TypeReference;

/**
 * Typed client of the fleet server's admin API ({@code /api/v1}, bearer token). Every method throws
 * {@link FleetClientException} with the server's status and message on an error answer.
 */
public final class AdminClient {
  private final URI base;
  private final String token;
  private final HttpClient http;
  private final Duration timeout;

  /**
   * @param baseUrl the admin listener, e.g. {@code http://fleet.example:8080}
   * @param token an admin token {@code bst_...}
   */
  public AdminClient(URI baseUrl, String token) {
    this.base = Objects.requireNonNull(baseUrl, "baseUrl");
    this.token = Objects.requireNonNull(token, "token");
    this.timeout = Duration.ofSeconds(30);
    this.http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(10)).build();
  }

  private HttpRequest.Builder req(String path) {
    return Http.request(base, path, timeout).header("Authorization", "Bearer " + token);
  }

  private HttpResponse<byte[]> send(HttpRequest r) throws FleetClientException {
    return Http.send(http, r);
  }

  private HttpResponse<byte[]> get(String path) throws FleetClientException {
    return send(req(path).GET().build());
  }

  private HttpResponse<byte[]> post(String path, Object body) throws FleetClientException {
    return send(req(path).header("Content-Type", "application/json").POST(body == null ? HttpRequest.BodyPublishers.noBody() : Http.json(body)).build());
  }

  private HttpResponse<byte[]> method(String m, String path, Object body) throws FleetClientException {
    return send(req(path).header("Content-Type", "application/json").method(m, Http.json(body)).build());
  }

  private void delete(String path) throws FleetClientException {
    Http.check(send(req(path).DELETE().build()));
  }

  private static String enc(String s) {
    return URLEncoder.encode(s, StandardCharsets.UTF_8);
  }

  /** Devices, optionally filtered (null: any) by state, fleet and label selector. */
  public List<DeviceInfo> devices(DeviceState state, String fleet, String selector) throws FleetClientException {
    StringBuilder q = new StringBuilder("/api/v1/devices?limit=100000");
    if (state != null) q.append("&state=").append(state.wireName());
    if (fleet != null) q.append("&fleet=").append(enc(fleet));
    if (selector != null) q.append("&selector=").append(enc(selector));
    return Http.expect(get(q.toString()), new TypeReference<List<DeviceInfo>>() {});
  }

  public DeviceInfo device(String id) throws FleetClientException {
    return Http.expect(get("/api/v1/devices/" + enc(id)), DeviceInfo.class);
  }

  public DeviceInfo updateDevice(String id, DeviceUpdate update) throws FleetClientException {
    return Http.expect(method("PATCH", "/api/v1/devices/" + enc(id), update), DeviceInfo.class);
  }

  public DeviceInfo approve(String id) throws FleetClientException {
    return Http.expect(post("/api/v1/devices/" + enc(id) + "/approve", null), DeviceInfo.class);
  }

  public DeviceInfo revoke(String id) throws FleetClientException {
    return Http.expect(post("/api/v1/devices/" + enc(id) + "/revoke", null), DeviceInfo.class);
  }

  public void decommission(String id) throws FleetClientException {
    delete("/api/v1/devices/" + enc(id));
  }

  public List<FleetInfo> fleets() throws FleetClientException {
    return Http.expect(get("/api/v1/fleets"), new TypeReference<List<FleetInfo>>() {});
  }

  public FleetInfo fleet(String name) throws FleetClientException {
    return Http.expect(get("/api/v1/fleets/" + enc(name)), FleetInfo.class);
  }

  public FleetInfo createFleet(FleetSpec spec) throws FleetClientException {
    return Http.expect(post("/api/v1/fleets", spec), FleetInfo.class);
  }

  public FleetInfo updateFleet(FleetSpec spec) throws FleetClientException {
    return Http.expect(method("PUT", "/api/v1/fleets/" + enc(spec.name()), spec), FleetInfo.class);
  }

  public void deleteFleet(String name) throws FleetClientException {
    delete("/api/v1/fleets/" + enc(name));
  }

  public List<DeviceInfo> fleetDevices(String name) throws FleetClientException {
    return Http.expect(get("/api/v1/fleets/" + enc(name) + "/devices?limit=100000"), new TypeReference<List<DeviceInfo>>() {});
  }

  /** Creates an enrollment token; the secret is in {@link EnrollmentTokenInfo#token()} of this answer only. */
  public EnrollmentTokenInfo createEnrollmentToken(EnrollmentTokenRequest r) throws FleetClientException {
    return Http.expect(post("/api/v1/enrollment-tokens", r), EnrollmentTokenInfo.class);
  }

  public List<EnrollmentTokenInfo> enrollmentTokens() throws FleetClientException {
    return Http.expect(get("/api/v1/enrollment-tokens"), new TypeReference<List<EnrollmentTokenInfo>>() {});
  }

  public void revokeEnrollmentToken(String id) throws FleetClientException {
    delete("/api/v1/enrollment-tokens/" + enc(id));
  }

  /** Creates an admin token; the secret is in {@link AdminTokenInfo#token()} of this answer only. */
  public AdminTokenInfo createAdminToken(AdminTokenRequest r) throws FleetClientException {
    return Http.expect(post("/api/v1/admin-tokens", r), AdminTokenInfo.class);
  }

  public List<AdminTokenInfo> adminTokens() throws FleetClientException {
    return Http.expect(get("/api/v1/admin-tokens"), new TypeReference<List<AdminTokenInfo>>() {});
  }

  public void revokeAdminToken(String id) throws FleetClientException {
    delete("/api/v1/admin-tokens/" + enc(id));
  }

  /**
   * Starts a rollout of fleet {@code name} to the request's target (the fleet's current target is what a revert goes
   * back to). 409 when the fleet has an active rollout, 422 when the target's signatures do not satisfy the fleet.
   */
  public RolloutInfo startRollout(String fleet, RolloutRequest r) throws FleetClientException {
    return Http.expect(post("/api/v1/fleets/" + enc(fleet) + "/rollouts", r), RolloutInfo.class);
  }

  /** The fleet's rollouts, newest first. */
  public List<RolloutInfo> rollouts(String fleet) throws FleetClientException {
    return Http.expect(get("/api/v1/fleets/" + enc(fleet) + "/rollouts"), new TypeReference<List<RolloutInfo>>() {});
  }

  public RolloutInfo rollout(String id) throws FleetClientException {
    return Http.expect(get("/api/v1/rollouts/" + enc(id)), RolloutInfo.class);
  }

  /** Up to {@code limit} (1-10000) events with a seq above {@code afterSeq}, in order. */
  public List<RolloutEventInfo> rolloutEvents(String id, long afterSeq, int limit) throws FleetClientException {
    return Http.expect(get("/api/v1/rollouts/" + enc(id) + "/events?after=" + afterSeq + "&limit=" + limit),
        new TypeReference<List<RolloutEventInfo>>() {});
  }

  /** Every event of the rollout, in order (paged). */
  public List<RolloutEventInfo> rolloutEvents(String id) throws FleetClientException {
    List<RolloutEventInfo> all = new java.util.ArrayList<>();
    while (true) {
      List<RolloutEventInfo> page = rolloutEvents(id, all.isEmpty() ? 0 : all.getLast().seq(), 10000);
      all.addAll(page);
      if (page.size() < 10000) return all;
    }
  }

  private RolloutInfo act(String id, String action, RolloutAction body) throws FleetClientException {
    return Http.expect(post("/api/v1/rollouts/" + enc(id) + "/" + action, body), RolloutInfo.class);
  }

  public RolloutInfo pauseRollout(String id, String reason) throws FleetClientException {
    return act(id, "pause", new RolloutAction(reason, null));
  }

  public RolloutInfo resumeRollout(String id) throws FleetClientException {
    return act(id, "resume", null);
  }

  /** Approves {@code wave}, or the wave the rollout waits for when null. */
  public RolloutInfo approveRollout(String id, Integer wave) throws FleetClientException {
    return act(id, "approve", new RolloutAction(null, wave));
  }

  public RolloutInfo revertRollout(String id, String reason) throws FleetClientException {
    return act(id, "revert", new RolloutAction(reason, null));
  }

  public RolloutInfo abortRollout(String id, String reason) throws FleetClientException {
    return act(id, "abort", new RolloutAction(reason, null));
  }

  /** The newest {@code limit} audit rows with an id below {@code beforeId} (0: from the newest). */
  public List<AuditEntry> audit(int limit, long beforeId) throws FleetClientException {
    return Http.expect(get("/api/v1/audit?limit=" + limit + (beforeId > 0 ? "&before=" + beforeId : "")),
        new TypeReference<List<AuditEntry>>() {});
  }

  /** The fleet CA certificate, PEM. */
  public String caCertificate() throws FleetClientException {
    HttpResponse<byte[]> r = get("/api/v1/ca");
    Http.check(r);
    return new String(r.body(), StandardCharsets.US_ASCII);
  }
}

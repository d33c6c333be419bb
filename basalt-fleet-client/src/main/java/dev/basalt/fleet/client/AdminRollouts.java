package dev.basalt.fleet.client;

import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import tools.jackson.core.type.TypeReference;

/**
 * The rollout controls of the admin API: {@code GET /api/v1/fleets/{name}/rollout} and
 * {@code POST /api/v1/fleets/{name}/rollout/{pause|resume|abort|approve}}. The rollout engine lands on the server
 * separately; a server without it answers 404, which {@link #unsupported(FleetClientException)} recognizes.
 */
public final class AdminRollouts {
  /** The actions a rollout takes. */
  public static final Set<String> ACTIONS = Set.of("pause", "resume", "abort", "approve");

  private final URI base;
  private final String token;
  private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(10)).build();

  public AdminRollouts(URI baseUrl, String token) {
    this.base = Objects.requireNonNull(baseUrl, "baseUrl");
    this.token = Objects.requireNonNull(token, "token");
  }

  private String path(String fleet) {
    return "/api/v1/fleets/" + URLEncoder.encode(fleet, StandardCharsets.UTF_8) + "/rollout";
  }

  /** The fleet's rollout as the server shows it (JSON object). */
  public Map<String, Object> status(String fleet) throws FleetClientException {
    HttpResponse<byte[]> r = Http.send(http, Http.request(base, path(fleet), Duration.ofSeconds(30))
        .header("Authorization", "Bearer " + token).GET().build());
    return Http.expect(r, new TypeReference<Map<String, Object>>() {});
  }

  /** Pauses, resumes, aborts or approves (the next gated wave of) the fleet's rollout. */
  public Map<String, Object> act(String fleet, String action) throws FleetClientException {
    if (!ACTIONS.contains(action)) throw new IllegalArgumentException("rollout action must be one of " + ACTIONS + ", got " + action);
    HttpResponse<byte[]> r = Http.send(http, Http.request(base, path(fleet) + "/" + action, Duration.ofSeconds(30))
        .header("Authorization", "Bearer " + token).POST(HttpRequest.BodyPublishers.noBody()).build());
    return Http.expect(r, new TypeReference<Map<String, Object>>() {});
  }

  /** Whether {@code e} says the server has no rollout API (404 on the rollout path). */
  public static boolean unsupported(FleetClientException e) {
    return e.status() == 404 && !e.getMessage().contains("fleet ");
  }
}

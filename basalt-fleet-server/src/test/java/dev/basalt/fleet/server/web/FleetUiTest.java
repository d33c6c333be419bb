package dev.basalt.fleet.server.web;

import static org.assertj.core.api.Assertions.assertThat;

import dev.basalt.api.fleet.DeviceState;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The UI's HTTP contract without a browser: redirects, cookies, headers, CSRF, origin and scope checks, the stream. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class FleetUiTest {
  UiFleet fleet;
  final HttpClient http = HttpClient.newBuilder().followRedirects(HttpClient.Redirect.NEVER).connectTimeout(Duration.ofSeconds(5)).build();

  @BeforeAll
  void start(@TempDir Path dir) {
    fleet = new UiFleet(dir);
  }

  @AfterAll
  void stop() {
    fleet.close();
  }

  HttpResponse<String> get(String path, String cookie) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(fleet.base() + path)).timeout(Duration.ofSeconds(10));
    if (cookie != null) b.header("Cookie", cookie);
    return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  HttpResponse<String> post(String path, String cookie, String form, String origin) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(fleet.base() + path)).timeout(Duration.ofSeconds(10))
        .header("Content-Type", "application/x-www-form-urlencoded").POST(HttpRequest.BodyPublishers.ofString(form));
    if (cookie != null) b.header("Cookie", cookie);
    if (origin != null) b.header("Origin", origin);
    return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  /** Signs in; returns "basalt_ui=..." for the Cookie header. */
  String login(String token) throws Exception {
    HttpResponse<String> r = post("/login", null, "token=" + token + "&next=%2Fdevices", null);
    assertThat(r.statusCode()).isEqualTo(303);
    assertThat(r.headers().firstValue("Location")).hasValue("/devices");
    String set = r.headers().firstValue("Set-Cookie").orElseThrow();
    assertThat(set).contains("HttpOnly").contains("SameSite=Strict").contains("Path=/");
    return set.substring(0, set.indexOf(';'));
  }

  static String csrf(String html) {
    Matcher m = Pattern.compile("name=\"csrf\" value=\"([^\"]+)\"").matcher(html);
    assertThat(m.find()).as("page has a CSRF field").isTrue();
    return m.group(1);
  }

  @ParameterizedTest
  @ValueSource(strings = {"/", "/devices", "/versions", "/rollouts", "/enrollments", "/fleets/x", "/devices/d-x", "/rollouts/r"})
  void pagesWithoutSessionRedirectToLogin(String path) throws Exception {
    HttpResponse<String> r = get(path, null);
    assertThat(r.statusCode()).isEqualTo(303);
    assertThat(r.headers().firstValue("Location").orElseThrow()).startsWith("/login?next=" + Html.seg(path).substring(0, 3));
    assertThat(get(path, "basalt_ui=s_forged").statusCode()).as("unknown session id").isEqualTo(303);
  }

  @Test
  void pagesCarrySecurityHeadersAndTheLoginPageEscapesNext() throws Exception {
    HttpResponse<String> r = get("/login?next=%22%3E%3Cscript%3Ex()%3C/script%3E", null);
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.headers().firstValue("Content-Security-Policy").orElseThrow()).contains("script-src 'self'").doesNotContain("unsafe-inline");
    assertThat(r.headers().firstValue("X-Frame-Options")).hasValue("DENY");
    assertThat(r.body()).doesNotContain("<script>x()").contains("value=\"/\"");
    assertThat(get("/static/app.js", null).headers().firstValue("Content-Type").orElseThrow()).startsWith("text/javascript");
    assertThat(get("/static/openapi.yaml", null).statusCode()).as("only the UI's own files").isEqualTo(404);
    assertThat(get("/static/nope.js", null).statusCode()).isEqualTo(404);
  }

  @Test
  void openRedirectsAfterLoginAreRefused() {
    assertThat(FleetUi.safeNext("https://evil.example/")).isEqualTo("/");
    assertThat(FleetUi.safeNext("//evil.example/")).isEqualTo("/");
    assertThat(FleetUi.safeNext("/\\evil.example")).isEqualTo("/");
    assertThat(FleetUi.safeNext("/devices?q=a b")).isEqualTo("/");
    assertThat(FleetUi.safeNext("/devices?state=active")).isEqualTo("/devices?state=active");
  }

  @Test
  void badTokenIsRefusedAndRepeatedFailuresAreRateLimited() throws Exception {
    HttpResponse<String> r = post("/login", null, "token=bst_wrong", null);
    assertThat(r.statusCode()).isEqualTo(401);
    assertThat(r.headers().firstValue("Set-Cookie")).isEmpty();
    assertThat(r.body()).contains("not valid");
  }

  @Test
  void approveNeedsCsrfSameOriginAndScope() throws Exception {
    var device = fleet.device("kiosk-csrf", fleet.enrollmentToken(Map.of(), null)).build();
    CompletableFuture.runAsync(() -> {
      try {
        device.enroll(Duration.ofSeconds(3));
      } catch (Exception ignored) {
        // stays pending
      }
    });
    String id = null;
    for (int i = 0; i < 200 && id == null; i++) {
      id = fleet.admin.devices(DeviceState.PENDING, null, null).stream().filter(d -> d.name().equals("kiosk-csrf"))
          .map(d -> d.id()).findFirst().orElse(null);
      if (id == null) Thread.sleep(25);
    }
    assertThat(id).isNotNull();
    String admin = login(fleet.adminToken);
    String page = get("/enrollments", admin).body();
    assertThat(page).contains("kiosk-csrf");
    String csrf = csrf(page);

    assertThat(post("/devices/" + id + "/approve", admin, "", null).statusCode()).as("no CSRF token").isEqualTo(403);
    assertThat(post("/devices/" + id + "/approve", admin, "csrf=wrong", null).statusCode()).as("wrong CSRF token").isEqualTo(403);
    assertThat(post("/devices/" + id + "/approve", admin, "csrf=" + csrf, "http://evil.example").statusCode()).as("cross-origin").isEqualTo(403);
    String reader = login(fleet.token("reader-http", "fleet:read"));
    String readerCsrf = csrf(get("/enrollments", reader).body());
    HttpResponse<String> denied = post("/devices/" + id + "/approve", reader, "csrf=" + readerCsrf, null);
    assertThat(denied.statusCode()).isEqualTo(403);
    assertThat(denied.body()).contains("lacks scope devices:approve");
    assertThat(post("/devices/" + id + "/approve", null, "csrf=" + csrf, null).headers().firstValue("Location")).hasValue("/login");
    assertThat(fleet.admin.device(id).state()).isEqualTo(DeviceState.PENDING);

    HttpResponse<String> ok = post("/devices/" + id + "/reject", admin, "csrf=" + csrf, fleet.base());
    assertThat(ok.statusCode()).isEqualTo(303);
    assertThat(ok.headers().firstValue("Location")).hasValue("/enrollments?rejected=" + id);
    assertThat(fleet.admin.device(id).state()).isEqualTo(DeviceState.REVOKED);
    HttpResponse<String> again = post("/devices/" + id + "/approve", admin, "csrf=" + csrf, null);
    assertThat(again.statusCode()).isEqualTo(409);
    assertThat(again.body()).contains("not pending");
  }

  @Test
  void revokingTheTokenEndsItsSessionsAndLogoutForgetsTheSession() throws Exception {
    var info = fleet.admin.createAdminToken(new dev.basalt.api.fleet.AdminTokenRequest("short-lived", java.util.Set.of("fleet:read"), null));
    String cookie = login(info.token());
    assertThat(get("/", cookie).statusCode()).isEqualTo(200);
    fleet.admin.revokeAdminToken(info.id());
    assertThat(get("/", cookie).statusCode()).isEqualTo(303);

    String admin = login(fleet.adminToken);
    String csrf = csrf(get("/", admin).body());
    assertThat(post("/logout", admin, "csrf=" + csrf, null).statusCode()).isEqualTo(303);
    assertThat(get("/", admin).statusCode()).isEqualTo(303);
  }

  @Test
  void streamNeedsASessionAndAnswersForUnknownRollouts() throws Exception {
    assertThat(get("/rollouts/none/stream", null).statusCode()).isEqualTo(401);
    String admin = login(fleet.adminToken);
    assertThat(get("/rollouts/none/stream", admin).statusCode()).isEqualTo(404);
    assertThat(get("/rollouts/none", admin).statusCode()).isEqualTo(404);
  }
}

package dev.basalt.fleet.server.web;

import static org.assertj.core.api.Assertions.assertThat;

import dev.basalt.api.Deployment;
import dev.basalt.api.Health;
import dev.basalt.api.NodeStatus;
import dev.basalt.api.UpdatePhase;
import dev.basalt.api.fleet.DeviceInfo;
import dev.basalt.api.fleet.DeviceState;
import dev.basalt.api.fleet.FleetSpec;
import dev.basalt.api.fleet.StatusReport;
import dev.basalt.fleet.client.DeviceClient;
import dev.basalt.fleet.server.store.Store;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.By;
import org.openqa.selenium.Cookie;
import org.openqa.selenium.WebElement;

/** The web UI in a real headless Chromium against a real fleet server, devices enrolled by the real device client. */
@Tag("browser")
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class FleetUiBrowserTest {
  static final String D1 = "sha256:" + "1a".repeat(32);
  static final String D2 = "sha256:" + "2b".repeat(32);

  UiFleet fleet;
  Browser browser;

  @BeforeAll
  void start(@TempDir Path dir) throws Exception {
    fleet = new UiFleet(dir);
    browser = new Browser(Files.createDirectories(dir.resolve("chromium-profile")));
  }

  @AfterAll
  void stop() {
    if (browser != null) browser.close();
    if (fleet != null) fleet.close();
  }

  @BeforeEach
  void signedOut() {
    browser.open(fleet.base() + "/login");
    browser.driver.manage().deleteAllCookies();
  }

  void signIn(String token) {
    browser.open(fleet.base() + "/login");
    browser.driver.findElement(By.id("token")).sendKeys(token);
    browser.driver.findElement(By.id("sign-in")).click();
    browser.await("signed in", d -> d.manage().getCookieNamed(FleetUi.COOKIE) != null && !d.getCurrentUrl().contains("/login"));
  }

  String text(String css) {
    return browser.driver.findElement(By.cssSelector(css)).getText();
  }

  @Test
  void signInSetsAStrictHttpOnlySessionCookieAndReturnsToThePageAsked() {
    browser.open(fleet.base() + "/devices?state=active");
    assertThat(browser.driver.getCurrentUrl()).as("no session: the login page").contains("/login?next=");
    browser.driver.findElement(By.id("token")).sendKeys("bst_not-a-real-token-but-long-enough-to-look-like-one");
    browser.driver.findElement(By.id("sign-in")).click();
    assertThat(text(".alert")).contains("not valid");
    assertThat(browser.driver.manage().getCookieNamed(FleetUi.COOKIE)).isNull();

    browser.driver.findElement(By.id("token")).sendKeys(fleet.adminToken);
    browser.driver.findElement(By.id("sign-in")).click();
    browser.await("back on the devices page", d -> d.getCurrentUrl().endsWith("/devices?state=active"));
    Cookie c = browser.driver.manage().getCookieNamed(FleetUi.COOKIE);
    assertThat(c.isHttpOnly()).isTrue();
    assertThat(c.getSameSite()).isEqualTo("Strict");
    assertThat(c.getValue()).doesNotContain(fleet.adminToken.substring(4, 20));
    assertThat(browser.js("return document.cookie")).as("invisible to scripts").isEqualTo("");

    browser.driver.findElement(By.cssSelector(".who button")).click();
    browser.await("signed out", d -> d.getCurrentUrl().endsWith("/login"));
    browser.open(fleet.base() + "/");
    assertThat(browser.driver.getCurrentUrl()).contains("/login");
  }

  @Test
  void pendingDeviceIsApprovedByClickingAndGetsItsCertificate() throws Exception {
    DeviceClient c = fleet.device("kiosk-approve", fleet.enrollmentToken(Map.of("site", "lab"), null)).build();
    CompletableFuture<String> enrolled = CompletableFuture.supplyAsync(() -> {
      try {
        return c.enroll(Duration.ofSeconds(30));
      } catch (Exception e) {
        throw new RuntimeException(e);
      }
    });
    DeviceInfo pending = awaitDevice("kiosk-approve", DeviceState.PENDING);
    signIn(fleet.adminToken);
    browser.open(fleet.base() + "/enrollments");
    WebElement row = browser.driver.findElement(By.cssSelector("#pending tr[data-device='" + pending.id() + "']"));
    assertThat(row.getText()).contains("kiosk-approve").contains("site=lab");
    assertThat(text("#pending-count")).isEqualTo(Integer.toString(fleet.admin.devices(DeviceState.PENDING, null, null).size()));
    row.findElement(By.cssSelector("button[data-approve]")).click();

    browser.await("approval notice", d -> d.findElements(By.id("notice")).size() == 1);
    assertThat(text("#notice")).contains("Approved device").contains(pending.id());
    assertThat(browser.driver.findElements(By.cssSelector("tr[data-device='" + pending.id() + "']"))).as("no longer pending").isEmpty();
    assertThat(enrolled.get(20, TimeUnit.SECONDS)).isEqualTo(pending.id());
    assertThat(c.certificate().orElseThrow().getSubjectX500Principal().getName()).contains("CN=" + pending.id());
    assertThat(fleet.admin.device(pending.id()).state()).isEqualTo(DeviceState.ACTIVE);
    assertThat(fleet.admin.audit(20, 0)).anySatisfy(a -> {
      assertThat(a.action()).isEqualTo("device.approve");
      assertThat(a.object()).isEqualTo("device:" + pending.id());
      assertThat(a.actor()).isEqualTo("token:bootstrap");
    });
  }

  DeviceInfo awaitDevice(String name, DeviceState state) throws Exception {
    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
    while (System.nanoTime() < end) {
      for (DeviceInfo d : fleet.admin.devices(state, null, null)) if (d.name().equals(name)) return d;
      Thread.sleep(20);
    }
    throw new AssertionError("no " + state.wireName() + " device " + name + " appeared");
  }

  @Test
  void hostileDeviceNamesAndErrorsAreShownAsTextNeverRun() throws Exception {
    String evil = "<img src=x onerror=\"window.__xss=1\"><script>window.__xss=2</script>\"'&";
    DeviceClient c = fleet.device(evil, fleet.enrollmentToken(Map.of("site", "xss"), "")).build();
    String id = c.enroll(Duration.ofSeconds(20));
    NodeStatus s = new NodeStatus(new Deployment("r.example/os:1", D1, "ab".repeat(32), "a", 1, Instant.now(), Health.DEGRADED),
        null, null, List.of(), UpdatePhase.FAILED, "<b>boom</b><script>window.__xss=3</script>");
    c.report(new StatusReport(s, 0));
    signIn(fleet.adminToken);
    for (String page : List.of("/devices?q=xss", "/devices/" + id, "/devices?q=" + java.net.URLEncoder.encode(evil, "UTF-8"))) {
      browser.open(fleet.base() + page);
      assertThat(browser.driver.findElement(By.tagName("main")).getText()).as(page).contains(evil.substring(0, 20));
      assertThat(browser.js("return window.__xss === undefined")).as(page).isEqualTo(true);
      assertThat(browser.driver.findElements(By.cssSelector("main img, main b script, main script"))).as(page).isEmpty();
    }
    browser.open(fleet.base() + "/devices/" + id);
    assertThat(text("#device-name")).isEqualTo(evil);
    assertThat(browser.driver.getPageSource()).doesNotContain("<b>boom</b>");
    assertThat(browser.driver.findElement(By.tagName("main")).getText()).contains("<b>boom</b>");
  }

  @Test
  void withoutTheRightScopeThePagesAnswerForbiddenAndApproveIsRefused() throws Exception {
    String approveOnly = fleet.token("approver-only", "devices:approve");
    signIn(approveOnly);
    browser.open(fleet.base() + "/");
    assertThat(text("h1")).isEqualTo("403 Forbidden");
    assertThat(text(".alert")).contains("lacks scope fleet:read");

    DeviceClient c = fleet.device("kiosk-readonly", fleet.enrollmentToken(Map.of(), null)).build();
    CompletableFuture.runAsync(() -> {
      try {
        c.enroll(Duration.ofSeconds(5));
      } catch (Exception ignored) {
        // stays pending: this test never approves it
      }
    });
    DeviceInfo pending = awaitDevice("kiosk-readonly", DeviceState.PENDING);
    String reader = fleet.token("reader", "fleet:read");
    browser.driver.manage().deleteAllCookies();
    signIn(reader);
    browser.open(fleet.base() + "/enrollments");
    assertThat(browser.driver.findElements(By.cssSelector("tr[data-device='" + pending.id() + "']"))).hasSize(1);
    assertThat(browser.driver.findElements(By.cssSelector("button[data-approve]"))).as("no buttons without devices:approve").isEmpty();
    // A hand-made form with the reader's session (and a valid CSRF token) is still refused by scope.
    browser.js("var f = document.createElement('form'); f.method = 'post'; f.action = '/devices/' + arguments[0] + '/approve';"
        + "var i = document.createElement('input'); i.name = 'csrf'; i.value = document.querySelector('input[name=csrf]').value;"
        + "f.appendChild(i); document.body.appendChild(f); f.submit();", pending.id());
    browser.await("refused", d -> d.findElement(By.tagName("h1")).getText().startsWith("403"));
    assertThat(text(".alert")).contains("lacks scope devices:approve");
    assertThat(fleet.admin.device(pending.id()).state()).isEqualTo(DeviceState.PENDING);
  }

  static String state(String phase, int released, int succeeded, Map<String, Object> devices, String reason) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("id", "ro-live");
    m.put("phase", phase);
    m.put("target", Map.of("imageRef", "r.example/os:2", "digest", D2));
    m.put("previous", Map.of("imageRef", "r.example/os:1", "digest", D1));
    m.put("waveCount", 2);
    m.put("releasedWaves", released);
    m.put("succeededWaves", succeeded);
    m.put("approvedWaves", List.of());
    m.put("acknowledgedFailures", 0);
    m.put("devices", devices);
    m.put("windowOpen", true);
    m.put("eventSeq", 3);
    m.put("reason", reason);
    m.put("createdAt", "2026-05-01T09:59:00Z");
    return dev.basalt.api.ApiJson.write(m);
  }
}

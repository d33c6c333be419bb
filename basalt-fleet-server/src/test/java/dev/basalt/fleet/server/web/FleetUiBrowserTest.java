package dev.basalt.fleet.server.web;

import static org.assertj.core.api.Assertions.assertThat;

import dev.basalt.api.Deployment;
import dev.basalt.api.Health;
import dev.basalt.api.NodeStatus;
import dev.basalt.api.UpdatePhase;
import dev.basalt.api.fleet.DeviceInfo;
import dev.basalt.api.fleet.DeviceState;
import dev.basalt.api.fleet.FleetSpec;
import dev.basalt.api.fleet.RolloutEventInfo;
import dev.basalt.api.fleet.RolloutInfo;
import dev.basalt.api.fleet.RolloutRequest;
import dev.basalt.api.fleet.StatusReport;
import dev.basalt.fleet.client.DeviceClient;
import dev.basalt.fleet.client.simulate.Simulator;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
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

/**
 * The web UI in a real headless Chromium against a real fleet server: devices enrolled by the real device client or
 * the simulator, rollouts started and acted on through the admin API and stepped by the server's engine.
 */
@Tag("browser")
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class FleetUiBrowserTest {
  static final String D1 = "sha256:" + "1a".repeat(32);
  static final String D2 = "sha256:" + "2b".repeat(32);
  static final String D3 = "sha256:" + "3c".repeat(32);
  static final String D4 = "sha256:" + "4d".repeat(32);

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

  /** The rollout page while a real rollout runs: approved through the admin API, stepped by the engine, devices simulated. */
  @Test
  void rolloutPageFollowsARealRolloutLiveWithoutReloading() throws Exception {
    fleet.admin.createFleet(new FleetSpec("edge", "site=edge", "r.example/os@" + D3, null, null));
    // the first device to try the new digest fails its boot trial and falls back; every other one boots it
    AtomicReference<String> failer = new AtomicReference<>();
    try (Simulator sim = fleet.simulator(fleet.enrollmentToken(Map.of("site", "edge"), ""), 4).initialImage("r.example/os", D3)
        .failWhen((id, digest) -> digest.equals(D4) && (failer.compareAndSet(null, id) || id.equals(failer.get()))).build()) {
      sim.enroll();
      sim.start();
      Map<String, Object> policy = Map.of("batches", List.of("50%", "100%"), "approvalGates", List.of(0), "soak", "PT0S",
          "failureThreshold", 0.1, "failureAction", "PAUSE");
      RolloutInfo r = fleet.admin.startRollout("edge", new RolloutRequest("r.example/os", D4, policy));
      long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
      while (!fleet.admin.rollout(r.id()).phase().equals("WAITING_APPROVAL")) {
        assertThat(System.nanoTime()).as("the engine holds wave 0 at its gate").isLessThan(end);
        Thread.sleep(20);
      }
      signIn(fleet.adminToken);
      browser.open(fleet.base() + "/rollouts/" + r.id());
      browser.await("live", d -> d.findElement(By.id("live")).getText().equals("live"));
      assertThat(browser.driver.findElement(By.id("phase")).getAttribute("textContent")).isEqualTo("waiting approval");
      assertThat(text("[data-wave='0'][data-stage='WAITING']")).isEqualTo("2");
      assertThat(text("[data-total='WAITING']")).isEqualTo("4");
      assertThat(text("#events")).contains("PLANNED").contains("WAITING_APPROVAL");
      browser.js("window.__sameDocument = true;");
      int updates = updates();

      fleet.admin.approveRollout(r.id(), null);
      browser.await("phase paused", d -> d.findElement(By.id("phase")).getAttribute("textContent").equals("paused"));
      browser.await("wave 0 settled", d -> text("[data-wave='0'][data-stage='SUCCEEDED']").equals("1")
          && text("[data-wave='0'][data-stage='FAILED']").equals("1"));
      String bad = failer.get();
      assertThat(bad).isNotNull();
      assertThat(text("[data-wave='0'][data-field='status']")).isEqualTo("active");
      assertThat(text("[data-total='WAITING']")).as("wave 1 is not released").isEqualTo("2");
      RolloutInfo paused = fleet.admin.rollout(r.id());
      assertThat(paused.phase()).isEqualTo("PAUSED");
      assertThat(text("#reason")).isEqualTo(paused.reason()).isNotBlank();
      assertThat(browser.driver.findElement(By.id("phase")).getAttribute("class")).contains("b-warn");
      List<RolloutEventInfo> events = fleet.admin.rolloutEvents(r.id());
      browser.await("every event listed", d -> d.findElements(By.cssSelector("#events tbody tr")).size() == events.size());
      assertThat(text("#events tbody tr:first-child")).contains(events.getLast().type()).contains(events.getLast().message());
      assertThat(events).extracting(RolloutEventInfo::type).contains("APPROVED", "DEVICE_FAILED", "PAUSED");
      assertThat(browser.driver.findElement(By.cssSelector("#events a[href='/devices/" + bad + "']")).getText()).isEqualTo(bad);
      assertThat(browser.js("return window.__sameDocument === true")).as("updated in place, not reloaded").isEqualTo(true);
      assertThat(updates()).isGreaterThan(updates);

      fleet.admin.abortRollout(r.id(), "seen enough");
      browser.await("phase aborted", d -> d.findElement(By.id("phase")).getAttribute("textContent").equals("aborted"));
      assertThat(text("#reason")).isEqualTo("seen enough");
      browser.screenshot("rollout-live");

      // the failed device's history names the rollout's events about it
      browser.open(fleet.base() + "/devices/" + bad);
      assertThat(text("#history")).contains("DEVICE_FAILED").contains(r.id());
      assertThat(browser.driver.findElements(By.cssSelector("#history a[href='/rollouts/" + r.id() + "']"))).isNotEmpty();
    }
  }

  int updates() {
    return Integer.parseInt(String.valueOf(browser.js("return document.getElementById('rollout').getAttribute('data-updates') || '0'")));
  }

  @Test
  void fleetVersionAndRolloutPagesShowCountsAndAreScreenshotted() throws Exception {
    Map<String, Object> policy = Map.of("batches", List.of("20%", "100%"), "approvalGates", List.of(1));
    fleet.admin.createFleet(new FleetSpec("lab", "site=lab", "r.example/os@" + D1, null, policy));
    fleet.admin.createFleet(new FleetSpec("store", "site=store", "r.example/os@" + D1, null, null));
    String labToken = fleet.enrollmentToken(Map.of("site", "lab"), "");
    String storeToken = fleet.enrollmentToken(Map.of("site", "store"), "");
    Health[] health = {Health.HEALTHY, Health.HEALTHY, Health.DEGRADED, Health.HEALTHY, Health.UNHEALTHY};
    for (int i = 0; i < 5; i++) {
      DeviceClient c = fleet.device("lab-" + i, labToken).labels(Map.of("rack", "r" + (i % 2))).build();
      c.enroll(Duration.ofSeconds(20));
      String booted = i < 2 ? D3 : D1;
      c.report(new StatusReport(new NodeStatus(new Deployment("r.example/os:1", booted, "ab".repeat(32), i % 2 == 0 ? "a" : "b", 1,
          Instant.now(), health[i]), null, null, List.of(), i == 2 ? UpdatePhase.DOWNLOADING : UpdatePhase.IDLE, null), 1 << 20));
    }
    for (int i = 0; i < 3; i++) {
      DeviceClient c = fleet.device("store-" + i, storeToken).build();
      c.enroll(Duration.ofSeconds(20));
      c.report(new StatusReport(new NodeStatus(new Deployment("r.example/os:1", D1, "ab".repeat(32), "a", 1, Instant.now(), Health.HEALTHY),
          null, null, List.of(), UpdatePhase.IDLE, null), 0));
    }
    // a new target for a fleet with a policy starts a rollout (these devices do not follow it: it stays in wave 0)
    fleet.admin.updateFleet(new FleetSpec("lab", "site=lab", "r.example/os@" + D2, null, policy));
    RolloutInfo r = fleet.admin.rollouts("lab").getFirst();
    assertThat(r.phase()).isEqualTo("RUNNING");
    assertThat(r.waves()).extracting(RolloutInfo.Wave::devices).containsExactly(1, 4);
    signIn(fleet.adminToken);

    browser.open(fleet.base() + "/");
    WebElement lab = browser.driver.findElement(By.cssSelector("#fleets tr[data-fleet='lab']"));
    assertThat(lab.getText()).contains("5").contains("healthy 3").contains("degraded 1").contains("unhealthy 1").contains("running")
        .contains("0/2 waves done");
    assertThat(browser.driver.findElement(By.cssSelector("#fleets tr[data-fleet='store']")).getText()).contains("3 (100%)");
    browser.screenshot("fleets");
    new org.openqa.selenium.support.ui.Select(browser.driver.findElement(By.id("fleet-select"))).selectByVisibleText("lab");
    browser.await("fleet page", d -> d.getCurrentUrl().endsWith("/fleets/lab"));
    assertThat(text("#fleet-versions")).contains(D1.substring(7, 19)).contains(D3.substring(7, 19)).contains("target");
    assertThat(text("#rollouts")).contains(r.id()).contains("running");
    browser.screenshot("fleet-lab");

    browser.open(fleet.base() + "/versions");
    assertThat(text("#versions tbody tr:first-child")).startsWith(D1.substring(7, 19));
    browser.screenshot("versions");

    browser.open(fleet.base() + "/rollouts");
    assertThat(text("#rollouts")).contains(r.id()).contains("lab");
    browser.open(fleet.base() + "/rollouts/" + r.id());
    browser.await("live", d -> d.findElement(By.id("live")).getText().equals("live"));
    assertThat(text("[data-wave='1'][data-stage='WAITING']")).isEqualTo("4");
    assertThat(text("[data-wave='0'][data-field='status']")).isEqualTo("active");
    assertThat(text("[data-wave='1'][data-field='status']")).isEqualTo("waiting");
    assertThat(text("[data-wave='0'][data-stage='DOWNLOADING']")).as("download first; the device never stages it").isEqualTo("1");
    browser.screenshot("rollout");

    browser.open(fleet.base() + "/devices?fleet=lab");
    assertThat(text("#device-count")).isEqualTo("5 devices");
    browser.open(fleet.base() + "/devices?fleet=lab&health=unhealthy");
    assertThat(text("#device-count")).isEqualTo("1 device");
    assertThat(text("#devices tbody")).contains("lab-4");
    browser.open(fleet.base() + "/devices");
    browser.screenshot("devices");
  }
}

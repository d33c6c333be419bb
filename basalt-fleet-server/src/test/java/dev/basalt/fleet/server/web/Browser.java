package dev.basalt.fleet.server.web;

import dev.basalt.testkit.Tools;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.function.Function;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.support.ui.WebDriverWait;

/** Debian's headless Chromium driven through /usr/bin/chromedriver, with a fresh profile. */
final class Browser implements AutoCloseable {
  final ChromeDriver driver;

  Browser(Path profile) {
    Path chromium = Tools.require("chromium");
    Path chromedriver = Tools.require("chromedriver");
    ChromeDriverService service = new ChromeDriverService.Builder().usingDriverExecutable(chromedriver.toFile())
        .usingAnyFreePort().build();
    ChromeOptions o = new ChromeOptions();
    o.setBinary(chromium.toFile());
    o.addArguments("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
        "--window-size=1440,1000", "--user-data-dir=" + profile);
    driver = new ChromeDriver(service, o);
    driver.manage().timeouts().pageLoadTimeout(Duration.ofSeconds(20));
  }

  void open(String url) {
    driver.get(url);
  }

  <T> T await(String what, Function<WebDriver, T> condition) {
    return new WebDriverWait(driver, Duration.ofSeconds(15), Duration.ofMillis(50)).withMessage(what).until(condition);
  }

  Object js(String script, Object... args) {
    return driver.executeScript(script, args);
  }

  /** Saves a PNG of the viewport under target/ (the name says what) and returns its path. */
  Path screenshot(String name) throws Exception {
    byte[] png = driver.getScreenshotAs(OutputType.BYTES);
    Path dir = Path.of("target", "ui-screenshots");
    Files.createDirectories(dir);
    Path out = dir.resolve(name + ".png");
    Files.write(out, png);
    return out;
  }

  @Override
  public void close() {
    driver.quit();
  }
}

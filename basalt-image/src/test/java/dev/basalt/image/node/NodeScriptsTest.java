package dev.basalt.image.node;

import static org.assertj.core.api.Assertions.assertThat;

import dev.basalt.testkit.Tools;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The node layer's shell scripts, run by the host's {@code /bin/sh} (dash, as in the image) against
 * the layer materialized in a directory, with fake EFI variables and a fake ESP. The boot itself is
 * {@link NodeLayerBootTest}'s.
 */
class NodeScriptsTest {
  private static final String GUID = "4a67b082-0a4c-41cf-b6c7-440b29bb8c4f";

  @TempDir Path tmp;
  Path root;
  Path efivars;
  Path esp;

  @BeforeEach
  void materialize() throws IOException {
    root = tmp.resolve("root");
    DirectoryTreeSink sink = new DirectoryTreeSink(root);
    NodeLayer.builder().build().writeTo(sink);
    sink.finish();
    efivars = Files.createDirectories(tmp.resolve("efivars"));
    esp = Files.createDirectories(tmp.resolve("esp/loader/entries")).getParent().getParent();
  }

  @Test
  void everyScriptParses() {
    for (String s : List.of("preinit", "lib.sh", "health", "health-failed", "bless",
        "health.d/required.d/00-preinit", "health.d/required.d/10-mounts", "health.d/wanted.d/50-no-failed-units")) {
      Tools.Result r = Tools.run(List.of(Tools.require("sh").toString(), "-n", root.resolve("usr/lib/basalt/" + s).toString()));
      assertThat(r.exitCode()).as(s + ": " + r.stderr()).isZero();
    }
  }

  @ParameterizedTest
  @CsvSource({
      "basalt-00000001-a+3.conf,     3, basalt-00000001-a.conf",
      "basalt-00000002-b+2-1.conf,   2, basalt-00000002-b.conf",
      "basalt-00000002-b+0-3.conf,   0, basalt-00000002-b.conf",
      "basalt-00000001-a.conf,        , basalt-00000001-a.conf",
      "basalt-1+2-x.conf,             , basalt-1+2-x.conf"})
  void counterParsing(String name, String left, String blessed) {
    assertThat(lib("tries_left '" + name + "'")).isEqualTo(left == null ? "" : left);
    assertThat(lib("blessed_name '" + name + "'")).isEqualTo(blessed);
  }

  @Test
  void countedEntryDecodesTheLoaderVariable() throws IOException {
    assertThat(Tools.run(cmd("counted_entry")).exitCode()).as("no variable: not on trial").isNotZero();
    setBootCountPath("\\loader\\entries\\basalt-00000002-b+2-1.conf");
    assertThat(lib("counted_entry")).isEqualTo("loader/entries/basalt-00000002-b+2-1.conf");
  }

  @Test
  void blessDropsTheCounterOnce() throws IOException {
    setBootCountPath("\\loader\\entries\\basalt-00000002-b+2-1.conf");
    Files.writeString(esp.resolve("loader/entries/basalt-00000002-b+2-1.conf"), "title x\n");
    assertThat(script("bless").stdout()).contains("blessed basalt-00000002-b.conf (was basalt-00000002-b+2-1.conf)");
    assertThat(entries()).containsExactly("basalt-00000002-b.conf");
    Tools.Result again = script("bless");
    assertThat(again.exitCode()).isZero();
    assertThat(again.stdout()).contains("already blessed");
  }

  @Test
  void blessFailsWhenTheEntryIsGone() throws IOException {
    setBootCountPath("\\loader\\entries\\basalt-00000002-b+2-1.conf");
    Tools.Result r = script("bless");
    assertThat(r.exitCode()).isNotZero();
    assertThat(r.stdout()).contains("no longer on the ESP");
  }

  @Test
  void healthRunsRequiredThenWantedWithLocalOverridesAndMasks() throws IOException {
    Path usrReq = root.resolve("usr/lib/basalt/health.d/required.d");
    Path etcReq = Files.createDirectories(root.resolve("etc/basalt/health.d/required.d"));
    Path etcWanted = Files.createDirectories(root.resolve("etc/basalt/health.d/wanted.d"));
    // the image's checks need a booted system: mask two, override one with a passing local check
    Files.createSymbolicLink(etcReq.resolve("00-preinit"), Path.of("/dev/null"));
    check(etcReq.resolve("10-mounts"), "echo local override ran");
    Files.createSymbolicLink(etcWanted.resolve("50-no-failed-units"), Path.of("/dev/null"));
    check(etcWanted.resolve("60-flaky"), "echo flaky; exit 3");
    Files.writeString(etcReq.resolve("70-not-executable"), "exit 1\n");
    Tools.Result ok = script("health");
    assertThat(ok.exitCode()).as(ok.stdout()).isZero();
    assertThat(ok.stdout()).containsSubsequence(
        "required 00-preinit: disabled", "required 10-mounts: ok", "required 70-not-executable: skipped",
        "wanted 50-no-failed-units: disabled", "wanted 60-flaky: FAILED (exit 3", "    flaky",
        "boot is healthy (wanted check(s) failed: 60-flaky)");
    assertThat(Files.readString(root.resolve("run/basalt/health.status")).strip()).isEqualTo("passed (wanted failed: 60-flaky)");
    assertThat(Files.exists(usrReq.resolve("10-mounts"))).isTrue();

    check(etcReq.resolve("80-broken"), "echo disk on fire; exit 1");
    check(etcReq.resolve("90-slow"), "sleep 30");
    Tools.Result bad = Tools.run(List.of("env", "BASALT_ROOT=" + root, "BASALT_HEALTH_TIMEOUT=1",
        "sh", root.resolve("usr/lib/basalt/health").toString()));
    assertThat(bad.exitCode()).isEqualTo(1);
    assertThat(bad.stdout()).contains("required 80-broken: FAILED (exit 1", "    disk on fire",
        "required 90-slow: FAILED (timed out after 1s", "boot is UNHEALTHY: required check(s) failed: 80-broken 90-slow");
    assertThat(Files.readString(root.resolve("run/basalt/health.status")).strip()).isEqualTo("failed required: 80-broken 90-slow");
  }

  @ParameterizedTest
  @CsvSource(delimiter = '|', value = {
      // booted entry                | other entries on the ESP     | expected decision
      "basalt-00000002-b+1-2.conf    |                              | rebooting to spend a try (1 left)",
      "basalt-00000002-b+0-3.conf    | basalt-00000001-a.conf       | rebooting to fall back to basalt-00000001-a.conf",
      "basalt-00000002-b+0-3.conf    | basalt-00000001-a+0-3.conf   | no other entry to boot: staying up",
      "basalt-00000002-b+0-3.conf    |                              | no other entry to boot: staying up",
      "                              | basalt-00000001-a.conf       | not on trial (no boot counter): staying up"})
  void healthFailedRebootsOnlyWhenThatChangesSomething(String booted, String other, String expected) throws IOException {
    if (booted != null) {
      setBootCountPath("\\loader\\entries\\" + booted);
      Files.writeString(esp.resolve("loader/entries/" + booted), "x");
    }
    if (other != null) Files.writeString(esp.resolve("loader/entries/" + other), "x");
    Tools.Result r = Tools.run(List.of("env", "BASALT_ROOT=" + root, "BASALT_EFIVARS=" + efivars, "BASALT_ESP=" + esp,
        "BASALT_REBOOT=echo REBOOT-CALLED", "sh", root.resolve("usr/lib/basalt/health-failed").toString()));
    assertThat(r.exitCode()).isZero();
    assertThat(r.stdout()).contains(expected);
    assertThat(r.stdout().contains("REBOOT-CALLED")).isEqualTo(expected.startsWith("rebooting"));
  }

  private void check(Path p, String body) throws IOException {
    Files.writeString(p, "#!/bin/sh\n" + body + "\n");
    Files.setPosixFilePermissions(p, DirectoryTreeSink.perms(0755));
  }

  private List<String> entries() throws IOException {
    try (var s = Files.list(esp.resolve("loader/entries"))) {
      return s.map(p -> p.getFileName().toString()).sorted().toList();
    }
  }

  /** Writes LoaderBootCountPath as efivarfs shows it: 4 attribute bytes, UTF-16LE, NUL. */
  private void setBootCountPath(String value) throws IOException {
    ByteArrayOutputStream b = new ByteArrayOutputStream();
    b.write(new byte[] {7, 0, 0, 0});
    b.write((value + "\0").getBytes(StandardCharsets.UTF_16LE));
    Files.write(efivars.resolve("LoaderBootCountPath-" + GUID), b.toByteArray());
  }

  private Tools.Result script(String name) {
    return Tools.run(List.of("env", "BASALT_ROOT=" + root, "BASALT_EFIVARS=" + efivars, "BASALT_ESP=" + esp,
        "sh", root.resolve("usr/lib/basalt/" + name).toString()));
  }

  private List<String> cmd(String call) {
    List<String> c = new ArrayList<>(List.of("env", "BASALT_EFIVARS=" + efivars, "sh", "-c",
        ". " + root.resolve("usr/lib/basalt/lib.sh") + " && " + call));
    return c;
  }

  private String lib(String call) {
    Tools.Result r = Tools.run(cmd(call));
    assertThat(r.exitCode()).as(call + ": " + r.stderr()).isZero();
    return r.stdout().strip();
  }
}

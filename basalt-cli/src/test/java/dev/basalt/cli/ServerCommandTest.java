package dev.basalt.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code basalt server} as a real process: first start prints the token once, SIGTERM stops it cleanly; no server jars, clear error. */
class ServerCommandTest {
  @TempDir Path tmp;

  private static List<String> java(String classPath, String... args) {
    List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "--enable-native-access=ALL-UNNAMED", "-cp", classPath, "dev.basalt.cli.Main"));
    cmd.addAll(Arrays.asList(args));
    return cmd;
  }

  private record Started(Process process, String firstLines) {}

  private Started start(Path data) throws IOException {
    Process p = new ProcessBuilder(java(System.getProperty("java.class.path"), "server", "--port", "0", "--device-port", "0",
        "--bind", "127.0.0.1", "--data", data.toString())).redirectError(tmp.resolve("err-" + System.nanoTime()).toFile()).start();
    BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
    StringBuilder out = new StringBuilder();
    for (String l; (l = r.readLine()) != null; ) {
      out.append(l).append('\n');
      if (l.startsWith("basalt server: admin API")) break;
    }
    return new Started(p, out.toString());
  }

  @Test
  void printsTheBootstrapTokenOnceServesAndStopsOnSigterm() throws Exception {
    Path data = tmp.resolve("data");
    Started s = start(data);
    try {
      Matcher tok = Pattern.compile("bootstrap admin token \\(shown once, keep it safe\\): (bst_\\S+)").matcher(s.firstLines());
      assertThat(tok.find()).as(s.firstLines()).isTrue();
      Matcher port = Pattern.compile("admin API and UI at http://127.0.0.1:(\\d+), devices at https://127.0.0.1:(\\d+)").matcher(s.firstLines());
      assertThat(port.find()).as(s.firstLines()).isTrue();
      HttpResponse<String> res = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port.group(1) + "/api/v1/fleets"))
          .header("Authorization", "Bearer " + tok.group(1)).build(), HttpResponse.BodyHandlers.ofString());
      assertThat(res.statusCode()).isEqualTo(200);
      assertThat(Files.readString(data.resolve("ca.pem"))).startsWith("-----BEGIN CERTIFICATE-----");
    } finally {
      s.process().destroy(); // SIGTERM
    }
    assertThat(s.process().waitFor(20, TimeUnit.SECONDS)).isTrue();
    assertThat(s.process().exitValue()).isEqualTo(143);
    // a second start on the same data: the database opens again (it was closed cleanly) and no new token is printed
    Started again = start(data);
    try {
      assertThat(again.firstLines()).contains("admin API and UI at").doesNotContain("bootstrap admin token");
    } finally {
      again.process().destroy();
      again.process().waitFor(20, TimeUnit.SECONDS);
    }
  }

  /** The jars of the fleet server: what the node layer leaves out (server-lib in a packaged installation). */
  static boolean serverOnly(String entry) {
    return entry.contains("basalt-fleet-server") || entry.matches(".*/(io/helidon|org/jdbi|io/leangen|org/flywaydb|org/xerial|org/postgresql|org/checkerframework|com/zaxxer)/.*");
  }

  @Test
  void withoutTheServerJarsItSaysSoInsteadOfFailingObscurely() throws Exception {
    String cp = String.join(File.pathSeparator, Arrays.stream(System.getProperty("java.class.path").split(File.pathSeparator))
        .filter(e -> !serverOnly(e)).toList());
    assertThat(cp).doesNotContain("helidon");
    Process p = new ProcessBuilder(java(cp, "server", "--data", tmp.toString())).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).as(out).isEqualTo(1);
    assertThat(out).contains("basalt server: error: the fleet server is not part of this installation")
        .contains("nodes carry the agent only");
    // the rest of the CLI works there: the admin and device sides need no server jars
    Process help = new ProcessBuilder(java(cp, "fleet", "devices", "--help")).redirectErrorStream(true).start();
    String helpOut = new String(help.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(help.waitFor(30, TimeUnit.SECONDS)).isTrue();
    assertThat(helpOut).contains("approve");
  }
}

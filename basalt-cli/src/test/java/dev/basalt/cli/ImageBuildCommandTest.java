package dev.basalt.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.basalt.testkit.LocalRegistry;
import dev.basalt.testkit.Tools;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@code basalt image build} end to end: the examples/ specs build from the Debian test OS (imported once into an
 * OCI layout cached beside the fixture), lint clean, rebuild to the same digest, push to the real registry.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ImageBuildCommandTest {
  @TempDir Path tmp;
  Path repo;
  String baseRef;

  @BeforeAll
  void importTestOs() throws Exception {
    Tools.require("skopeo");
    repo = Path.of("").toAbsolutePath();
    while (repo != null && !Files.isRegularFile(repo.resolve("fixtures/testos/build.sh"))) repo = repo.getParent();
    if (repo == null) throw new AssertionError("fixtures/testos/build.sh not found");
    List<String> cmd = List.of("bash", repo.resolve("fixtures/testos/build.sh").toString(), "--print-dir");
    Path os = Path.of(Tools.run(cmd, null, 1800).requireSuccess(cmd).stdout().strip());
    // The import (~30 s) is cached per fixture: the fixture directory's name carries its content hash.
    Path layout = os.resolveSibling(os.getFileName() + "-oci");
    if (!Files.isRegularFile(layout.resolve("index.json"))) {
      Path partial = os.resolveSibling(os.getFileName() + "-oci.partial");
      Tools.run(List.of("rm", "-rf", partial.toString()));
      Cli.run("image", "import", "--compression", "zstd", os.resolve("rootfs").toString(), "oci:" + partial + ":latest").ok();
      Files.move(partial, layout);
    }
    baseRef = "oci:" + layout + ":latest";
  }

  Path copyExample(String name) throws Exception {
    Path dir = tmp.resolve(name);
    Tools.check("cp", "-r", repo.resolve("examples/" + name).toString(), dir.toString());
    return dir;
  }

  @ParameterizedTest
  @ValueSource(strings = {"edge-node", "k8s-node", "kiosk"})
  void examplesBuildLintCleanAndRebuildToTheSameDigest(String example) throws Exception {
    Path dir = copyExample(example);
    String out = "oci:" + tmp.resolve("out-" + example) + ":1";
    Cli.Run r = Cli.run("image", "build", "-f", dir.resolve("os.yaml").toString(), "-t", out, "--base-override", baseRef,
        "--cache-dir", tmp.resolve("cache").toString(), "--lint", "--check-reproducible").ok();
    assertThat(r.err()).contains("ok: 0 errors", "reproducible: a clean rebuild gave the same digest");
    assertThat(Files.readString(dir.resolve("os.lock.yaml"))).contains(baseRef);
    assertThat(Tools.check("skopeo", "inspect", out)).contains(r.lastLine());
  }

  @Test
  void aOneFileChangeRebuildsOnlyTheCustomizationLayerAndPushesIt() throws Exception {
    Path dir = copyExample("kiosk");
    try (LocalRegistry reg = LocalRegistry.start()) {
      String dst = "docker://" + reg.hostPort() + "/os/kiosk:1";
      String[] args = {"image", "build", "-f", dir.resolve("os.yaml").toString(), "-t", dst, "--tls-verify=false",
          "--base-override", baseRef, "--cache-dir", tmp.resolve("cache2").toString()};
      Cli.Run first = Cli.run(args).ok();
      Files.writeString(dir.resolve("kiosk-app.sh"), "#!/bin/sh\nexec sleep infinity\n");
      Cli.Run second = Cli.run(args).ok();
      assertThat(second.lastLine()).isNotEqualTo(first.lastLine());
      List<String> a = layerLines(first.err()), b = layerLines(second.err());
      assertThat(b.get(0)).isEqualTo(a.get(0) + " (cached)"); // base: already in the registry
      assertThat(b.get(1)).isNotEqualTo(a.get(1)).doesNotContain("(cached)");
      assertThat(b.get(2)).isEqualTo(a.get(2) + " (cached)".repeat(a.get(2).endsWith("(cached)") ? 0 : 1));
      assertThat(Tools.check("skopeo", "inspect", "--tls-verify=false", dst)).contains(second.lastLine());
    }
  }

  private static List<String> layerLines(String err) {
    return err.lines().filter(l -> l.startsWith("  ")).map(String::strip).toList();
  }

  @Test
  void aBadSpecPointsAtItsLineAndWritesNothing() throws Exception {
    Path spec = tmp.resolve("bad.yaml");
    Files.writeString(spec, "base: " + baseRef + "\nfiles:\n  - path: /etc/a\n    contents: x\n    mode: \"0888\"\n");
    Cli.Run r = Cli.run("image", "build", "-f", spec.toString(), "-t", "oci:" + tmp.resolve("bad-out") + ":1");
    assertThat(r.exitCode()).isEqualTo(1);
    assertThat(r.err()).contains(spec + ":5: mode '0888' of /etc/a must be octal");
    assertThat(tmp.resolve("bad-out")).doesNotExist();
    assertThat(tmp.resolve("bad.lock.yaml")).doesNotExist();
  }
}

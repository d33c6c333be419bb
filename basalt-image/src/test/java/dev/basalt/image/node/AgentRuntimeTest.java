package dev.basalt.image.node;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.basalt.testkit.Tools;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Links real runtimes with the running JDK's jlink. */
class AgentRuntimeTest {
  @TempDir Path tmp;

  @Test
  void linksTheDefaultModulesReproduciblyAndCaches() throws IOException {
    long t0 = System.nanoTime();
    Path a = AgentRuntime.builder().cacheDir(tmp.resolve("cache-a")).build().build();
    long linkMillis = (System.nanoTime() - t0) / 1_000_000;
    Path b = AgentRuntime.builder().cacheDir(tmp.resolve("cache-b")).build().build();
    assertThat(a.getFileName().toString()).startsWith("jdk-" + Runtime.version().feature());
    assertThat(a.getFileName()).isEqualTo(b.getFileName());
    assertThat(hashes(a)).as("same JDK + modules -> same bytes").isEqualTo(hashes(b));

    // it runs, with exactly the modules asked for (those this JDK has)
    String modules = Tools.check(a.resolve("bin/java").toString(), "--list-modules");
    assertThat(modules).contains("java.base@", "java.net.http@", "java.logging@").doesNotContain("java.desktop", "jdk.compiler");
    long size = AgentRuntime.size(a);
    System.out.printf("[AgentRuntimeTest] runtime %s: %.1f MB, linked in %d ms%n", a.getFileName(), size / 1e6, linkMillis);
    long layer = NodeLayer.builder().runtime(a).build().contentBytes();
    System.out.printf("[AgentRuntimeTest] node layer with this runtime (no jars yet): %.1f MB%n", layer / 1e6);
    // smaller than size(): the runtime's legal/ notices are symlinks, which the layer keeps as links
    assertThat(layer).as("node layer budget: 60 MB").isLessThan(60_000_000L).isGreaterThan(size / 2);

    // cached: no second link, and nothing but the runtime left in the cache dir
    long t1 = System.nanoTime();
    assertThat(AgentRuntime.builder().cacheDir(tmp.resolve("cache-a")).build().build()).isEqualTo(a);
    assertThat((System.nanoTime() - t1) / 1_000_000).isLessThan(Math.max(2000, linkMillis / 3));
    try (Stream<Path> s = Files.list(tmp.resolve("cache-a"))) {
      assertThat(s.toList()).containsExactly(a);
    }
  }

  @Test
  void anotherModuleListIsAnotherCacheEntry() throws IOException {
    Path base = AgentRuntime.builder().modules(List.of()).cacheDir(tmp).build().build();
    assertThat(Tools.check(base.resolve("bin/java").toString(), "--list-modules").strip()).startsWith("java.base@").doesNotContain("\n");
    assertThat(AgentRuntime.builder().cacheDir(tmp).build().build()).isNotEqualTo(base);
  }

  @Test
  void errorsNameTheProblem() {
    assertThatThrownBy(() -> AgentRuntime.builder().modules(List.of("java..base")))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("java..base");
    assertThatThrownBy(() -> AgentRuntime.builder().modules(List.of("no.such.module")).cacheDir(tmp).build().build())
        .isInstanceOf(IOException.class).hasMessageContaining("no module no.such.module");
    assertThatThrownBy(() -> AgentRuntime.builder().javaHome(tmp).cacheDir(tmp).build().build())
        .isInstanceOf(IOException.class).hasMessageContaining("no jlink in " + tmp);
  }

  private static Map<String, String> hashes(Path dir) throws IOException {
    Map<String, String> m = new TreeMap<>();
    try (Stream<Path> s = Files.walk(dir)) {
      for (Path p : s.filter(Files::isRegularFile).toList()) {
        try {
          m.put(dir.relativize(p).toString(), HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(p))));
        } catch (java.security.NoSuchAlgorithmException e) {
          throw new IllegalStateException(e);
        }
      }
    }
    return m;
  }
}

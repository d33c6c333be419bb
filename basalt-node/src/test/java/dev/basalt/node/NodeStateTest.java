package dev.basalt.node;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.basalt.api.Deployment;
import dev.basalt.api.Health;
import dev.basalt.api.UpdatePhase;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** state.json: round trip, atomic replacement, bad files named, the lock; JSON-lines progress; command lines. */
class NodeStateTest {
  @TempDir Path dir;

  @Test
  void roundTripsAndLeavesNoTemp() throws Exception {
    NodeState s = NodeState.open(dir.resolve("var/lib/basalt"));
    assertThat(s.read()).isEqualTo(NodeState.Data.empty());
    Deployment d = new Deployment("oci:/x:1", "sha256:" + "a".repeat(64), "b".repeat(64), "b", 2, Instant.EPOCH, Health.PENDING);
    NodeState.Data data = NodeState.Data.empty().withDeployments(null, d, null).withSerial(2)
        .withPhase(UpdatePhase.STAGED, null).withFailed("sha256:" + "c".repeat(64));
    s.write(data);
    assertThat(s.read()).isEqualTo(data);
    try (var files = Files.list(s.directory())) {
      assertThat(files.map(p -> p.getFileName().toString()).toList()).containsExactly("state.json");
    }
    assertThat(data.status().staged()).isEqualTo(d);
  }

  @Test
  void aPatientLockWaitsForAnotherProcessToLetGoAndAnImpatientOneDoesNot() throws Exception {
    dev.basalt.testkit.Tools.require("python3");
    NodeState s = NodeState.open(dir);
    Path lockFile = dir.resolve("lock");
    Files.createDirectories(dir);
    Files.writeString(lockFile, "");
    // Another process holds the same POSIX record lock for 1.5 s, as a second basalt command would.
    Process holder = new ProcessBuilder("python3", "-c", "import fcntl,sys,time\nf=open(sys.argv[1],'w')\n"
        + "fcntl.lockf(f,fcntl.LOCK_EX)\nprint('held',flush=True)\ntime.sleep(1.5)", lockFile.toString())
        .redirectErrorStream(true).start();
    try {
      assertThat(new String(holder.getInputStream().readNBytes(5))).isEqualTo("held\n");
      assertThatThrownBy(s::lock).isInstanceOf(NodeException.class).hasMessageContaining("is held");
      assertThatThrownBy(() -> s.lock(java.time.Duration.ofMillis(300))).isInstanceOf(NodeException.class);
      long t0 = System.nanoTime();
      try (NodeState.Lock l = s.lock(java.time.Duration.ofSeconds(30))) {
        assertThat(l).isNotNull();
      }
      assertThat(holder.waitFor(10, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
      assertThat(System.nanoTime() - t0).as("waited for the holder").isGreaterThan(200_000_000L);
    } finally {
      holder.destroyForcibly();
    }
  }

  @Test
  void aBrokenFileIsNamedAndTheLockIsExclusive() throws Exception {
    NodeState s = NodeState.open(dir);
    Files.writeString(s.file(), "{\"version\":1,\"serial\":");
    assertThatThrownBy(s::read).isInstanceOf(NodeException.class).hasMessageContaining(s.file().toString());
    try (NodeState.Lock l = s.lock()) {
      assertThatThrownBy(s::lock).isInstanceOf(NodeException.class).hasMessageContaining("lock");
    }
    s.lock().close();
  }

  @Test
  void jsonLinesProgress() {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    JsonLinesListener l = new JsonLinesListener(out, Clock.fixed(Instant.EPOCH, ZoneOffset.UTC));
    l.phase(UpdatePhase.WRITING_ROOT, "slot b");
    for (int i = 0; i <= 1000; i++) l.progress("kernel", i, 1000);
    l.info("done");
    List<String> lines = out.toString(StandardCharsets.UTF_8).lines().toList();
    assertThat(lines.get(0)).isEqualTo(
        "{\"time\":\"1970-01-01T00:00:00Z\",\"detail\":\"slot b\",\"phase\":\"writing-root\",\"type\":\"phase\"}");
    assertThat(lines).hasSize(1 + 101 + 1);
    assertThat(lines.get(lines.size() - 2)).contains("\"done\":1000", "\"total\":1000");
  }

  @Test
  void kernelCommandLines() {
    KernelCmdline c = KernelCmdline.parse("root=PARTUUID=4f68bce3-e8cd-4db1-96e7-fbcaf984b709 ro quiet x=\"a b\" basalt.verity=ab\n");
    assertThat(c.rootPartUuid()).hasValueSatisfying(u -> assertThat(u.toString()).startsWith("4f68bce3"));
    assertThat(c.value("basalt.verity")).hasValue("ab");
    assertThat(c.without(List.of("root", "ro", "basalt.verity"))).containsExactly("quiet", "x=\"a b\"");
    assertThat(KernelCmdline.parse("root=/dev/vda2").rootPartUuid()).isEmpty();
  }
}

package dev.basalt.node;

import static org.assertj.core.api.Assertions.assertThat;

import dev.basalt.api.NodeStatus;
import dev.basalt.api.UpdatePhase;
import dev.basalt.fs.gpt.GptPartition;
import dev.basalt.testkit.Tools;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * Power cuts, offline: the update runs in a child JVM that is killed with SIGKILL at each of these
 * points; then the disk image, ESP directory and state are inspected, and the update is run again.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class PowerCutTest {
  /** Where the child is killed: phases, and fractions/bytes of download, slot write and ESP copy. */
  static final List<String> POINTS = List.of(
      "phase:resolving",
      "phase:downloading",
      "layer1@0.5",
      "layer2@0.5",
      "phase:writing-root",
      "root@1MiB",
      "root@5MiB",
      "root@end",
      "phase:writing-verity",
      "phase:installing-boot-files",
      "kernel@0.4",
      "initrd@end",
      "phase:writing-entry",
      "phase:staged");

  static Path images;
  static String v1;
  static String v2;

  @TempDir Path tmp;

  @BeforeAll
  static void images() throws IOException {
    images = Files.createTempDirectory("basalt-powercut-images");
    TestSystem host = new TestSystem(images);
    Path base = TestSystem.baseTree(Files.createDirectories(images.resolve("base")), 3 << 20, 6 << 20);
    v1 = host.image("v1", base, TestSystem.topTree(Files.createDirectories(images.resolve("top1")), "1", 2 << 20, 1));
    v2 = host.image("v2", base, TestSystem.topTree(Files.createDirectories(images.resolve("top2")), "2", 2 << 20, 2));
  }

  @AfterAll
  static void cleanup() {
    Tools.run(List.of("rm", "-rf", images.toString()));
  }

  @Test
  void aKillAtAnyPointLeavesTheBootedSlotAndItsEntryIntactAndARerunSucceeds() throws Exception {
    Tools.require("veritysetup");
    TestSystem sys = new TestSystem(tmp);
    sys.makeDisk(v1);
    GptPartition rootA = sys.partition("root-a");
    String rootABefore = TestSystem.sha256(sys.disk, rootA.offsetBytes(), rootA.sizeBytes());
    Path entryA = sys.esp.resolve("loader/entries/basalt-00000001-a+2-1.conf");
    byte[] entryABefore = Files.readAllBytes(entryA);
    byte[] kernelA = Files.readAllBytes(sys.esp.resolve("basalt/a/vmlinuz"));
    byte[] initrdA = Files.readAllBytes(sys.esp.resolve("basalt/a/initrd.img"));
    Node node = sys.node();
    List<String> report = new ArrayList<>();

    for (String point : POINTS) {
      killAt(sys, point);

      // the booted slot, its entry and boot files: untouched
      assertThat(TestSystem.sha256(sys.disk, rootA.offsetBytes(), rootA.sizeBytes())).as(point).isEqualTo(rootABefore);
      assertThat(Files.readAllBytes(entryA)).as(point).isEqualTo(entryABefore);
      assertThat(Files.readAllBytes(sys.esp.resolve("basalt/a/vmlinuz"))).as(point).isEqualTo(kernelA);
      assertThat(Files.readAllBytes(sys.esp.resolve("basalt/a/initrd.img"))).as(point).isEqualTo(initrdA);
      // no half-written entry: every *.conf is complete, anything else is a temp name
      List<String> entryFiles = names(sys.esp.resolve("loader/entries"));
      for (String f : entryFiles) {
        if (f.endsWith(".conf")) {
          assertThat(BootEntry.parseName(f)).as(point + ": " + f).isPresent();
          assertThat(Files.readString(sys.esp.resolve("loader/entries/" + f))).as(point + ": " + f)
              .containsPattern("\noptions .* basalt\\.verity=[0-9a-f]{64}\n$");
        } else {
          assertThat(f).as(point).startsWith(".").endsWith(".tmp");
        }
      }
      boolean committed = point.equals("phase:staged");
      assertThat(entryFiles.stream().anyMatch(f -> f.startsWith("basalt-") && f.contains("-b")))
          .as(point + ": an entry for slot b exists only once committed").isEqualTo(committed);
      assertThat(BootEntries.at(sys.esp).preferred().orElseThrow().slot()).as(point)
          .isEqualTo(committed ? Slot.B : Slot.A);

      // the next command sees the interruption; a rerun stages v2 and its slot verifies
      NodeStatus s = node.status();
      assertThat(s.booted().slot()).isEqualTo("a");
      if (!committed) {
        assertThat(s.updatePhase()).as(point).isIn(UpdatePhase.FAILED, UpdatePhase.IDLE);
        if (s.updatePhase() == UpdatePhase.FAILED) assertThat(s.lastError()).contains("interrupted");
      }
      UpdateResult rerun = Updater.builder(node).build().stage(v2);
      assertThat(rerun.outcome()).as(point).isIn(UpdateResult.Outcome.STAGED, UpdateResult.Outcome.ALREADY_STAGED);
      assertThat(names(sys.esp.resolve("loader/entries"))).as(point).noneMatch(f -> f.endsWith(".tmp"));
      NodeStatus after = node.status();
      String hash = after.staged().verityRootHash();
      long len = rerun.rootBytes() > 0 ? rerun.rootBytes() : erofsBytes(sys);
      Path root = sys.extract("root-b", len, "root-b.img");
      Path verity = sys.extract("verity-b", -1, "verity-b.img");
      assertThat(Tools.run(List.of("veritysetup", "verify", root.toString(), verity.toString(), hash)).exitCode())
          .as(point).isZero();
      report.add(point + " -> " + s.updatePhase() + ", rerun " + rerun.outcome() + " (downloaded " + rerun.bytesDownloaded() + " bytes)");

      // back to the start for the next point: discard the staged deployment, empty the cache
      node.rollback();
      Tools.check("rm", "-rf", sys.env().stateDir().resolve("cache").toString());
    }
    System.out.println("power cut points tried: " + POINTS.size());
    report.forEach(l -> System.out.println("  " + l));
  }

  /** The EROFS size from its superblock (blocks u32 at 1024+36, 4 KiB blocks). */
  private static long erofsBytes(TestSystem sys) throws IOException {
    GptPartition p = sys.partition("root-b");
    try (var ch = java.nio.channels.FileChannel.open(sys.disk)) {
      java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(4).order(java.nio.ByteOrder.LITTLE_ENDIAN);
      ch.read(b, p.offsetBytes() + 1024 + 36);
      return (b.getInt(0) & 0xffffffffL) * 4096;
    }
  }

  private static List<String> names(Path dir) throws IOException {
    try (Stream<Path> s = Files.list(dir)) {
      return s.map(p -> p.getFileName().toString()).sorted().toList();
    }
  }

  /** Runs the update in a child JVM until it reports {@code point}, then SIGKILLs it. */
  private void killAt(TestSystem sys, String point) throws Exception {
    Path java = Path.of(System.getProperty("java.home"), "bin", "java");
    ProcessBuilder pb = new ProcessBuilder(java.toString(), "--enable-native-access=ALL-UNNAMED", "-XX:TieredStopAtLevel=1",
        "-Xshare:auto", "-cp", System.getProperty("java.class.path"), PowerCutChild.class.getName(),
        sys.sysroot.toString(), sys.disk.toString(), sys.esp.toString(), v2, point);
    pb.redirectErrorStream(true);
    Process p = pb.start();
    StringBuilder out = new StringBuilder();
    try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
      String line;
      while ((line = r.readLine()) != null) {
        out.append(line).append('\n');
        if (line.equals("AT")) {
          p.destroyForcibly(); // SIGKILL
          assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
          assertThat(p.exitValue()).as("killed by SIGKILL").isEqualTo(137);
          return;
        }
      }
    } finally {
      p.destroyForcibly();
    }
    throw new AssertionError("the child never reached " + point + ":\n" + out);
  }
}

package dev.basalt.node;

import static org.assertj.core.api.Assertions.assertThat;

import dev.basalt.api.Health;
import dev.basalt.api.NodeStatus;
import dev.basalt.image.disk.DiskBuilder;
import dev.basalt.image.disk.DiskResult;
import dev.basalt.testkit.Tools;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The agent on the synthetic machine of {@link TestSystem}: reconcile, and each policy mode's decision. */
class AgentTest {
  static Path images;
  static String v1;
  static String v2;
  static TestSystem imageHost;

  @TempDir Path tmp;
  private final List<String> log = new ArrayList<>();
  private final AtomicInteger reboots = new AtomicInteger();

  @BeforeAll
  static void images() throws IOException {
    images = Files.createTempDirectory("basalt-agent-images");
    imageHost = new TestSystem(images);
    Path base = TestSystem.baseTree(Files.createDirectories(images.resolve("base")), 1 << 20, 1 << 20);
    v1 = imageHost.image("v1", base, TestSystem.topTree(Files.createDirectories(images.resolve("top1")), "1", 1 << 18, 1));
    v2 = imageHost.image("v2", base, TestSystem.topTree(Files.createDirectories(images.resolve("top2")), "2", 1 << 18, 2));
  }

  @AfterAll
  static void cleanup() {
    Tools.run(List.of("rm", "-rf", images.toString()));
  }

  private Agent agent(TestSystem sys, String policyToml, Instant now) throws IOException {
    AgentPolicy p = AgentPolicy.parse(policyToml.getBytes(), "agent.toml");
    Node node = Node.open(sys.env().withRebooter(reboots::incrementAndGet));
    return new Agent(node, Updater.builder(node).build(), p, UpdateSource.local(p), Clock.fixed(now, ZoneOffset.UTC),
        new Random(1), log::add);
  }

  private static Instant at(String hhmm) {
    return LocalTime.parse(hhmm).atDate(java.time.LocalDate.of(2026, 1, 1)).toInstant(ZoneOffset.UTC);
  }

  @Test
  void aFreshDiskKnowsItsDeploymentAndTheSameImageHasTheSameRootHashInTheOtherSlot() throws Exception {
    TestSystem sys = new TestSystem(tmp);
    DiskResult disk = sys.makeDisk(DiskBuilder.of(TestSystem.merged(v1)).imageRef(v1));
    Agent a = agent(sys, "mode = \"apply\"\n", at("12:00"));
    NodeStatus s = a.afterBoot();
    assertThat(s.booted().imageRef()).isEqualTo(v1);
    assertThat(s.booted().manifestDigest()).isEqualTo(TestSystem.digestOf(v1));
    assertThat(s.booted().verityRootHash()).isEqualTo(disk.verity().rootHash());
    assertThat(log).singleElement().asString().startsWith("reconciled: booted slot a (" + v1 + " @ ");
    // the node writes the same image into slot b: same EROFS, same verity root hash
    UpdateResult again = Updater.builder(Node.open(sys.env())).force(true).build().stage(v1);
    assertThat(again.deployment().slot()).isEqualTo("b");
    assertThat(again.deployment().verityRootHash()).isEqualTo(disk.verity().rootHash());
  }

  @Test
  void applyStagesAndReboots_thenWaitsForTheTrialAndIsUpToDateOnceHealthy() throws Exception {
    TestSystem sys = new TestSystem(tmp);
    sys.makeDisk(DiskBuilder.of(TestSystem.merged(v1)).imageRef(v1));
    sys.health(true);
    Agent a = agent(sys, "mode = \"apply\"\nimage = \"" + v2 + "\"\n", at("12:00"));
    assertThat(a.poll()).isEqualTo(Agent.Outcome.STAGED_REBOOTING);
    assertThat(reboots).hasValue(1);
    assertThat(sys.boot().slot()).isEqualTo(Slot.B);
    assertThat(a.afterBoot().booted().health()).isEqualTo(Health.PENDING);
    assertThat(a.poll()).as("a trial boot is not updated").isEqualTo(Agent.Outcome.NOT_SETTLED);
    sys.health(true);
    assertThat(a.poll()).isEqualTo(Agent.Outcome.UP_TO_DATE);
    assertThat(reboots).hasValue(1);
  }

  @Test
  void aDigestThatFailedHereIsNotStagedAgain() throws Exception {
    TestSystem sys = new TestSystem(tmp);
    sys.makeDisk(DiskBuilder.of(TestSystem.merged(v1)).imageRef(v1));
    sys.health(true);
    Agent a = agent(sys, "image = \"" + v2 + "\"\n", at("12:00"));
    assertThat(a.poll()).isEqualTo(Agent.Outcome.STAGED_REBOOTING);
    for (int i = 0; i < 3; i++) {
      assertThat(sys.boot().slot()).isEqualTo(Slot.B);
      sys.health(false);
    }
    assertThat(sys.boot().slot()).isEqualTo(Slot.A);
    sys.health(true);
    assertThat(a.afterBoot().failedDigests()).containsExactly(TestSystem.digestOf(v2));
    assertThat(log.get(log.size() - 1)).contains("failed here: " + TestSystem.digestOf(v2));
    assertThat(a.poll()).isEqualTo(Agent.Outcome.FAILED_BEFORE);
    assertThat(reboots).hasValue(1);
  }

  @Test
  void downloadOnlyAndOutsideTheWindowOnlyDownload_insideTheWindowApplies() throws Exception {
    TestSystem sys = new TestSystem(tmp);
    sys.makeDisk(DiskBuilder.of(TestSystem.merged(v1)).imageRef(v1));
    sys.health(true);
    assertThat(agent(sys, "mode = \"download-only\"\nimage = \"" + v2 + "\"\n", at("12:00")).poll())
        .isEqualTo(Agent.Outcome.DOWNLOADED);
    String window = "mode = \"window\"\nwindow = \"23:00-02:00\"\nimage = \"" + v2 + "\"\n";
    assertThat(agent(sys, window, at("12:00")).poll()).isEqualTo(Agent.Outcome.DOWNLOADED);
    assertThat(Node.open(sys.env()).status().staged()).isNull();
    assertThat(reboots).hasValue(0);
    assertThat(agent(sys, window, at("01:30")).poll()).isEqualTo(Agent.Outcome.STAGED_REBOOTING);
    assertThat(Node.open(sys.env()).status().staged().manifestDigest()).isEqualTo(TestSystem.digestOf(v2));
    assertThat(reboots).hasValue(1);
  }

  @Test
  void withNoImageConfiguredNorRecordedThereIsNothingToFollow() throws Exception {
    TestSystem sys = new TestSystem(tmp);
    sys.makeDisk(v1);
    sys.health(true);
    assertThat(agent(sys, "", at("12:00")).poll()).isEqualTo(Agent.Outcome.NO_TARGET);
  }

  @Test
  void theWaitIsTheIntervalPlusAtMostTheJitter() throws Exception {
    TestSystem sys = new TestSystem(tmp);
    sys.makeDisk(v1);
    Agent a = agent(sys, "interval = \"10m\"\njitter = 60\n", at("12:00"));
    java.util.Set<Duration> seen = new java.util.HashSet<>();
    for (int i = 0; i < 50; i++) {
      Duration w = a.nextWait();
      assertThat(w).isBetween(Duration.ofMinutes(10), Duration.ofMinutes(11));
      seen.add(w);
    }
    assertThat(seen).as("jittered").hasSizeGreaterThan(10);
  }
}

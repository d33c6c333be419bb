package dev.basalt.node;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.basalt.api.ApiJson;
import dev.basalt.api.Health;
import dev.basalt.api.NodeStatus;
import dev.basalt.api.UpdatePhase;
import dev.basalt.fs.gpt.GptPartition;
import dev.basalt.image.disk.DiskResult;
import dev.basalt.testkit.Tools;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * Updates of a real disk image made by {@code DiskBuilder}, checked with fsck.erofs (extracting the
 * new slot), veritysetup verify, and byte comparisons of the old slot and the ESP.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class UpdaterTest {
  static Path images;
  static String v1;
  static String v2;
  static String v3;
  static String noKernel;
  static TestSystem imageHost;

  @TempDir Path tmp;

  @BeforeAll
  static void images() throws IOException {
    images = Files.createTempDirectory("basalt-node-images");
    imageHost = new TestSystem(images);
    Path base = TestSystem.baseTree(Files.createDirectories(images.resolve("base")), 3 << 20, 4 << 20);
    v1 = imageHost.image("v1", base, TestSystem.topTree(Files.createDirectories(images.resolve("top1")), "1", 1 << 20, 1));
    v2 = imageHost.image("v2", base, TestSystem.topTree(Files.createDirectories(images.resolve("top2")), "2", 1 << 20, 2));
    v3 = imageHost.image("v3", base, TestSystem.topTree(Files.createDirectories(images.resolve("top3")), "3", 1 << 20, 3));
    Path bare = Files.createDirectories(images.resolve("bare"));
    Files.writeString(Files.createDirectories(bare.resolve("etc")).resolve("os-release"), "ID=none\n");
    noKernel = imageHost.image("nokernel", bare);
  }

  @AfterAll
  static void cleanup() {
    Tools.run(List.of("rm", "-rf", images.toString()));
  }

  private static Updater updater(Node node, UpdateListener l) {
    return Updater.builder(node).listener(l).build();
  }

  @Test
  void upgradeWritesTheInactiveSlotAndLeavesTheBootedOneAlone() throws Exception {
    for (String t : List.of("fsck.erofs", "veritysetup")) Tools.require(t);
    TestSystem sys = new TestSystem(tmp);
    DiskResult disk = sys.makeDisk(v1);
    GptPartition rootA = sys.partition("root-a");
    GptPartition rootB = sys.partition("root-b");
    String rootABefore = TestSystem.sha256(sys.disk, rootA.offsetBytes(), rootA.sizeBytes());
    Path entryA = sys.esp.resolve("loader/entries/basalt-00000001-a+2-1.conf");
    byte[] entryABefore = Files.readAllBytes(entryA);
    byte[] kernelABefore = Files.readAllBytes(sys.esp.resolve("basalt/a/vmlinuz"));

    Node node = sys.node();
    List<UpdatePhase> phases = new ArrayList<>();
    UpdateResult r = updater(node, new UpdateListener() {
      @Override
      public void phase(UpdatePhase p, String detail) { phases.add(p); }
    }).stage(v2);

    assertThat(r.outcome()).isEqualTo(UpdateResult.Outcome.STAGED);
    assertThat(r.manifestDigest()).isEqualTo(TestSystem.digestOf(v2));
    assertThat(phases).containsExactly(UpdatePhase.RESOLVING, UpdatePhase.DOWNLOADING, UpdatePhase.WRITING_ROOT,
        UpdatePhase.WRITING_VERITY, UpdatePhase.INSTALLING_BOOT_FILES, UpdatePhase.WRITING_ENTRY, UpdatePhase.STAGED);
    // the booted slot, its entry and kernel: byte for byte as before
    assertThat(TestSystem.sha256(sys.disk, rootA.offsetBytes(), rootA.sizeBytes())).isEqualTo(rootABefore);
    assertThat(Files.readAllBytes(entryA)).isEqualTo(entryABefore);
    assertThat(Files.readAllBytes(sys.esp.resolve("basalt/a/vmlinuz"))).isEqualTo(kernelABefore);

    // root-b: a clean EROFS holding v2, and its verity tree verifies with the recorded root hash
    Path erofs = sys.extract("root-b", r.rootBytes(), "root-b.img");
    Path out = tmp.resolve("extracted");
    Tools.check("fsck.erofs", "--extract=" + out, erofs.toString());
    assertThat(Files.readString(out.resolve("usr/share/app/version"))).isEqualTo("2");
    assertThat(Files.readAllBytes(out.resolve("usr/share/app/payload")))
        .isEqualTo(Files.readAllBytes(images.resolve("top2/usr/share/app/payload")));
    Path hash = sys.extract("verity-b", -1, "verity-b.img");
    String rootHash = r.deployment().verityRootHash();
    assertThat(Tools.run(List.of("veritysetup", "verify", erofs.toString(), hash.toString(), rootHash)).exitCode()).isZero();
    String wrong = (rootHash.charAt(0) == '0' ? "1" : "0") + rootHash.substring(1);
    assertThat(Tools.run(List.of("veritysetup", "verify", erofs.toString(), hash.toString(), wrong)).exitCode())
        .as("veritysetup rejects a wrong root hash").isNotZero();

    // ESP: kernel/initrd of v2 in basalt/b, entry basalt-00000002-b+3.conf with root-b's PARTUUID
    assertThat(Files.readAllBytes(sys.esp.resolve("basalt/b/vmlinuz")))
        .isEqualTo(Files.readAllBytes(images.resolve("base/boot/vmlinuz-" + TestSystem.KVER)));
    assertThat(Files.readAllBytes(sys.esp.resolve("basalt/b/initrd.img")))
        .isEqualTo(Files.readAllBytes(images.resolve("base/boot/initrd.img-" + TestSystem.KVER)));
    String entry = Files.readString(sys.esp.resolve("loader/entries/basalt-00000002-b+3.conf"));
    assertThat(entry).contains("title Test OS 2 (Basalt 00000002, slot b)\n", "version 00000002\n", "sort-key basalt\n",
        "linux /basalt/b/vmlinuz\n", "initrd /basalt/b/initrd.img\n",
        "options root=PARTUUID=" + rootB.uuid() + " rootfstype=erofs ro init=/usr/lib/basalt/preinit panic=10 console=ttyS0,115200 ",
        " basalt.verity=" + rootHash + "\n");
    assertThat(disk.options()).contains("console=ttyS0,115200");
    assertThat(BootEntries.at(sys.esp).preferred().orElseThrow().fileName()).isEqualTo("basalt-00000002-b+3.conf");
    assertThat(TestSystem.listTree(sys.esp)).noneMatch(p -> p.endsWith(".tmp"));

    // status JSON: booted v1 in a (digest unknown: the disk builder records none), staged v2 in b
    NodeStatus s = node.status();
    assertThat(s.booted().slot()).isEqualTo("a");
    assertThat(s.booted().verityRootHash()).isEqualTo(disk.verity().rootHash());
    assertThat(s.staged().slot()).isEqualTo("b");
    assertThat(s.staged().serial()).isEqualTo(2);
    assertThat(s.staged().manifestDigest()).isEqualTo(TestSystem.digestOf(v2));
    assertThat(s.staged().imageRef()).isEqualTo(v2);
    assertThat(s.staged().health()).isEqualTo(Health.PENDING);
    assertThat(s.updatePhase()).isEqualTo(UpdatePhase.STAGED);
    assertThat(ApiJson.write(s)).contains("\"updatePhase\" : \"staged\"", "\"slot\" : \"b\"");
    assertThat(Files.readString(sys.env().stateDir().resolve("state.json"))).contains(TestSystem.digestOf(v2));
  }

  @Test
  void theSameImageGivesTheSameRootHashInEitherSlot() throws Exception {
    TestSystem one = new TestSystem(Files.createDirectories(tmp.resolve("one")));
    one.makeDisk(v1);
    TestSystem two = new TestSystem(Files.createDirectories(tmp.resolve("two")));
    two.makeDisk(v1);
    String h1 = updater(one.node(), UpdateListener.NONE).stage(v2).deployment().verityRootHash();
    // second machine: v3 then back to v2 lands in slot b too, after a boot into v3 in b it lands in a
    Node n2 = two.node();
    updater(n2, UpdateListener.NONE).stage(v3);
    two.boot();
    two.health(true);
    UpdateResult again = updater(n2, UpdateListener.NONE).stage(v2);
    assertThat(again.deployment().slot()).isEqualTo("a");
    assertThat(again.deployment().verityRootHash()).isEqualTo(h1);
  }

  @Test
  void sharedBaseLayersAreNotDownloadedAgain() throws Exception {
    TestSystem sys = new TestSystem(tmp);
    sys.makeDisk(v1);
    Node node = sys.node();
    UpdateResult first = updater(node, UpdateListener.NONE).stage(v2);
    assertThat(first.layersDownloaded()).isEqualTo(2);
    assertThat(first.bytesDownloaded()).isEqualTo(first.imageBytes());
    sys.boot();
    sys.health(true);
    UpdateResult second = updater(node, UpdateListener.NONE).stage(v3);
    long top3 = TestSystem.merged(v3).layers().get(1).size();
    assertThat(second.layersDownloaded()).isEqualTo(1);
    assertThat(second.bytesDownloaded()).isEqualTo(top3);
    assertThat(second.imageBytes()).isGreaterThan(4 * top3);
    System.out.printf("bytes: v1->v2 downloaded %d of %d (empty cache); v2->v3 downloaded %d of %d (base layer shared)%n",
        first.bytesDownloaded(), first.imageBytes(), second.bytesDownloaded(), second.imageBytes());
  }

  @Test
  void aFailedTrialIsRecordedAndItsDigestRefusedUnlessForced() throws Exception {
    TestSystem sys = new TestSystem(tmp);
    sys.makeDisk(v1);
    Node node = sys.node();
    updater(node, UpdateListener.NONE).stage(v2);
    // three trial boots of b that fail their health checks, then systemd-boot falls back to a
    for (int i = 0; i < 3; i++) {
      assertThat(sys.boot().slot()).isEqualTo(Slot.B);
      sys.health(false);
      assertThat(node.status().booted().health()).isEqualTo(Health.UNHEALTHY);
    }
    assertThat(sys.boot().slot()).as("entry at +0 sorts last").isEqualTo(Slot.A);
    NodeStatus s = node.status();
    assertThat(s.booted().slot()).isEqualTo("a");
    assertThat(s.staged()).isNull();
    assertThat(s.failedDigests()).containsExactly(TestSystem.digestOf(v2));
    assertThat(s.updatePhase()).isEqualTo(UpdatePhase.FAILED);
    assertThat(s.lastError()).contains("failed its trial boot", "slot b");
    assertThat(BootEntries.at(sys.esp).entry(Slot.B)).as("the spent entry is removed").isEmpty();

    assertThatThrownBy(() -> updater(node, UpdateListener.NONE).stage(v2))
        .isInstanceOf(NodeException.class).hasMessageContaining("failed to boot on this machine").hasMessageContaining("--force");
    assertThat(BootEntries.at(sys.esp).entry(Slot.B)).isEmpty();
    assertThat(updater(node, UpdateListener.NONE).check(v2).updateAvailable()).isFalse();
    UpdateResult forced = Updater.builder(node).force(true).build().stage(v2);
    assertThat(forced.outcome()).isEqualTo(UpdateResult.Outcome.STAGED);
    assertThat(forced.deployment().serial()).isEqualTo(3);
  }

  @Test
  void aStagedDeploymentThatBootsBecomesBootedAndRollbackPromotesTheOtherSlot() throws Exception {
    TestSystem sys = new TestSystem(tmp);
    sys.makeDisk(v1);
    sys.health(true);
    Node node = sys.node();
    updater(node, UpdateListener.NONE).stage(v2);
    assertThat(sys.boot().fileName()).isEqualTo("basalt-00000002-b+3.conf");
    assertThat(node.status().booted().health()).isEqualTo(Health.PENDING);
    sys.health(true);
    NodeStatus s = node.status();
    assertThat(s.booted().slot()).isEqualTo("b");
    assertThat(s.booted().manifestDigest()).isEqualTo(TestSystem.digestOf(v2));
    assertThat(s.booted().health()).isEqualTo(Health.HEALTHY);
    assertThat(s.rollback().slot()).isEqualTo("a");
    assertThat(s.staged()).isNull();

    Node.RollbackResult rb = node.rollback();
    assertThat(rb.discarded()).isFalse();
    assertThat(rb.entry()).isEqualTo("basalt-00000003-a+3.conf");
    List<String> names = BootEntries.at(sys.esp).list().stream().map(BootEntry::fileName).toList();
    assertThat(names).containsExactly("basalt-00000003-a+3.conf", "basalt-00000002-b.conf");
    assertThat(Files.readString(sys.esp.resolve("loader/entries/basalt-00000003-a+3.conf")))
        .contains("version 00000003\n", "title Test OS 1 (Basalt 00000003, slot a)\n",
            "root=PARTUUID=" + sys.partition("root-a").uuid());
    assertThat(node.status().staged().slot()).isEqualTo("a");
    assertThat(sys.boot().slot()).isEqualTo(Slot.A);
    sys.health(true);
    s = node.status();
    assertThat(s.booted().slot()).isEqualTo("a");
    assertThat(s.booted().serial()).isEqualTo(3);
    assertThat(s.rollback().manifestDigest()).isEqualTo(TestSystem.digestOf(v2));
  }

  @Test
  void rollbackOfAStagedDeploymentDiscardsIt() throws Exception {
    TestSystem sys = new TestSystem(tmp);
    sys.makeDisk(v1);
    Node node = sys.node();
    assertThatThrownBy(node::rollback).isInstanceOf(NodeException.class).hasMessageContaining("nothing to roll back to");
    updater(node, UpdateListener.NONE).stage(v2);
    Node.RollbackResult rb = node.rollback();
    assertThat(rb.discarded()).isTrue();
    assertThat(BootEntries.at(sys.esp).entry(Slot.B)).isEmpty();
    assertThat(node.status().staged()).isNull();
    assertThat(sys.boot().slot()).isEqualTo(Slot.A);
  }

  @Test
  void upToDateAlreadyStagedCheckAndDownloadOnly() throws Exception {
    TestSystem sys = new TestSystem(tmp);
    sys.makeDisk(v1);
    Node node = sys.node();
    CheckResult c = updater(node, UpdateListener.NONE).check(v2);
    assertThat(c.updateAvailable()).isTrue();
    assertThat(c.manifestDigest()).isEqualTo(TestSystem.digestOf(v2));
    assertThat(Files.exists(sys.env().stateDir().resolve("cache/blobs/sha256"))).as("check downloads nothing").isFalse();

    UpdateResult dl = updater(node, UpdateListener.NONE).download(v2);
    assertThat(dl.outcome()).isEqualTo(UpdateResult.Outcome.DOWNLOADED);
    assertThat(dl.bytesDownloaded()).isEqualTo(dl.imageBytes());
    assertThat(BootEntries.at(sys.esp).entry(Slot.B)).isEmpty();
    assertThat(node.status().updatePhase()).isEqualTo(UpdatePhase.IDLE);

    UpdateResult st = updater(node, UpdateListener.NONE).stage(v2);
    assertThat(st.bytesDownloaded()).as("all in the cache already").isZero();
    assertThat(updater(node, UpdateListener.NONE).stage(v2).outcome()).isEqualTo(UpdateResult.Outcome.ALREADY_STAGED);
    sys.boot();
    assertThat(updater(node, UpdateListener.NONE).stage(v2).outcome()).isEqualTo(UpdateResult.Outcome.UP_TO_DATE);
    assertThat(updater(node, UpdateListener.NONE).check(v2).updateAvailable()).isFalse();
  }

  @Test
  void badInputFailsWithAClearErrorAndTheBootedSlotUntouched() throws Exception {
    TestSystem sys = new TestSystem(tmp);
    sys.makeDisk(v1);
    GptPartition rootA = sys.partition("root-a");
    String before = TestSystem.sha256(sys.disk, rootA.offsetBytes(), rootA.sizeBytes());
    Node node = sys.node();
    assertThatThrownBy(() -> updater(node, UpdateListener.NONE).stage("nope:x")).isInstanceOf(NodeException.class)
        .hasMessageContaining("invalid image reference 'nope:x'");
    assertThatThrownBy(() -> updater(node, UpdateListener.NONE).stage("oci:" + tmp.resolve("missing") + ":v1"))
        .hasMessageContaining("missing");
    assertThatThrownBy(() -> updater(node, UpdateListener.NONE).stage(noKernel)).hasMessageContaining("is not bootable");
    NodeStatus s = node.status();
    assertThat(s.updatePhase()).isEqualTo(UpdatePhase.FAILED);
    assertThat(s.lastError()).contains("is not bootable");
    assertThat(s.staged()).isNull();
    assertThat(BootEntries.at(sys.esp).list()).extracting(BootEntry::slot).containsOnly(Slot.A);
    assertThat(TestSystem.sha256(sys.disk, rootA.offsetBytes(), rootA.sizeBytes())).isEqualTo(before);
    assertThat(TestSystem.listTree(sys.env().stateDir())).noneMatch(p -> p.startsWith("work-"));
    // and the node recovers: the next update goes through
    assertThat(updater(node, UpdateListener.NONE).stage(v2).outcome()).isEqualTo(UpdateResult.Outcome.STAGED);
    assertThat(node.status().lastError()).isNull();
  }
}

package dev.basalt.image.disk;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.basalt.fs.diskimage.DiskImageFormat;
import dev.basalt.fs.gpt.GptPartition;
import dev.basalt.fs.gpt.GptTable;
import dev.basalt.fs.gpt.PartitionTypes;
import dev.basalt.fs.tree.Metadata;
import dev.basalt.fs.tree.TreeEntry;
import dev.basalt.image.lint.Check;
import dev.basalt.image.rootfs.MergedImage;
import dev.basalt.image.rootfs.RootfsImporter;
import dev.basalt.image.testing.TestImage;
import dev.basalt.oci.api.ImageDestination;
import dev.basalt.oci.api.ImageSource;
import dev.basalt.oci.api.Platform;
import dev.basalt.oci.ref.ImageReference;
import dev.basalt.oci.transport.TransportOptions;
import dev.basalt.oci.transport.Transports;
import dev.basalt.testkit.Tools;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Disks of a small synthetic image, checked with sgdisk, fsck.fat, mtools, fsck.erofs, veritysetup and qemu-img. */
class DiskBuilderTest {
  private static final long MIB = 1 << 20;

  @TempDir Path tmp;

  /** A fake node layer: preinit plus one unit and its enablement link. */
  static final TreeProducer NODE = sink -> {
    Metadata dir = Metadata.of(0755, 0, 0, 0);
    for (String d : List.of("usr", "usr/lib", "usr/lib/basalt", "usr/lib/systemd", "usr/lib/systemd/system")) {
      sink.add(new TreeEntry.Directory(d, dir), null);
    }
    byte[] preinit = "#!/bin/sh\n# node layer preinit\nexec /sbin/init \"$@\"\n".getBytes(StandardCharsets.UTF_8);
    sink.add(new TreeEntry.RegularFile("usr/lib/basalt/preinit", Metadata.of(0755, 0, 0, 0), preinit.length),
        new ByteArrayInputStream(preinit));
    byte[] unit = "[Unit]\nDescription=node\n".getBytes(StandardCharsets.UTF_8);
    sink.add(new TreeEntry.RegularFile("usr/lib/systemd/system/basalt-health.service", Metadata.of(0644, 0, 0, 0),
        unit.length), new ByteArrayInputStream(unit));
  };

  private MergedImage image(Consumer<TestImage> edit) throws IOException {
    Path root = Files.createDirectories(tmp.resolve("rootfs-" + System.nanoTime()));
    TestImage t = TestImage.good(root);
    t.file("etc/passwd", "root:x:0:0:root:/root:/bin/bash\nuser7:x:1000:1000::/home/u:/bin/sh\n");
    t.file("etc/group", "root:x:0:\nsudo:x:27:\nusers:x:100:bob\n");
    t.file("etc/shadow", "root:*:19000:0:99999:7:::\nuser7:*:19000:0:99999:7:::\n");
    t.file("etc/os-release", "ID=debian\nPRETTY_NAME=\"Test OS 1\"\n");
    t.exe("usr/bin/bash", "#!fake bash");
    t.dir("var/lib");
    edit.accept(t);
    ImageReference ref = ImageReference.parse("oci:" + tmp.resolve("layout") + ":" + root.getFileName());
    try (ImageDestination d = Transports.openDestination(ref, TransportOptions.defaults())) {
      RootfsImporter.builder().build().importTo(root, d);
    }
    ImageSource src = Transports.openSource(ref, TransportOptions.defaults());
    return MergedImage.resolve(src, Platform.LINUX_AMD64);
  }

  private DiskBuilder small(MergedImage image, Path out) {
    return DiskBuilder.of(image).output(out).espSize(64 * MIB).rootSize(16 * MIB).size(400 * MIB).nodeLayer(NODE);
  }

  private static String sh(String script) {
    return Tools.check("bash", "-c", "set -euo pipefail; " + script);
  }

  @Test
  void writesADiskTheRealToolsAccept() throws Exception {
    for (String t : List.of("sgdisk", "fsck.fat", "mdir", "mtype", "fsck.erofs", "veritysetup")) Tools.require(t);
    MergedImage image = image(t -> t.delete("usr/lib/basalt/preinit"));
    Path out = tmp.resolve("disk.raw");
    DiskResult r = small(image, out).build();

    assertThat(Files.size(out)).isEqualTo(400 * MIB);
    assertThat(r.nodeLayerAdded()).isTrue();
    assertThat(r.lint().ok()).isTrue();
    assertThat(Tools.check("sgdisk", "-v", out.toString())).contains("No problems found");
    GptTable table;
    try (FileChannel ch = FileChannel.open(out, StandardOpenOption.READ)) {
      table = GptTable.read(ch);
    }
    assertThat(table).isEqualTo(r.table());
    assertThat(table.partitions()).extracting(GptPartition::name)
        .containsExactly("esp", "root-a", "root-b", "verity-a", "verity-b", "var");
    assertThat(table.partitions()).extracting(GptPartition::type).containsExactly(PartitionTypes.EFI_SYSTEM,
        PartitionTypes.ROOT_X86_64, PartitionTypes.ROOT_X86_64, PartitionTypes.ROOT_VERITY_X86_64,
        PartitionTypes.ROOT_VERITY_X86_64, PartitionTypes.VAR);
    GptPartition esp = table.partition(1).orElseThrow();
    GptPartition rootA = table.partition(2).orElseThrow();
    GptPartition verityA = table.partition(4).orElseThrow();
    GptPartition var = table.partition(6).orElseThrow();
    assertThat(esp.sizeBytes()).isEqualTo(64 * MIB);
    assertThat(rootA.sizeBytes()).isEqualTo(16 * MIB);
    assertThat(table.partition(3).orElseThrow().sizeBytes()).isEqualTo(16 * MIB);
    assertThat(var.lastLba()).isGreaterThan(table.lastUsableLba() - 2048); // var runs to the end

    // ESP: fsck.fat on the region, content through mtools
    String disk = out.toString();
    String espImg = tmp.resolve("esp.img").toString();
    sh("dd if=" + disk + " of=" + espImg + " bs=1M skip=" + esp.offsetBytes() / MIB + " count=" + esp.sizeBytes() / MIB + " status=none");
    Tools.check("fsck.fat", "-n", espImg);
    String at = disk + "@@" + esp.offsetBytes();
    assertThat(sh("MTOOLS_SKIP_CHECK=1 mdir -/ -b -i " + at + " ::")).contains(
        "::/EFI/BOOT/BOOTX64.EFI", "::/loader/loader.conf", "::/loader/entries/basalt-00000001-a+3.conf",
        "::/basalt/a/vmlinuz", "::/basalt/a/initrd.img");
    String entry = sh("MTOOLS_SKIP_CHECK=1 mtype -i " + at + " ::/loader/entries/basalt-00000001-a+3.conf");
    assertThat(entry).contains("title Test OS 1 (Basalt 00000001, slot a)\n", "version 00000001\n", "sort-key basalt\n",
        "linux /basalt/a/vmlinuz\n", "initrd /basalt/a/initrd.img\n",
        "options root=PARTUUID=" + rootA.uuid() + " rootfstype=erofs ro init=/usr/lib/basalt/preinit panic=10"
            + " console=ttyS0,115200 console=ttyS0,115200 basalt.verity=" + r.verity().rootHash() + "\n");
    assertThat(sh("MTOOLS_SKIP_CHECK=1 mtype -i " + at + " ::/EFI/BOOT/BOOTX64.EFI")).isEqualTo("MZ fake PE");
    assertThat(sh("MTOOLS_SKIP_CHECK=1 mtype -i " + at + " ::/basalt/a/vmlinuz | sha256sum"))
        .isEqualTo(sha256(TestImage.kernel()) + "  -\n");

    // root-a: fsck.erofs on exactly the EROFS bytes, with the node layer inside
    String rootImg = tmp.resolve("root.erofs").toString();
    sh("dd if=" + disk + " of=" + rootImg + " iflag=skip_bytes,count_bytes skip=" + rootA.offsetBytes()
        + " count=" + r.rootFs().imageBytes() + " status=none");
    Path x = tmp.resolve("x");
    Tools.check("fsck.erofs", "--extract=" + x, rootImg);
    assertThat(Files.readString(x.resolve("usr/lib/basalt/preinit"))).contains("node layer preinit");
    assertThat(Files.isExecutable(x.resolve("usr/lib/basalt/preinit"))).isTrue();
    assertThat(x.resolve("usr/lib/systemd/system/basalt-health.service")).exists();
    assertThat(x.resolve("boot/vmlinuz-" + TestImage.KVER)).exists();

    // verity-a verifies root-a's EROFS with the root hash of the entry
    String hashImg = tmp.resolve("verity.img").toString();
    sh("dd if=" + disk + " of=" + hashImg + " bs=1M skip=" + verityA.offsetBytes() / MIB + " count=" + verityA.sizeBytes() / MIB + " status=none");
    Tools.check("veritysetup", "verify", rootImg, hashImg, r.verity().rootHash());
    // ... and a flipped byte is caught
    sh("printf 'X' | dd of=" + rootImg + " bs=1 seek=5000 conv=notrunc status=none");
    assertThat(Tools.run(List.of("veritysetup", "verify", rootImg, hashImg, r.verity().rootHash())).exitCode()).isNotZero();

    assertThat(r.summary()).contains("root-a", "var", r.verity().rootHash());
    assertThat(leftovers()).containsOnly("disk.raw", "esp.img", "root.erofs", "verity.img", "x", "layout");
  }

  private List<String> leftovers() throws IOException {
    try (Stream<Path> s = Files.list(tmp)) {
      return s.map(p -> p.getFileName().toString()).filter(n -> !n.startsWith("rootfs-")).toList();
    }
  }

  private static String sha256(byte[] b) throws Exception {
    return java.util.HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256").digest(b));
  }

  @Test
  void sameImageGivesTheSameBytesAndQemuImgAcceptsTheQcow2() throws Exception {
    Tools.require("qemu-img");
    MergedImage image = image(t -> {});
    Path a = tmp.resolve("a.qcow2");
    Path b = tmp.resolve("b.qcow2");
    DiskResult ra = small(image, a).format(DiskImageFormat.QCOW2).build();
    DiskResult rb = small(image, b).format(DiskImageFormat.QCOW2).build();
    assertThat(ra.nodeLayerAdded()).as("the image has its own preinit").isFalse();
    assertThat(sha256(Files.readAllBytes(a))).isEqualTo(sha256(Files.readAllBytes(b)));
    assertThat(ra.verity().rootHash()).isEqualTo(rb.verity().rootHash());
    assertThat(ra.seed()).isEqualTo(image.manifest().digest().toString());
    Tools.check("qemu-img", "check", a.toString());
    assertThat(Tools.check("qemu-img", "info", "--output=json", a.toString())).contains("\"virtual-size\": " + 400 * MIB);
    // another seed changes every identifier
    DiskResult rc = small(image, tmp.resolve("c.qcow2")).format(DiskImageFormat.QCOW2).seed("other").build();
    assertThat(rc.table().diskGuid()).isNotEqualTo(ra.table().diskGuid());
    assertThat(rc.verity().rootHash()).isNotEqualTo(ra.verity().rootHash());
  }

  @Test
  void defaultSizesFollowTheHeadroomRule() throws Exception {
    MergedImage image = image(t -> {});
    Path out = tmp.resolve("d.raw");
    DiskResult r = DiskBuilder.of(image).output(out).espSize(64 * MIB).build();
    GptTable t = r.table();
    assertThat(t.partition(2).orElseThrow().sizeBytes()).isEqualTo(1L << 30); // min 1 GiB
    long verity = t.partition(4).orElseThrow().sizeBytes();
    assertThat(t.sizeBytes()).isEqualTo(MIB + 64 * MIB + 2 * (1L << 30) + 2 * verity + (1L << 30) + MIB);
    assertThat(DiskBuilder.defaultRootSize(600 * MIB)).isEqualTo(1280 * MIB);
    assertThat(DiskBuilder.defaultRootSize(100 * MIB)).isEqualTo(1L << 30);
    assertThat(DiskBuilder.defaultRootSize(513 * MIB)).isEqualTo(1280 * MIB);
  }

  @Test
  void appliesTheConfigToTheRootFilesystem() throws Exception {
    MergedImage image = image(t -> t.file("root/.ssh/authorized_keys", "ssh-rsa OLD old@key\n"));
    DiskConfig config = DiskConfig.parse("""
        hostname = "edge-01"
        [customizations.kernel]
        append = "quiet  loglevel=3"
        [[customizations.user]]
        name = "alice"
        password = "$6$salt$abcdef"
        key = "ssh-ed25519 AAAAalice alice@laptop"
        groups = ["sudo", "users"]
        [[customizations.user]]
        name = "root"
        password = "$6$r$rootHash"
        key = "ssh-ed25519 AAAAroot admin"
        [[customizations.user]]
        name = "carol"
        """, "config.toml");
    Path out = tmp.resolve("c.raw");
    DiskResult r = small(image, out).config(config).build();
    assertThat(r.options()).endsWith(" quiet loglevel=3 basalt.verity=" + r.verity().rootHash());
    Path x = extractRoot(out, r);
    assertThat(Files.readString(x.resolve("etc/hostname"))).isEqualTo("edge-01\n");
    assertThat(Files.readString(x.resolve("etc/passwd"))).isEqualTo("root:x:0:0:root:/root:/bin/bash\n"
        + "user7:x:1000:1000::/home/u:/bin/sh\n"
        + "alice:x:1001:1001::/var/home/alice:/bin/bash\n"
        + "carol:x:1002:1002::/var/home/carol:/bin/bash\n");
    assertThat(Files.readString(x.resolve("etc/group"))).isEqualTo("root:x:0:\nsudo:x:27:alice\nusers:x:100:bob,alice\n"
        + "alice:x:1001:\ncarol:x:1002:\n");
    assertThat(Files.readString(x.resolve("etc/shadow"))).isEqualTo("root:$6$r$rootHash:19000:0:99999:7:::\n"
        + "user7:*:19000:0:99999:7:::\nalice:$6$salt$abcdef::0:99999:7:::\ncarol:*::0:99999:7:::\n");
    assertThat(Files.readString(x.resolve("root/.ssh/authorized_keys"))).isEqualTo("ssh-rsa OLD old@key\nssh-ed25519 AAAAroot admin\n");
    Path keys = x.resolve("var/home/alice/.ssh/authorized_keys");
    assertThat(Files.readString(keys)).isEqualTo("ssh-ed25519 AAAAalice alice@laptop\n");
    Map<String, Object> a = Files.readAttributes(keys, "unix:uid,gid,mode");
    assertThat(a).containsEntry("uid", 1001).containsEntry("gid", 1001).containsEntry("mode", 0100600);
    assertThat(Files.readAttributes(x.resolve("var/home/alice"), "unix:uid,mode"))
        .containsEntry("uid", 1001).containsEntry("mode", 040700);
    assertThat(Files.readAttributes(x.resolve("var/home/carol"), "unix:uid")).containsEntry("uid", 1002);
    assertThat(x.resolve("var/home/carol/.ssh")).doesNotExist();

    // the node's copy on the ESP: users with the uids they got, host name; no kernel arguments (the entry has them)
    String at = out + "@@" + r.table().partition(1).orElseThrow().offsetBytes();
    String kept = sh("MTOOLS_SKIP_CHECK=1 mtype -i " + at + " ::/" + DiskBuilder.NODE_CONFIG);
    DiskConfig node = DiskConfig.parse(kept, "config.toml");
    assertThat(node.hostname()).contains("edge-01");
    assertThat(node.kernelAppend()).isEmpty();
    assertThat(node.users()).extracting(u -> u.name() + "=" + u.uid()).containsExactly(
        "alice=OptionalLong[1001]", "root=OptionalLong.empty", "carol=OptionalLong[1002]");
    assertThat(node.users().get(0).password()).contains("$6$salt$abcdef");

    // applied again to a later image that has alice already (same uid): configured in place, same files
    MergedImage later = image(t -> {
      t.file("etc/passwd", "root:x:0:0:root:/root:/bin/bash\nalice:x:1001:1001::/var/home/alice:/bin/bash\n");
      t.file("etc/group", "root:x:0:\nsudo:x:27:\nusers:x:100:\nalice:x:1001:\n");
      t.file("etc/shadow", "root:*:19000:0:99999:7:::\nalice:*:19000:0:99999:7:::\n");
    });
    Path x2 = extractRoot(tmp.resolve("c2.raw"), small(later, tmp.resolve("c2.raw")).config(node).build());
    assertThat(Files.readString(x2.resolve("etc/passwd"))).isEqualTo("root:x:0:0:root:/root:/bin/bash\n"
        + "alice:x:1001:1001::/var/home/alice:/bin/bash\ncarol:x:1002:1002::/var/home/carol:/bin/bash\n");
    assertThat(Files.readString(x2.resolve("etc/shadow"))).contains("alice:$6$salt$abcdef:19000:", "root:$6$r$rootHash:");
    assertThat(Files.readString(x2.resolve("etc/hostname"))).isEqualTo("edge-01\n");
  }

  @Test
  void fixedUidsThatTheImageContradictsAreRefused() throws Exception {
    MergedImage image = image(t -> {});
    DiskConfig other = DiskConfig.parse("[[customizations.user]]\nname = \"user7\"\nuid = 1005\n", "c.toml");
    assertThatThrownBy(() -> small(image, tmp.resolve("u.raw")).config(other).build())
        .hasMessageContaining("/etc/passwd").hasMessageContaining("user 'user7' exists in the image with uid 1000")
        .hasMessageContaining("uid 1005");
    DiskConfig taken = DiskConfig.parse("[[customizations.user]]\nname = \"eve\"\nuid = 1000\n", "c.toml");
    assertThatThrownBy(() -> small(image, tmp.resolve("u.raw")).config(taken).build())
        .hasMessageContaining("uid 1000 of user 'eve' is already taken by 'user7'");
    assertThat(leftovers()).containsOnly("layout");
  }

  @Test
  void writesOntoADeviceInPlaceWithTheBytesOfTheFile() throws Exception {
    for (String t : List.of("sgdisk", "fsck.fat", "fsck.erofs", "veritysetup", "cmp")) Tools.require(t);
    MergedImage image = image(t -> t.delete("usr/lib/basalt/preinit"));
    Path file = tmp.resolve("file.raw");
    DiskResult f = small(image, file).build();
    Path work = Files.createDirectories(tmp.resolve("work"));

    // a zeroed device: every byte equal
    Path zeroed = tmp.resolve("zeroed.raw");
    try (FileChannel ch = FileChannel.open(zeroed, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
      ch.truncate(0).write(java.nio.ByteBuffer.allocate(1), 400 * MIB - 1);
    }
    DiskResult z = small(image, file).writeOnto(zeroed, work);
    assertThat(z.output()).isEqualTo(zeroed.toAbsolutePath());
    assertThat(z.verity().rootHash()).isEqualTo(f.verity().rootHash());
    Tools.check("cmp", file.toString(), zeroed.toString());

    // a device full of old bytes: equal wherever the file has data; the stale rest is unreachable
    Path dirty = tmp.resolve("dirty.raw");
    sh("head -c " + 400 * MIB + " /dev/zero | tr '\\0' '\\245' > " + dirty);
    DiskResult d = small(image, file).writeOnto(dirty, work);
    assertThat(d.verity().rootHash()).isEqualTo(f.verity().rootHash());
    assertThat(Tools.check("sgdisk", "-v", dirty.toString())).contains("No problems found");
    GptTable t = d.table();
    List<long[]> written = List.of(new long[] {0, MIB + 64 * MIB}, // GPT + ESP
        new long[] {t.partition(2).orElseThrow().offsetBytes(), f.rootFs().imageBytes()},
        new long[] {t.partition(4).orElseThrow().offsetBytes(), t.partition(4).orElseThrow().sizeBytes()},
        new long[] {t.partition(3).orElseThrow().offsetBytes(), MIB},
        new long[] {t.partition(5).orElseThrow().offsetBytes(), MIB},
        new long[] {t.partition(6).orElseThrow().offsetBytes(), MIB},
        new long[] {400 * MIB - 2 * MIB, 2 * MIB});
    for (long[] r : written) {
      assertThat(sh("cmp -n " + r[1] + " -i " + r[0] + ":" + r[0] + " " + file + " " + dirty + " && echo same"))
          .as("bytes %d..%d", r[0], r[0] + r[1]).isEqualTo("same\n");
    }
    Path espImg = tmp.resolve("esp.img");
    sh("dd if=" + dirty + " of=" + espImg + " bs=1M skip=1 count=64 status=none");
    Tools.check("fsck.fat", "-n", espImg.toString());
    Path root = tmp.resolve("root.erofs");
    Path hash = tmp.resolve("hash.img");
    sh("dd if=" + dirty + " of=" + root + " iflag=skip_bytes,count_bytes skip=" + t.partition(2).orElseThrow().offsetBytes()
        + " count=" + d.rootFs().imageBytes() + " status=none");
    sh("dd if=" + dirty + " of=" + hash + " iflag=skip_bytes,count_bytes skip=" + t.partition(4).orElseThrow().offsetBytes()
        + " count=" + t.partition(4).orElseThrow().sizeBytes() + " status=none");
    Tools.check("fsck.erofs", root.toString());
    Tools.check("veritysetup", "verify", root.toString(), hash.toString(), d.verity().rootHash());

    // an image that cannot boot: refused, and the disk it overwrote no longer claims to be one
    MergedImage broken = image(t2 -> t2.delete("boot/vmlinuz-" + TestImage.KVER));
    assertThatThrownBy(() -> small(broken, file).writeOnto(dirty, work)).isInstanceOf(DiskBuildException.class)
        .hasMessageContaining("is not bootable");
    assertThat(Tools.check("sgdisk", "-p", dirty.toString())).contains("Creating new GPT entries")
        .doesNotContain("root-a", "esp");
    try (FileChannel ch = FileChannel.open(dirty, StandardOpenOption.READ)) {
      assertThatThrownBy(() -> GptTable.read(ch)).isInstanceOf(IOException.class);
    }
    try (Stream<Path> s = Files.list(work)) {
      assertThat(s.toList()).as("work files removed").isEmpty();
    }
    // the size must be the target's
    assertThatThrownBy(() -> small(image, file).size(300 * MIB).writeOnto(dirty, work))
        .hasMessageContaining("is " + 400 * MIB + " bytes, not the disk size " + 300 * MIB);
  }

  private Path extractRoot(Path disk, DiskResult r) {
    GptPartition rootA = r.table().partition(2).orElseThrow();
    Path img = tmp.resolve("root-" + System.nanoTime() + ".erofs");
    sh("dd if=" + disk + " of=" + img + " iflag=skip_bytes,count_bytes skip=" + rootA.offsetBytes()
        + " count=" + r.rootFs().imageBytes() + " status=none");
    Path x = tmp.resolve("x-" + System.nanoTime());
    Tools.check(Tools.require("fsck.erofs").toString(), "--extract=" + x, img.toString());
    return x;
  }

  @Test
  void refusesAnImageThatIsNotBootableAndLeavesNothing() throws Exception {
    MergedImage image = image(t -> t.delete("boot/vmlinuz-" + TestImage.KVER).delete("usr/lib/systemd/boot/efi/systemd-bootx64.efi"));
    Path out = tmp.resolve("bad.raw");
    assertThatThrownBy(() -> small(image, out).build())
        .isInstanceOfSatisfying(DiskBuildException.class, e -> {
          assertThat(e.lint()).isPresent();
          assertThat(e.lint().get().errors()).extracting(f -> f.check()).contains(Check.KERNEL, Check.SYSTEMD_BOOT);
        })
        .hasMessageContaining("is not bootable").hasMessageContaining("[kernel]").hasMessageContaining("[systemd-boot]")
        .hasMessageContaining("fix:");
    assertThat(leftovers()).containsOnly("layout");
  }

  @Test
  void refusesAnImageWithoutNodeLayerWhenNoneIsGiven() throws Exception {
    MergedImage image = image(t -> t.delete("usr/lib/basalt/preinit"));
    assertThatThrownBy(() -> DiskBuilder.of(image).output(tmp.resolve("n.raw")).espSize(64 * MIB).rootSize(16 * MIB).build())
        .isInstanceOf(DiskBuildException.class).hasMessageContaining("no Basalt node layer");
    assertThat(leftovers()).containsOnly("layout");
  }

  @Test
  void tooSmallSizesNameTheMinimum() throws Exception {
    MergedImage image = image(t -> {});
    long min = DiskBuilder.minimumSize(64 * MIB, 16 * MIB);
    assertThat(min).isEqualTo(MIB + 64 * MIB + 32 * MIB + 2 * MIB + 256 * MIB + MIB);
    // known before any byte is written
    assertThatThrownBy(() -> small(image, tmp.resolve("s.raw")).size(min - MIB).build())
        .isInstanceOf(DiskBuildException.class).hasMessageContaining("too small").hasMessageContaining("at least " + min + " bytes");
    // known after the root filesystem (default slot 1 GiB)
    long minDefault = DiskBuilder.minimumSize(64 * MIB, 1L << 30);
    assertThatThrownBy(() -> DiskBuilder.of(image).output(tmp.resolve("s.raw")).espSize(64 * MIB).size(1L << 30).build())
        .isInstanceOf(DiskBuildException.class).hasMessageContaining("at least " + minDefault + " bytes (" + minDefault / MIB + " MiB");
    // a root slot smaller than the content
    MergedImage noNode = image(t -> t.delete("usr/lib/basalt/preinit"));
    assertThatThrownBy(() -> small(noNode, tmp.resolve("s.raw"))
            .config(new DiskConfig(List.of(), List.of(), java.util.Optional.empty()))
            .nodeLayer(sink -> {
              byte[] big = new byte[20 << 20];
              java.util.Arrays.fill(big, (byte) 1);
              sink.add(new TreeEntry.RegularFile("usr/lib/basalt/blob", Metadata.of(0644, 0, 0, 0), big.length),
                  new ByteArrayInputStream(big));
              NODE.writeTo(sink);
            }).build())
        .isInstanceOf(DiskBuildException.class).hasMessageContaining("does not fit in the 16 MiB root slot");
    assertThat(leftovers()).containsOnly("layout");
  }

  @Test
  void configErrorsFoundInTheImageLeaveNothing() throws Exception {
    MergedImage image = image(t -> {});
    DiskConfig noGroup = DiskConfig.parse("[[customizations.user]]\nname = \"dave\"\ngroups = [\"wheel\"]\n", "c.toml");
    assertThatThrownBy(() -> small(image, tmp.resolve("g.raw")).config(noGroup).build())
        .hasMessageContaining("/etc/group").hasMessageContaining("group 'wheel' of user 'dave' does not exist");
    DiskConfig existing = DiskConfig.parse("[[customizations.user]]\nname = \"user7\"\n", "c.toml");
    assertThatThrownBy(() -> small(image, tmp.resolve("g.raw")).config(existing).build())
        .hasMessageContaining("user 'user7' already exists");
    assertThat(leftovers()).containsOnly("layout");
  }

  @Test
  void optionsAreValidatedWithTheValue() throws Exception {
    MergedImage image = image(t -> {});
    DiskBuilder b = DiskBuilder.of(image);
    assertThatThrownBy(() -> b.size(1000)).hasMessageContaining("multiple of 1 MiB").hasMessageContaining("1000");
    assertThatThrownBy(() -> b.rootSize(4 * MIB)).hasMessageContaining("at least 8 MiB");
    assertThatThrownBy(() -> b.espSize(32 * MIB)).hasMessageContaining("at least 64 MiB");
    assertThatThrownBy(() -> b.tries(10)).hasMessageContaining("0..9");
    assertThatThrownBy(() -> b.output(tmp.resolve("nope/disk.raw"))).hasMessageContaining("does not exist");
    assertThatThrownBy(b::build).hasMessageContaining("no output");
  }
}

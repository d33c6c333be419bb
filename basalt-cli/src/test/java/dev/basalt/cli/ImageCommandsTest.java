package dev.basalt.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.basalt.testkit.LocalRegistry;
import dev.basalt.testkit.Tools;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * The image commands end to end through the real CLI entry point, against the real CNCF registry, skopeo,
 * umoci, GNU tar, erofs-utils and veritysetup.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ImageCommandsTest {
  @TempDir Path tmp;
  LocalRegistry registry;
  Path rootfs;

  @BeforeAll
  void setUp() throws IOException {
    registry = LocalRegistry.start();
    rootfs = Files.createTempDirectory("basalt-cli-rootfs");
    makeRootfs(rootfs);
  }

  @AfterAll
  void tearDown() {
    registry.close();
    Tools.run(List.of("rm", "-rf", rootfs.toString()));
  }

  /** A small root filesystem with the metadata that tends to get lost: caps, setuid, hardlinks, devices, long names. */
  static void makeRootfs(Path root) throws IOException {
    Files.createDirectories(root.resolve("usr/bin"));
    Files.createDirectories(root.resolve("etc"));
    Files.createDirectories(root.resolve("var/tmp"));
    Files.writeString(root.resolve("etc/os-release"), "ID=basalt-test\n");
    Files.write(root.resolve("usr/bin/ping"), new byte[10_000]);
    Files.setPosixFilePermissions(root.resolve("usr/bin/ping"), PosixFilePermissions.fromString("rwxr-xr-x"));
    Tools.check("setcap", "cap_net_raw+ep", root.resolve("usr/bin/ping").toString());
    Files.writeString(root.resolve("usr/bin/su"), "#!/bin/sh\n");
    Tools.check("chmod", "4755", root.resolve("usr/bin/su").toString());
    Tools.check("chmod", "1777", root.resolve("var/tmp").toString());
    Files.createLink(root.resolve("usr/bin/su-link"), root.resolve("usr/bin/su"));
    Files.createSymbolicLink(root.resolve("bin"), Path.of("usr/bin"));
    Files.writeString(root.resolve("etc/" + "n".repeat(150)), "long name\n");
    Tools.check("mknod", root.resolve("etc/null-dev").toString(), "c", "1", "3");
    Tools.check("chown", "70000:70001", root.resolve("etc/os-release").toString());
    Tools.check("setfattr", "-n", "user.basalt", "-v", "0x00ff10", root.resolve("etc/os-release").toString());
    Tools.check("touch", "-h", "-d", "@1700000000", root.resolve("etc/os-release").toString(), root.resolve("bin").toString());
  }

  @Test
  void importIsReproducibleAndRoundTripsThroughTheRegistryWithIdenticalDigests() throws IOException {
    String first = Cli.run("image", "import", rootfs.toString(), "oci:" + tmp.resolve("a") + ":v1").ok().lastLine();
    String second = Cli.run("image", "import", rootfs.toString(), "oci:" + tmp.resolve("b") + ":v1").ok().lastLine();
    assertThat(first).startsWith("sha256:").isEqualTo(second);

    String ref = "docker://" + registry.hostPort() + "/cli/rootfs:v1";
    String pushed = Cli.run("copy", "--dest-tls-verify=false", "oci:" + tmp.resolve("a") + ":v1", ref).ok().lastLine();
    String pulled = Cli.run("copy", "--src-tls-verify=false", ref, "oci:" + tmp.resolve("c") + ":pulled").ok().lastLine();
    assertThat(pushed).isEqualTo(first);
    assertThat(pulled).isEqualTo(first);

    // skopeo reads both the registry copy and our layout, and agrees on the digest
    String skopeoRegistry = Tools.check("skopeo", "inspect", "--tls-verify=false", "--format", "{{.Digest}}", ref).strip();
    String skopeoLayout = Tools.check("skopeo", "inspect", "--format", "{{.Digest}}", "oci:" + tmp.resolve("c") + ":pulled").strip();
    assertThat(skopeoRegistry).isEqualTo(first);
    assertThat(skopeoLayout).isEqualTo(first);

    String inspect = Cli.run("inspect", "--tls-verify=false", ref).ok().out();
    assertThat(inspect).contains("\"Digest\" : \"" + first + "\"").contains("\"Architecture\" : \"amd64\"")
        .contains("\"Name\" : \"" + registry.hostPort() + "/cli/rootfs\"");
  }

  @Test
  void exportGivesBackTheImportedTreeAsGnuTarExtractsIt() throws IOException {
    Cli.run("image", "import", rootfs.toString(), "oci:" + tmp.resolve("img") + ":v1").ok();
    Path tar = tmp.resolve("export.tar");
    Cli.run("export", "oci:" + tmp.resolve("img") + ":v1", "--tar", tar.toString()).ok();
    Path out = Files.createDirectory(tmp.resolve("extracted"));
    Tools.check("tar", "--xattrs", "--xattrs-include=*", "--numeric-owner", "-xpf", tar.toString(), "-C", out.toString());
    assertThat(snapshot(out)).isEqualTo(snapshot(rootfs));
  }

  @Test
  void mkfsErofsFromImageAndFromDirectoryGiveTheSameVerifiedTree() throws IOException {
    Cli.run("image", "import", rootfs.toString(), "oci:" + tmp.resolve("img") + ":v1").ok();
    Path fromImage = tmp.resolve("img.erofs");
    Path hash = tmp.resolve("img.verity");
    String root = Cli.run("mkfs", "erofs", "oci:" + tmp.resolve("img") + ":v1", fromImage.toString(), "--verity", hash.toString())
        .ok().lastLine();
    assertThat(root).matches("[0-9a-f]{64}");
    Tools.check("veritysetup", "verify", fromImage.toString(), hash.toString(), root);
    Path fromDir = tmp.resolve("dir.erofs");
    Cli.run("mkfs", "erofs", rootfs.toString(), fromDir.toString()).ok();
    for (Path image : List.of(fromImage, fromDir)) {
      // fsck.erofs 1.5 --extract drops xattrs and setuid bits, so the kernel is the oracle for the full tree
      Tools.check("fsck.erofs", image.toString());
      Path mnt = Files.createDirectory(tmp.resolve(image.getFileName() + ".mnt"));
      Tools.check("mount", "-o", "loop,ro", "-t", "erofs", image.toString(), mnt.toString());
      try {
        assertThat(snapshot(mnt)).as(image.toString()).isEqualTo(snapshot(rootfs));
      } finally {
        Tools.check("umount", mnt.toString());
      }
    }
    // the same image gives the same bytes
    Path again = tmp.resolve("again.erofs");
    Cli.run("mkfs", "erofs", "oci:" + tmp.resolve("img") + ":v1", again.toString()).ok();
    assertThat(Files.mismatch(fromImage, again)).isEqualTo(-1L);
  }

  @Test
  void badInputFailsWithAClearMessageAndLeavesNoOutput() throws IOException {
    Cli.Run missingTag = Cli.run("copy", "--src-tls-verify=false", "docker://" + registry.hostPort() + "/cli/none:nope",
        "oci:" + tmp.resolve("x") + ":t");
    assertThat(missingTag.exitCode()).isEqualTo(1);
    assertThat(missingTag.err()).contains("cli/none").contains("nope");

    Cli.Run badRef = Cli.run("inspect", "docker://UPPER/Case:bad:tag");
    assertThat(badRef.exitCode()).isNotZero();
    assertThat(badRef.err()).contains("UPPER/Case:bad:tag");

    Cli.Run noRootfs = Cli.run("image", "import", tmp.resolve("missing").toString(), "oci:" + tmp.resolve("y") + ":t");
    assertThat(noRootfs.exitCode()).isEqualTo(1);
    assertThat(noRootfs.err()).contains("missing");

    // a layer blob corrupted on disk: export names the blob and leaves no tar behind
    Cli.run("image", "import", rootfs.toString(), "oci:" + tmp.resolve("bad") + ":v1").ok();
    Path layer;
    try (Stream<Path> blobs = Files.list(tmp.resolve("bad/blobs/sha256"))) {
      layer = blobs.max((p, q) -> Long.compare(size(p), size(q))).orElseThrow();
    }
    byte[] bytes = Files.readAllBytes(layer);
    bytes[bytes.length / 2] ^= 0x55;
    Files.write(layer, bytes);
    Path tar = tmp.resolve("bad.tar");
    Cli.Run corrupt = Cli.run("export", "oci:" + tmp.resolve("bad") + ":v1", "--tar", tar.toString());
    assertThat(corrupt.exitCode()).isEqualTo(1);
    assertThat(corrupt.err()).contains(layer.getFileName().toString().substring(0, 12));
    try (Stream<Path> left = Files.list(tmp)) {
      assertThat(left.map(p -> p.getFileName().toString())).noneMatch(n -> n.startsWith("bad.tar") || n.startsWith(".bad.tar"));
    }
  }

  private static long size(Path p) {
    try {
      return Files.size(p);
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  /** Every entry with type, mode, owner, size, content hash, link target, device, xattrs and mtime (files). */
  static String snapshot(Path root) {
    String script = "cd \"$1\" && find . -mindepth 1 -printf '%P|%y|%m|%U:%G|%l|' -exec sh -c "
        + "'if [ -f \"$1\" ] && [ ! -L \"$1\" ]; then echo \"$(stat -c %s \"$1\"):$(sha256sum < \"$1\" | cut -c1-16)\"; "
        + "elif [ -b \"$1\" ] || [ -c \"$1\" ]; then stat -c %t:%T \"$1\"; else echo; fi' _ {} \\; | sort;"
        + " getfattr -R -h -d -m - -e hex --absolute-names . 2>/dev/null | sed 's/^# file: /F /' ;"
        + " find . -mindepth 1 -type f -printf '%P %T@\\n' | sort";
    String out = Tools.check("bash", "-c", script, "_", root.toString());
    return new String(out.getBytes(StandardCharsets.UTF_8), StandardCharsets.UTF_8);
  }
}

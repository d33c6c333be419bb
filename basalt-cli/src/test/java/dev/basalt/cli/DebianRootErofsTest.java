package dev.basalt.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.basalt.testkit.Tools;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The real Debian test OS, straight from its image to EROFS (no extraction): the kernel mounts it and it holds
 * exactly the debootstrapped tree (imported from its directory; rootfs.tar clamps mtimes) — content, types, modes, owners, link targets, devices, hardlink counts,
 * mtimes and every xattr (security.capability included). fsck.erofs 1.5 --extract cannot be the oracle here: it
 * drops xattrs, hardlinks and setuid bits.
 */
class DebianRootErofsTest {
  @TempDir Path tmp;

  @Test
  void imageToErofsMountsAsExactlyTheDebootstrappedTree() throws Exception {
    Path repo = Path.of("").toAbsolutePath();
    while (repo != null && !Files.isRegularFile(repo.resolve("fixtures/testos/build.sh"))) repo = repo.getParent();
    if (repo == null) throw new AssertionError("fixtures/testos/build.sh not found");
    List<String> cmd = List.of("bash", repo.resolve("fixtures/testos/build.sh").toString(), "--print-dir");
    Path os = Path.of(Tools.run(cmd, null, 1800).requireSuccess(cmd).stdout().strip());
    Path image = tmp.resolve("oci");
    Cli.run("image", "import", "--compression", "zstd", os.resolve("rootfs").toString(), "oci:" + image + ":1").ok();
    Path erofs = tmp.resolve("root.erofs");
    Path hash = tmp.resolve("root.verity");
    String root = Cli.run("mkfs", "erofs", "oci:" + image + ":1", erofs.toString(), "--verity", hash.toString()).ok().lastLine();
    Tools.check("fsck.erofs", erofs.toString());
    Tools.check("veritysetup", "verify", erofs.toString(), hash.toString(), root);

    Path mnt = Files.createDirectory(tmp.resolve("mnt"));
    Tools.check("mount", "-o", "loop,ro", "-t", "erofs", erofs.toString(), mnt.toString());
    try {
      Path src = os.resolve("rootfs");
      assertThat(metadata(mnt)).isEqualTo(metadata(src));
      assertThat(xattrs(mnt)).isEqualTo(xattrs(src)).contains("security.capability=");
      Tools.check("diff", "-r", "--no-dereference", src.toString(), mnt.toString());
    } finally {
      Tools.check("umount", mnt.toString());
    }
  }

  /** One line per entry: path, type, mode, owner, size (non-directories), link target, link count, mtime. */
  private static String metadata(Path root) {
    return Tools.check("bash", "-c",
        "cd \"$1\" && find . -mindepth 1 \\( -type d -printf '%P|%y|%m|%U:%G|%n|%T@\\n' \\) -o "
            + "-printf '%P|%y|%m|%U:%G|%s|%l|%n|%T@\\n' | sort", "_", root.toString());
  }

  private static String xattrs(Path root) {
    return Tools.check("bash", "-c", "cd \"$1\" && getfattr -R -h -d -m - -e hex . 2>/dev/null", "_", root.toString());
  }
}

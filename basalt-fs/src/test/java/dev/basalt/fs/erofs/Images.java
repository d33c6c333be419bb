package dev.basalt.fs.erofs;

import static org.assertj.core.api.Assertions.assertThat;

import dev.basalt.fs.tree.DirectoryTreeReader;
import dev.basalt.fs.tree.TreeSnapshot;
import dev.basalt.testkit.Tools;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.function.UnaryOperator;

/** Test helper: build images from directories and check them with the real erofs-utils and kernel. */
final class Images {
  private Images() {}

  interface MountedCheck<T> {
    T apply(Path mountPoint) throws IOException;
  }

  static ErofsWriter.Result write(Path source, Path image, UnaryOperator<ErofsWriter.Builder> options)
      throws IOException {
    try (ErofsWriter w = options.apply(ErofsWriter.builder().output(image)).build()) {
      DirectoryTreeReader.of(source).feed(w);
      w.finish();
      return w.result();
    }
  }

  /** fsck.erofs (which reads every file's data) and dump.erofs -s both accept the image. */
  static void assertClean(Path image) {
    Tools.require("fsck.erofs");
    Tools.require("dump.erofs");
    var fsck = Tools.run(List.of("fsck.erofs", image.toString()));
    assertThat(fsck.exitCode()).as("fsck.erofs %s\n%s%s", image, fsck.stdout(), fsck.stderr()).isZero();
    assertThat(fsck.stdout() + fsck.stderr()).doesNotContainIgnoringCase("corrupt").doesNotContain("<E>");
    var dump = Tools.run(List.of("dump.erofs", "-s", image.toString()));
    assertThat(dump.exitCode()).as("dump.erofs -s\n%s%s", dump.stdout(), dump.stderr()).isZero();
    assertThat(dump.stdout()).contains("0xE0F5E1E2");
  }

  static Path extract(Path image, Path dir) {
    Tools.check("fsck.erofs", "--extract=" + dir, image.toString());
    return dir;
  }

  static <T> T mounted(Path image, Path mountPoint, MountedCheck<T> check) throws IOException {
    return mounted(image, mountPoint, "", check);
  }

  static <T> T mounted(Path image, Path mountPoint, String extraOptions, MountedCheck<T> check) throws IOException {
    Tools.require("mount");
    Files.createDirectories(mountPoint);
    Tools.check("mount", "-t", "erofs", "-o", "loop,ro" + extraOptions, image.toString(), mountPoint.toString());
    try {
      return check.apply(mountPoint);
    } finally {
      Tools.check("umount", mountPoint.toString());
    }
  }

  static TreeSnapshot snapshotMounted(Path image, Path mountPoint) throws IOException {
    return mounted(image, mountPoint, TreeSnapshot::of);
  }

  static String dumpInode(Path image, String path) {
    return Tools.check("dump.erofs", "--path=" + path, image.toString());
  }
}

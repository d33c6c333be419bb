package dev.basalt.image.lint;

import static org.assertj.core.api.Assertions.assertThat;

import dev.basalt.image.initramfs.Compression;
import dev.basalt.image.testing.DirectoryTree;
import dev.basalt.image.testing.TestOs;
import java.io.IOException;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Lint on the real Debian test OS: clean but for the node layer basalt disk adds. */
class ImageLintDebianTest {

  private static void assertCleanDebian(LintReport r) {
    Map<String, String> env = TestOs.env();
    assertThat(r.errors()).as(r.toText()).isEmpty();
    assertThat(r.warnings()).as(r.toText()).extracting(Finding::check).containsExactly(Check.NODE_LAYER);
    assertThat(r.boot()).contains(new LintReport.BootFiles(env.get("KVER"), "/" + env.get("KERNEL"),
        "/" + env.get("INITRD"), Compression.valueOf(env.get("INITRD_COMPRESSION").toUpperCase())));
    assertThat(r.kargs()).isEmpty();
  }

  @Test
  void theDebianTestOsIsBootable() throws IOException {
    long start = System.nanoTime();
    LintReport r = ImageLint.create().check(new DirectoryRootFs(TestOs.rootfs()));
    System.out.printf("lint (directory) in %d ms%n%s", (System.nanoTime() - start) / 1_000_000, r.toText());
    assertCleanDebian(r);
  }

  @Test
  void theSameFromATreeStream() throws IOException {
    long start = System.nanoTime();
    try (TreeRootFs.Sink sink = TreeRootFs.sink()) {
      DirectoryTree.feed(TestOs.rootfs(), sink);
      try (TreeRootFs fs = sink.build()) {
        LintReport r = ImageLint.create().check(fs);
        System.out.printf("collect + lint (tree) in %d ms%n", (System.nanoTime() - start) / 1_000_000);
        assertCleanDebian(r);
        assertThat(r.toJson()).isEqualTo(ImageLint.create().check(new DirectoryRootFs(TestOs.rootfs())).toJson());
      }
    }
  }
}

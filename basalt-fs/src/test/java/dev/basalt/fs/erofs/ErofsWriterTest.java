package dev.basalt.fs.erofs;

import static org.assertj.core.api.Assertions.assertThat;

import dev.basalt.fs.tree.TestTrees;
import dev.basalt.fs.tree.TreeSnapshot;
import dev.basalt.fs.tree.TreeSnapshot.Ignore;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ErofsWriterTest {
  @TempDir static Path shared;
  static Path source;
  static Path image;
  static TreeSnapshot expected;

  @BeforeAll
  static void buildEdgeCaseImage() throws Exception {
    source = shared.resolve("src");
    TestTrees.edgeCases(source);
    expected = TreeSnapshot.of(source);
    image = shared.resolve("edge.erofs");
    ErofsWriter.Result r = Images.write(source, image, b -> b);
    assertThat(r.imageBytes()).isEqualTo(Files.size(image)).isEqualTo(r.blocks() * 4096);
    assertThat(r.inodes()).isEqualTo(expected.nodes().size() - 2); // two extra names of one hardlinked file
  }

  @Test
  void fsckAndDumpAcceptTheImage() {
    Images.assertClean(image);
  }

  @Test
  void kernelMountShowsExactlyTheSourceTree(@TempDir Path tmp) throws Exception {
    TreeSnapshot mounted = Images.snapshotMounted(image, tmp.resolve("mnt"));
    assertThat(expected.diff(mounted)).isEmpty();
  }

  @Test
  void fsckExtractGivesBackTheSourceTree(@TempDir Path tmp) throws Exception {
    TreeSnapshot extracted = TreeSnapshot.of(Images.extract(image, tmp.resolve("out")));
    // erofs-utils 1.5 extraction drops xattrs and hardlinks and chowns after chmod (losing setuid/setgid).
    assertThat(expected.diff(extracted, Ignore.XATTRS, Ignore.HARDLINKS, Ignore.SETID_ON_NON_DIRS)).isEmpty();
  }
}

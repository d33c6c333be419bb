package dev.basalt.oci.transport;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.basalt.oci.api.ImageException;
import dev.basalt.testkit.Tools;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Staging beside FILE and the partial-file-then-rename publication. */
class ArchiveOutputTest {
  @TempDir Path tmp;

  @Test
  void publishWritesATarThatGnuTarListsAndReplacesTheFile() throws Exception {
    Path file = tmp.resolve("out.tar");
    Files.writeString(file, "old");
    ArchiveOutput.publish(file, tar -> {
      ArchiveOutput.addBytes(tar, "a.json", "{}".getBytes());
      tar.add(ArchiveOutput.dirHeader("d"), null);
      tar.add(ArchiveOutput.symlinkHeader("d/l", "../a.json"), null);
    });
    String listing = Tools.check("tar", "-tvf", file.toString());
    assertThat(listing.lines().toList()).hasSize(3);
    assertThat(listing).contains("-rw-r--r-- 0/0").contains(" 1970-01-01 00:00 a.json").contains("d/l -> ../a.json");
    assertThat(ArchiveFixtures.listing(tmp)).containsExactly("out.tar");
  }

  @Test
  void aFailingBodyLeavesTheOldFileAndNoPartial() throws Exception {
    Path file = tmp.resolve("out.tar");
    Files.writeString(file, "old");
    assertThatThrownBy(() -> ArchiveOutput.publish(file, tar -> {
      ArchiveOutput.addBytes(tar, "a", new byte[100_000]);
      throw new IOException("source failed");
    })).hasMessage("source failed");
    assertThat(Files.readString(file)).isEqualTo("old");
    assertThat(ArchiveFixtures.listing(tmp)).containsExactly("out.tar");
  }

  @Test
  void stagingIsAHiddenDirectoryBesideTheFile() throws Exception {
    Path staging = ArchiveOutput.stagingDir(tmp.resolve("x.tar"), "n");
    assertThat(staging.getParent()).isEqualTo(tmp.toAbsolutePath());
    assertThat(staging.getFileName().toString()).startsWith(".x.tar.basalt-");
    assertThatThrownBy(() -> ArchiveOutput.stagingDir(tmp.resolve("nope/x.tar"), "n"))
        .isInstanceOf(ImageException.class).hasMessage("n: directory " + tmp.resolve("nope") + " does not exist");
  }
}

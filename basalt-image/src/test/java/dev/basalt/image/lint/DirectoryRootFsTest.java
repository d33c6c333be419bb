package dev.basalt.image.lint;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.basalt.fs.tree.Metadata;
import dev.basalt.image.lint.RootFs.Kind;
import dev.basalt.image.lint.RootFs.Node;
import dev.basalt.image.testing.TestImage;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DirectoryRootFsTest {
  @TempDir Path root;
  TestImage image;
  DirectoryRootFs fs;

  @BeforeEach
  void setUp() throws IOException {
    image = TestImage.good(root);
    fs = new DirectoryRootFs(root);
  }

  @Test
  void lookupIsLiteralAndResolveFollowsSymlinks() throws IOException {
    assertThat(fs.lookup("bin/sh")).isEmpty(); // "bin" is a symlink
    assertThat(fs.lookup("usr/bin/sh")).get().extracting(Node::kind, Node::linkTarget)
        .containsExactly(Kind.SYMLINK, "dash");
    assertThat(fs.resolve("bin/sh")).get().extracting(Node::path, Node::kind)
        .containsExactly("usr/bin/dash", Kind.REGULAR_FILE);
    assertThat(fs.resolve("sbin/init")).get().extracting(Node::path).isEqualTo("usr/lib/systemd/systemd");
    assertThat(fs.lookup("")).get().extracting(Node::kind).isEqualTo(Kind.DIRECTORY);
    assertThat(fs.resolve("")).get().extracting(Node::path).isEqualTo("");
  }

  @Test
  void absoluteAndDotDotTargetsStayInsideTheImage() throws IOException {
    // The host has /etc/hostname and /etc/passwd; the image has neither.
    image.symlink("etc/host-link", "/etc/passwd").symlink("usr/up", "../../../../../../etc/os-release")
        .symlink("abs-lib", "/usr/lib");
    assertThat(Files.exists(Path.of("/etc/passwd"))).isTrue();
    assertThat(fs.resolve("etc/host-link")).isEmpty();
    assertThat(fs.resolve("usr/up")).get().extracting(Node::path).isEqualTo("etc/os-release");
    assertThat(fs.resolve("abs-lib/systemd/systemd")).get().extracting(Node::path).isEqualTo("usr/lib/systemd/systemd");
    assertThat(fs.lookup("abs-lib/systemd")).isEmpty();
  }

  @Test
  void loopsAndOverlongChainsDoNotResolve() throws IOException {
    image.symlink("loop-a", "loop-b").symlink("loop-b", "loop-a");
    assertThat(fs.resolve("loop-a")).isEmpty();
    // A chain of 40 links resolves (Linux MAXSYMLINKS); 41 do not.
    image.symlink("chain/l0", "/etc/os-release");
    for (int i = 1; i <= 40; i++) image.symlink("chain/l" + i, "l" + (i - 1));
    assertThat(fs.resolve("chain/l39")).get().extracting(Node::path).isEqualTo("etc/os-release");
    assertThat(fs.resolve("chain/l40")).isEmpty();
    assertThat(fs.resolve("etc/os-release/x")).isEmpty(); // a file is no directory
  }

  @Test
  void metadataComesFromTheHost() throws IOException {
    Path f = root.resolve("etc/os-release");
    Files.setAttribute(f, "unix:uid", 1234);
    Files.setAttribute(f, "unix:gid", 5678);
    Files.setLastModifiedTime(f, FileTime.fromMillis(1_700_000_000_123L));
    assertThat(fs.lookup("etc/os-release")).get().isEqualTo(new Node("etc/os-release", Kind.REGULAR_FILE,
        Metadata.of(0644, 1234, 5678, 1_700_000_000L).withMtime(1_700_000_000L, 123_000_000), 10, null));
  }

  @Test
  void listAndOpen() throws IOException {
    assertThat(fs.list("usr/lib/bootc/kargs.d")).containsExactly("10-console.toml", "20-arm.toml", "README");
    try (InputStream in = fs.open("etc/os-release")) {
      assertThat(in.readAllBytes()).asString().isEqualTo("ID=debian\n");
    }
    assertThatThrownBy(() -> fs.list("etc/os-release")).isInstanceOf(NotDirectoryException.class)
        .hasMessage("/etc/os-release");
    assertThatThrownBy(() -> fs.list("bin")).isInstanceOf(NotDirectoryException.class);
    assertThatThrownBy(() -> fs.open("usr/bin/sh")).hasMessage("/usr/bin/sh is not a regular file but a SYMLINK");
    assertThatThrownBy(() -> fs.open("bin/dash")).isInstanceOf(NoSuchFileException.class).hasMessage("/bin/dash");
    assertThatThrownBy(() -> fs.lookup("/etc")).isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void theRootMustBeADirectory() {
    assertThatThrownBy(() -> new DirectoryRootFs(root.resolve("etc/os-release")))
        .isInstanceOf(NotDirectoryException.class)
        .hasMessageEndingWith("etc/os-release (the root of an image must be a directory)");
  }

  @Test
  void onlySymlinksHaveTargets() {
    assertThatThrownBy(() -> new Node("a", Kind.SYMLINK, Metadata.of(0777, 0, 0, 0), 0, null))
        .hasMessage("a symlink, and only a symlink, has a target: a");
    assertThatThrownBy(() -> new Node("a", Kind.REGULAR_FILE, Metadata.of(0644, 0, 0, 0), 0, "b"))
        .isInstanceOf(IllegalArgumentException.class);
  }
}

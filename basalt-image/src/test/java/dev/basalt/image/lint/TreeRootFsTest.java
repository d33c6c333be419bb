package dev.basalt.image.lint;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.basalt.fs.tree.Metadata;
import dev.basalt.fs.tree.TreeEntry;
import dev.basalt.fs.tree.TreeException;
import dev.basalt.image.lint.RootFs.Kind;
import dev.basalt.image.lint.RootFs.Node;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class TreeRootFsTest {
  private static final Metadata FILE = Metadata.of(0644, 0, 0, 1_700_000_000L);
  private static final Metadata DIR = Metadata.of(0700, 1, 2, 1_700_000_000L);

  private static void file(TreeRootFs.Sink sink, String path, byte[] content) throws IOException {
    sink.add(new TreeEntry.RegularFile(path, FILE, content.length), new ByteArrayInputStream(content));
  }

  private static String read(RootFs fs, String path) throws IOException {
    try (InputStream in = fs.open(path)) {
      return new String(in.readAllBytes());
    }
  }

  @Test
  void collectsAStreamInAnyOrderWithImpliedDirectories() throws IOException {
    try (TreeRootFs.Sink sink = TreeRootFs.sink()) {
      file(sink, "usr/bin/dash", "#!".getBytes());
      sink.add(new TreeEntry.Symlink("usr/bin/sh", FILE, "dash"), null);
      sink.add(new TreeEntry.Symlink("bin", FILE, "usr/bin"), null);
      sink.add(new TreeEntry.Directory("usr", DIR), null); // after its children, as a top-down merge sends it
      sink.add(new TreeEntry.Fifo("run/fifo", FILE), null);
      sink.add(new TreeEntry.Device("dev/null", FILE, TreeEntry.DeviceType.CHARACTER, 1, 3), null);
      sink.finish();
      try (TreeRootFs fs = sink.build()) {
        assertThat(fs.lookup("usr")).get().extracting(Node::metadata).isEqualTo(DIR);
        assertThat(fs.lookup("usr/bin")).get().isEqualTo(new Node("usr/bin", Kind.DIRECTORY,
            Metadata.IMPLIED_DIRECTORY, 0, null));
        assertThat(fs.lookup("")).get().extracting(Node::kind).isEqualTo(Kind.DIRECTORY);
        assertThat(fs.list("")).containsExactly("bin", "dev", "run", "usr");
        assertThat(fs.list("usr/bin")).containsExactly("dash", "sh");
        assertThat(fs.lookup("bin/sh")).isEmpty();
        assertThat(fs.resolve("bin/sh")).get().extracting(Node::path, Node::size).containsExactly("usr/bin/dash", 2L);
        assertThat(fs.lookup("dev/null")).get().extracting(Node::kind).isEqualTo(Kind.DEVICE);
        assertThat(fs.lookup("run/fifo")).get().extracting(Node::kind).isEqualTo(Kind.FIFO);
        assertThatThrownBy(() -> fs.list("bin")).hasMessage("/bin");
        assertThatThrownBy(() -> fs.list("nope")).hasMessage("/nope");
      }
    }
  }

  @Test
  void keepsOnlySelectedContentOnTheHeapOrSpooled() throws IOException {
    byte[] big = new byte[200_000];
    big[199_999] = 42;
    Path spool;
    try (TreeRootFs.Sink sink = TreeRootFs.sink()) {
      file(sink, "etc/os-release", "ID=debian\n".getBytes());
      file(sink, "boot/initrd.img-6.1", big);
      file(sink, "etc/passwd", "root:x:0:0".getBytes());
      sink.add(new TreeEntry.Hardlink("boot/initrd.img-6.1.old", "boot/initrd.img-6.1"), null);
      sink.finish();
      try (TreeRootFs fs = sink.build()) {
        assertThat(read(fs, "etc/os-release")).isEqualTo("ID=debian\n");
        try (InputStream in = fs.open("boot/initrd.img-6.1")) {
          assertThat(in.readAllBytes()).isEqualTo(big);
        }
        try (InputStream in = fs.open("boot/initrd.img-6.1.old")) {
          assertThat(in.readAllBytes()).hasSize(200_000);
        }
        assertThat(fs.lookup("boot/initrd.img-6.1.old")).get().extracting(Node::kind, Node::size)
            .containsExactly(Kind.REGULAR_FILE, 200_000L);
        assertThatThrownBy(() -> fs.open("etc/passwd")).hasMessage(
            "/etc/passwd: content not kept (this view keeps only the files its predicate selects)");
        spool = spoolDirs().stream().filter(Files::exists).findFirst().orElseThrow();
        assertThat(spool).isNotEmptyDirectory();
      }
      assertThat(spool).doesNotExist();
    }
  }

  @Test
  void closingAnUnbuiltSinkDeletesItsSpool() throws IOException {
    List<Path> before = spoolDirs();
    try (TreeRootFs.Sink sink = TreeRootFs.sink(p -> true)) {
      file(sink, "big", new byte[100_000]);
      assertThat(spoolDirs()).hasSize(before.size() + 1);
    }
    assertThat(spoolDirs()).containsExactlyInAnyOrderElementsOf(before);
  }

  private static List<Path> spoolDirs() throws IOException {
    try (Stream<Path> s = Files.list(Path.of(System.getProperty("java.io.tmpdir")))) {
      return s.filter(p -> p.getFileName().toString().startsWith("basalt-rootfs-")).toList();
    }
  }

  @Test
  void refusesBadStreamsNamingThePath() throws IOException {
    try (TreeRootFs.Sink sink = TreeRootFs.sink()) {
      file(sink, "a", "x".getBytes());
      assertThatThrownBy(() -> file(sink, "a", "y".getBytes())).isInstanceOf(TreeException.class)
          .hasMessage("/a: duplicate entry in the tree stream");
      assertThatThrownBy(() -> file(sink, "b", "y".getBytes())).isInstanceOf(IllegalStateException.class)
          .hasMessage("sink already finished or failed");
    }
    try (TreeRootFs.Sink sink = TreeRootFs.sink()) {
      assertThatThrownBy(() -> sink.add(new TreeEntry.Hardlink("b", "a"), null)).isInstanceOf(TreeException.class)
          .hasMessage("/b: hardlink to /a, which is not earlier in the stream");
    }
    try (TreeRootFs.Sink sink = TreeRootFs.sink()) {
      assertThatThrownBy(() -> sink.add(new TreeEntry.RegularFile("etc/os-release", FILE, 10),
          new ByteArrayInputStream("abc".getBytes()))).isInstanceOf(TreeException.class)
          .hasMessage("/etc/os-release: content ended after 3 of 10 bytes");
    }
    try (TreeRootFs.Sink sink = TreeRootFs.sink()) {
      sink.add(new TreeEntry.Symlink("bin", FILE, "usr/bin"), null);
      file(sink, "bin/sh", "x".getBytes());
      assertThatThrownBy(sink::finish).isInstanceOf(TreeException.class)
          .hasMessage("/bin: is a SYMLINK but the tree has entries below it (/bin/sh)");
      assertThatThrownBy(sink::build).isInstanceOf(IllegalStateException.class)
          .hasMessage("finish() the sink before build()");
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"boot/vmlinuz-6.1.0-50-amd64", "boot/initrd.img-6.1.0-50-amd64",
      "usr/lib/modules/6.12.0/vmlinuz", "usr/lib/modules/6.12.0/initramfs.img", "usr/lib/bootc/kargs.d/10-a.toml",
      "etc/os-release", "usr/lib/os-release", "usr/lib/systemd/boot/efi/systemd-bootx64.efi"})
  void lintContentSelectsBootFiles(String path) {
    assertThat(TreeRootFs.LINT_CONTENT.test(path)).isTrue();
  }

  @ParameterizedTest
  @ValueSource(strings = {"boot/config-6.1.0", "usr/lib/modules/6.12.0/kernel/fs/erofs/erofs.ko", "etc/passwd",
      "usr/lib/bootc/kargs.d/README", "usr/lib/bootc/kargs.d/sub/a.toml", "boot/vmlinuz-6.1/x"})
  void lintContentSkipsTheRest(String path) {
    assertThat(TreeRootFs.LINT_CONTENT.test(path)).isFalse();
  }
}

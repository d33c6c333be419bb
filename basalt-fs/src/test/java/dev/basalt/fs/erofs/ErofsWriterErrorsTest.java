package dev.basalt.fs.erofs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.basalt.fs.tree.Metadata;
import dev.basalt.fs.tree.TreeEntry;
import dev.basalt.fs.tree.TreeException;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Bad input: a precise TreeException naming the path, and no partial image left behind. */
class ErofsWriterErrorsTest {
  static final Metadata MD = Metadata.of(0644, 0, 0, 0);
  static final Metadata DIR = Metadata.of(0755, 0, 0, 0);

  @TempDir Path tmp;

  static TreeEntry file(String path, int size) {
    return new TreeEntry.RegularFile(path, MD, size);
  }

  static Stream<Arguments> badStreams() {
    return Stream.of(
        Arguments.of("name over 255 bytes", List.of(file("d/" + "x".repeat(256), 1)),
            "/d/" + "x".repeat(256) + ": name is 256 bytes, EROFS allows 255"),
        Arguments.of("duplicate file", List.of(file("a", 1), file("a", 1)), "/a: duplicate path"),
        Arguments.of("duplicate directory", List.of(new TreeEntry.Directory("d", DIR), new TreeEntry.Directory("d", DIR)),
            "/d: duplicate path"),
        Arguments.of("file where children implied a directory", List.of(file("a/b", 1), file("a", 1)),
            "/a: is already a directory (implied by entries below it)"),
        Arguments.of("parent is a file", List.of(file("a", 1), file("a/b/c", 1)), "/a/b/c: parent /a is not a directory"),
        Arguments.of("hardlink to unknown", List.of(new TreeEntry.Hardlink("l", "nowhere")),
            "/l: hardlink target /nowhere is unknown (it must appear earlier in the stream)"),
        Arguments.of("hardlink to directory", List.of(new TreeEntry.Directory("d", DIR), new TreeEntry.Hardlink("l", "d")),
            "/l: hardlink target /d is a directory"),
        Arguments.of("foreign xattr namespace", List.of(new TreeEntry.RegularFile("x",
            MD.withXattrs(Map.of("system.sockprotoname", new byte[] {1})), 1)),
            "/x: xattr 'system.sockprotoname' is in a namespace EROFS cannot store"),
        Arguments.of("xattr value too big", List.of(new TreeEntry.RegularFile("x",
            MD.withXattrs(Map.of("user.big", new byte[70_000])), 1)), "/x: xattr 'user.big' value is 70000 bytes, max 65535"),
        Arguments.of("symlink target too long", List.of(new TreeEntry.Symlink("s", MD, "t".repeat(4096))),
            "/s: symlink target is 4096 bytes, max 4095"),
        Arguments.of("device number too big", List.of(new TreeEntry.Device("dev", MD, TreeEntry.DeviceType.BLOCK, 4096, 0)),
            "/dev: device number 4096:0 does not fit"));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("badStreams")
  void badInputIsRefusedAndThePartialImageRemoved(String what, List<TreeEntry> entries, String message) throws Exception {
    Path img = tmp.resolve("bad.erofs");
    ErofsWriter w = ErofsWriter.builder().output(img).build();
    assertThat(img).exists();
    assertThatThrownBy(() -> {
      for (TreeEntry e : entries) w.add(e, e instanceof TreeEntry.RegularFile ? new ByteArrayInputStream(new byte[1]) : null);
      w.finish();
    }).isInstanceOf(TreeException.class).hasMessageContaining(message);
    assertThat(img).doesNotExist();
    assertThatThrownBy(() -> w.add(file("z", 0), new ByteArrayInputStream(new byte[0])))
        .isInstanceOf(IllegalStateException.class).hasMessageContaining("failed earlier");
  }

  @Test
  void contentShorterThanDeclaredIsRefused() throws Exception {
    Path img = tmp.resolve("short.erofs");
    try (ErofsWriter w = ErofsWriter.builder().output(img).build()) {
      w.add(file("ok", 3), new ByteArrayInputStream(new byte[3]));
      assertThatThrownBy(() -> w.add(file("dir/short", 10_000), new ByteArrayInputStream(new byte[5000])))
          .isInstanceOf(TreeException.class).hasMessage("/dir/short: content ended after 5000 of 10000 bytes");
    }
    assertThat(img).doesNotExist();
  }

  @Test
  void tooManyInodesIsRefused() throws Exception {
    Path img = tmp.resolve("many.erofs");
    try (ErofsWriter w = ErofsWriter.builder().output(img).inodeLimit(3).build()) {
      w.add(file("a", 0), new ByteArrayInputStream(new byte[0]));
      w.add(new TreeEntry.Hardlink("b", "a"), null); // a second name is not a new inode
      w.add(file("c", 0), new ByteArrayInputStream(new byte[0]));
      assertThatThrownBy(() -> w.add(file("d/e", 0), new ByteArrayInputStream(new byte[0])))
          .isInstanceOf(TreeException.class).hasMessage("/d: more than 3 inodes, the EROFS limit");
    }
    assertThat(img).doesNotExist();
  }

  @Test
  void closingWithoutFinishRemovesTheFile() throws Exception {
    Path img = tmp.resolve("abandoned.erofs");
    try (ErofsWriter w = ErofsWriter.builder().output(img).build()) {
      w.add(file("a", 5), new ByteArrayInputStream(new byte[5]));
    }
    assertThat(img).doesNotExist();
  }

  @Test
  void regionTooSmallNamesBothSizesAndLeavesTheCallersFile(@TempDir Path dir) throws Exception {
    Path disk = dir.resolve("disk.img");
    Files.write(disk, new byte[1 << 20]);
    try (FileChannel ch = FileChannel.open(disk, StandardOpenOption.READ, StandardOpenOption.WRITE);
        ErofsWriter w = ErofsWriter.builder().output(ch, 65536, 65536).stagingBytes(4096).build()) {
      byte[] content = new byte[200_000];
      new java.util.Random(1).nextBytes(content);
      assertThatThrownBy(() -> w.add(file("big", 200_000), new ByteArrayInputStream(content)))
          .isInstanceOf(TreeException.class)
          .hasMessageMatching("/big: image needs at least \\d+ bytes, region \\[65536, 131072\\) of the given channel holds 65536");
    }
    assertThat(Files.size(disk)).isEqualTo(1 << 20);
  }

  @Test
  void regionTooSmallForTheMetadataFailsInFinish(@TempDir Path dir) throws Exception {
    Path disk = dir.resolve("disk.img");
    Files.write(disk, new byte[1 << 20]);
    try (FileChannel ch = FileChannel.open(disk, StandardOpenOption.READ, StandardOpenOption.WRITE);
        ErofsWriter w = ErofsWriter.builder().output(ch, 0, 8192).build()) {
      for (int i = 0; i < 200; i++) w.add(file("f" + i, 0), new ByteArrayInputStream(new byte[0]));
      assertThatThrownBy(w::finish).isInstanceOf(TreeException.class)
          .hasMessageMatching("image needs at least \\d+ bytes, region \\[0, 8192\\) of the given channel holds 8192");
    }
  }

  @Test
  void builderValidatesEachOption() {
    assertThatThrownBy(() -> ErofsWriter.builder().build()).isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("no output");
    assertThatThrownBy(() -> ErofsWriter.builder().output(tmp.resolve("a")).output(tmp.resolve("b")))
        .isInstanceOf(IllegalStateException.class).hasMessage("output is already set");
    assertThatThrownBy(() -> ErofsWriter.builder().volumeName("seventeen-bytes!!"))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("17 bytes in UTF-8, max 16");
    assertThatThrownBy(() -> ErofsWriter.builder().buildTime(0, 1_000_000_000))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("nanos out of range");
    assertThatThrownBy(() -> ErofsWriter.builder().uuid(null)).isInstanceOf(NullPointerException.class);
    assertThatThrownBy(() -> ErofsWriter.builder().output(Path.of("/dev/null")).build())
        .isInstanceOf(IOException.class).hasMessageContaining("/dev/null exists and is not a regular file");
    assertThat(Path.of("/dev/null")).exists();
  }

  @Test
  void writerIsSingleUse() throws Exception {
    Path img = tmp.resolve("once.erofs");
    ErofsWriter w = ErofsWriter.builder().output(img).uuid(UUID.randomUUID()).build();
    w.finish();
    assertThat(w.result().inodes()).isEqualTo(1);
    assertThatThrownBy(w::finish).isInstanceOf(IllegalStateException.class).hasMessage("the image is already finished");
    Images.assertClean(img);
  }
}

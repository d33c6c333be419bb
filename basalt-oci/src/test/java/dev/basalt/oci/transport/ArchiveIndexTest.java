package dev.basalt.oci.transport;

import static dev.basalt.oci.transport.ArchiveFixtures.writeTar;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.basalt.oci.api.ImageException;
import dev.basalt.oci.tar.TarHeader;
import dev.basalt.oci.tar.TarType;
import dev.basalt.oci.transport.ArchiveFixtures.Item;
import dev.basalt.testkit.Tools;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.Callable;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/** Indexing real tar files (GNU tar, plain/gzip/zstd) and reading entries by offset. */
class ArchiveIndexTest {
  @TempDir Path tmp;

  /** GNU tar archives of a tree with long names, a symlink chain and a hardlink; every file read back in place. */
  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"posix", "gnu", "posix-gzip", "gnu-zstd"})
  void entriesOfGnuTarArchivesReadBackByOffset(String kind) throws Exception {
    Tools.require("tar");
    Tools.require("gzip");
    Tools.require("zstd");
    Path root = tmp.resolve("root");
    Files.createDirectories(root.resolve("blobs/sha256"));
    String longName = "blobs/sha256/" + "a".repeat(150);
    Random rnd = new Random(7);
    byte[] big = new byte[3 << 20];
    rnd.nextBytes(big);
    Files.write(root.resolve(longName), big);
    Files.writeString(root.resolve("index.json"), "{}");
    Files.write(root.resolve("empty"), new byte[0]);
    Files.createSymbolicLink(root.resolve("blobs/link"), Path.of("sha256/" + "a".repeat(150)));
    Files.createSymbolicLink(root.resolve("top"), Path.of("blobs/link"));
    Files.createLink(root.resolve("hard"), root.resolve("index.json"));
    String[] parts = kind.split("-");
    Path file = tmp.resolve("a.tar" + (parts.length > 1 ? "." + parts[1] : ""));
    List<String> cmd = new ArrayList<>(List.of("tar", "--format=" + parts[0], "-C", root.toString(), "-cf", file.toString()));
    if (parts.length > 1) cmd.add("--" + parts[1]);
    cmd.addAll(List.of("./index.json", "./blobs", "./empty", "./top", "./hard"));
    Tools.run(cmd, null, 60).requireSuccess(cmd);

    try (ArchiveIndex a = ArchiveIndex.open(file, "test:" + file)) {
      assertThat(read(a, longName)).isEqualTo(big);
      assertThat(read(a, "top")).isEqualTo(big); // top -> blobs/link -> blobs/sha256/aaa…
      assertThat(read(a, "./blobs//link")).isEqualTo(big);
      assertThat(read(a, "index.json")).isEqualTo("{}".getBytes());
      assertThat(read(a, "hard")).isEqualTo("{}".getBytes());
      assertThat(read(a, "empty")).isEmpty();
      assertThat(a.find("absent")).isNull();
      assertThatThrownBy(() -> a.require("absent", "blob")).isInstanceOf(ImageException.class)
          .hasMessage("test:" + file + ": blob 'absent' is missing from the archive");
      assertThatThrownBy(() -> a.find("blobs")).isInstanceOf(ImageException.class)
          .hasMessageContaining("entry 'blobs' is a DIRECTORY, not a file");
      // parallel positional reads of one channel
      try (var pool = Executors.newFixedThreadPool(4)) {
        List<Future<byte[]>> fs = new ArrayList<>();
        for (int i = 0; i < 8; i++) fs.add(pool.submit((Callable<byte[]>) () -> read(a, longName)));
        for (Future<byte[]> f : fs) assertThat(f.get()).isEqualTo(big);
      }
    }
    // a compressed archive is decompressed to a temporary file that close() removes
    try (var s = Files.list(Path.of(System.getProperty("java.io.tmpdir")))) {
      assertThat(s.filter(p -> p.getFileName().toString().startsWith("basalt-archive-")).toList()).isEmpty();
    }
  }

  private static byte[] read(ArchiveIndex a, String path) throws Exception {
    ArchiveIndex.Entry e = a.require(ArchiveIndex.normalize(path, "t", "p"), "entry");
    try (InputStream in = a.open(e)) {
      return in.readAllBytes();
    }
  }

  @ParameterizedTest(name = "{0} -> {1}")
  @CsvSource({
      "a/b/c, a/b/c",
      "./a//b/./c/, a/b/c",
      "././x, x",
      "./, ''",
  })
  void namesAreNormalized(String raw, String expected) throws Exception {
    assertThat(ArchiveIndex.normalize(raw, "t", "p")).isEqualTo(expected);
  }

  @ParameterizedTest
  @ValueSource(strings = {"../x", "a/../../x", "a/..", "/etc/passwd"})
  void namesOutsideTheArchiveAreRefused(String raw) {
    assertThatThrownBy(() -> ArchiveIndex.normalize(raw, "arch", "entry '" + raw + "'"))
        .isInstanceOf(ImageException.class)
        .hasMessageStartingWith("arch: entry '" + raw + "'");
  }

  @Test
  void linkLoopsAndEscapesAreErrors() throws Exception {
    Path loop = tmp.resolve("loop.tar");
    writeTar(loop, List.of(
        new Item(TarHeader.builder("a", TarType.SYMLINK).linkName("b").build(), new byte[0]),
        new Item(TarHeader.builder("b", TarType.SYMLINK).linkName("./a").build(), new byte[0])));
    try (ArchiveIndex a = ArchiveIndex.open(loop, "L")) {
      assertThatThrownBy(() -> a.find("a")).isInstanceOf(ImageException.class)
          .hasMessage("L: too many levels of links resolving 'a'");
    }
    Path hard = tmp.resolve("hard.tar");
    writeTar(hard, List.of(new Item(TarHeader.builder("h", TarType.HARDLINK).linkName("../etc/shadow").build(), new byte[0])));
    assertThatThrownBy(() -> ArchiveIndex.open(hard, "H")).isInstanceOf(ImageException.class)
        .hasMessage("H: hardlink target '../etc/shadow' of entry 'h' points outside the archive (contains '..')");
    Path abs = tmp.resolve("abs.tar");
    writeTar(abs, List.of(
        new Item(TarHeader.builder("d/s", TarType.SYMLINK).linkName("/x").build(), new byte[0]),
        Item.file("x", "rooted")));
    try (ArchiveIndex a = ArchiveIndex.open(abs, "A")) {
      // an absolute target is taken from the archive root, never from the host
      assertThat(read(a, "d/s")).isEqualTo("rooted".getBytes());
    }
  }

  @Test
  void emptyMissingAndDirectoryInputsAreNamed() throws Exception {
    Path empty = Files.createFile(tmp.resolve("empty.tar"));
    assertThatThrownBy(() -> ArchiveIndex.open(empty, "E")).isInstanceOf(ImageException.class)
        .hasMessage("E: archive file " + empty + " is empty");
    assertThatThrownBy(() -> ArchiveIndex.open(tmp, "D")).isInstanceOf(ImageException.class)
        .hasMessage("D: " + tmp + " is a directory, not an archive file");
    Path gz = tmp.resolve("bad.tar.gz");
    Files.write(gz, new byte[] {0x1f, (byte) 0x8b, 8, 0, 1, 2, 3});
    assertThatThrownBy(() -> ArchiveIndex.open(gz, "G")).isInstanceOf(ImageException.class)
        .hasMessageStartingWith("G: corrupt or truncated gzip");
    try (var s = Files.list(Path.of(System.getProperty("java.io.tmpdir")))) {
      assertThat(s.filter(p -> p.getFileName().toString().startsWith("basalt-archive-")).toList()).isEmpty();
    }
  }
}

package dev.basalt.oci.tar;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.basalt.fs.tree.TreePaths;
import dev.basalt.testkit.Tools;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class TarWriterTest {
  @TempDir Path tmp;

  static final byte[] CAP = HexFormat.of().parseHex("0100000200200000000000000000000000000000");
  static final byte[] BIG = new byte[3_000_000];
  static {
    new Random(42).nextBytes(BIG);
  }

  /** Every feature our writer must get through GNU tar / bsdtar extraction intact. */
  static Map<TarHeader, byte[]> entries() {
    Map<TarHeader, byte[]> m = new LinkedHashMap<>();
    String longDir = TarFixture.LONG_DIR + "/" + TarFixture.LONG_COMPONENT;
    m.put(TarHeader.builder("./", TarType.DIRECTORY).mode(0755).mtime(1_600_000_000, 0).build(), null);
    m.put(TarHeader.builder("d/", TarType.DIRECTORY).mode(0750).owner(70000, 70001).mtime(1_600_000_001, 0)
        .xattr("trusted.t", new byte[] {1, 2}).build(), null);
    m.put(TarHeader.builder("d/file", TarType.REGULAR).mode(04755).owner(70000, 70001).size(6)
        .mtime(1_577_934_245, 123_456_789).build(), "hello\n".getBytes());
    m.put(TarHeader.builder("hl", TarType.HARDLINK).linkName("d/file").build(), null);
    m.put(TarHeader.builder("sticky/", TarType.DIRECTORY).mode(01777).mtime(1_600_000_002, 0).build(), null);
    m.put(TarHeader.builder("sg", TarType.REGULAR).mode(02750).size(1).mtime(1, 0).build(), "x".getBytes());
    m.put(TarHeader.builder("long/", TarType.DIRECTORY).mtime(3, 0).build(), null);
    m.put(TarHeader.builder("long/" + "a".repeat(60) + "/", TarType.DIRECTORY).mtime(4, 0).build(), null);
    m.put(TarHeader.builder(TarFixture.LONG_DIR + "/", TarType.DIRECTORY).mtime(5, 0).build(), null);
    m.put(TarHeader.builder(longDir + "/", TarType.DIRECTORY).mtime(6, 0).build(), null);
    m.put(TarHeader.builder(longDir + "/" + "f".repeat(200), TarType.REGULAR).size(4).mtime(7, 0).build(), "long".getBytes());
    m.put(TarHeader.builder("longlink", TarType.SYMLINK).mode(0777).linkName(TarFixture.LONG_TARGET).mtime(8, 0).build(), null);
    m.put(TarHeader.builder("rel-link", TarType.SYMLINK).mode(0777).linkName("d/file").mtime(9, 500).build(), null);
    m.put(TarHeader.builder("cap", TarType.REGULAR).mode(0755).mtime(10, 0).xattr("security.capability", CAP).build(), null);
    m.put(TarHeader.builder("xa", TarType.REGULAR).mtime(11, 0).xattr("user.bin", HexFormat.of().parseHex("00ff800a3d0a"))
        .xattr("user.empty", new byte[0]).build(), null);
    m.put(TarHeader.builder("chr", TarType.CHAR_DEVICE).device(1, 3).mtime(12, 0).build(), null);
    m.put(TarHeader.builder("blk", TarType.BLOCK_DEVICE).mode(0660).owner(0, 6).device(7, 0).mtime(13, 0).build(), null);
    m.put(TarHeader.builder("bigdev", TarType.CHAR_DEVICE).device(4000, 1_000_000).mtime(14, 0).build(), null);
    m.put(TarHeader.builder("fifo", TarType.FIFO).mode(0600).mtime(15, 0).build(), null);
    m.put(TarHeader.builder("bigid", TarType.REGULAR).owner(3_000_000, 3_000_001).mtime(16, 0).build(), null);
    m.put(TarHeader.builder("mid", TarType.REGULAR).owner(70000, 65536).mtime(17, 0).build(), null);
    m.put(TarHeader.builder("ünïcode-файл", TarType.REGULAR).size(3).mtime(18, 0).build(), "uni".getBytes());
    m.put(TarHeader.builder("big", TarType.REGULAR).size(BIG.length).mtime(4_000_000_000L, 0).build(), BIG);
    m.put(TarHeader.builder("old", TarType.REGULAR).mtime(-2, 750_000_000).build(), null);
    m.put(TarHeader.builder("empty", TarType.REGULAR).mtime(0, 0).build(), null);
    return m;
  }

  static byte[] write(Map<TarHeader, byte[]> entries) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (TarWriter w = new TarWriter(out)) {
      for (Map.Entry<TarHeader, byte[]> e : entries.entrySet()) {
        w.add(e.getKey(), e.getValue() == null ? null : new ByteArrayInputStream(e.getValue()));
      }
    }
    return out.toByteArray();
  }

  @Test
  void ourReaderReadsBackExactlyWhatWasWritten() throws IOException {
    Map<TarHeader, byte[]> entries = entries();
    byte[] tar = write(entries);
    List<TarHeader> read = new ArrayList<>();
    try (TarReader r = new TarReader(new ByteArrayInputStream(tar))) {
      for (TarHeader h; (h = r.next()) != null; ) {
        read.add(h);
        byte[] expected = entries.get(h);
        assertThat(r.content().readAllBytes()).as(h.name()).isEqualTo(expected == null ? new byte[0] : expected);
      }
    }
    assertThat(read).containsExactlyElementsOf(entries.keySet());
  }

  @Test
  void outputIsDeterministicAndPaxOnlyWhenNeeded() throws IOException {
    assertThat(write(entries())).isEqualTo(write(entries()));
    Map<TarHeader, byte[]> plain = new LinkedHashMap<>();
    plain.put(TarHeader.builder("a".repeat(60) + "/" + "b".repeat(80), TarType.REGULAR).size(2).owner(2097151, 1).mtime(77, 0).build(), "hi".getBytes());
    byte[] tar = write(plain);
    assertThat(tar.length).isEqualTo(512 + 512 + 1024); // ustar prefix/name split, octal ids: no PAX header
    assertThat(new String(tar, StandardCharsets.ISO_8859_1)).doesNotContain("PaxHeaders");
  }

  @ParameterizedTest
  @ValueSource(strings = {"tar", "bsdtar"})
  void realTarExtractsOurArchiveToTheIdenticalTree(String tool) throws IOException {
    Tools.require(tool);
    Path tar = tmp.resolve("ours.tar");
    Map<TarHeader, byte[]> entries = entries();
    Files.write(tar, write(entries));
    Path dst = Files.createDirectory(tmp.resolve("dst"));
    List<String> cmd = tool.equals("tar")
        ? List.of("tar", "--xattrs", "--xattrs-include=*", "--numeric-owner", "-xpf", tar.toString(), "-C", dst.toString())
        : List.of("bsdtar", "--xattrs", "--numeric-owner", "-xpf", tar.toString(), "-C", dst.toString());
    Tools.run(cmd).requireSuccess(cmd);

    Map<String, FsSnapshot.Node> fs = FsSnapshot.of(dst);
    Map<String, TarHeader> byPath = new TreeMap<>();
    entries.keySet().forEach(h -> byPath.put(TreePaths.normalize(h.name()), h));
    assertThat(fs.keySet()).containsExactlyInAnyOrderElementsOf(byPath.keySet());
    for (Map.Entry<String, TarHeader> e : byPath.entrySet()) {
      TarHeader h = e.getValue();
      FsSnapshot.Node n = fs.get(e.getKey());
      String at = tool + ": " + e.getKey();
      if (h.type() == TarType.HARDLINK) {
        assertThat(n.links()).as(at).containsExactly("d/file", "hl");
        continue;
      }
      assertThat(n.mode()).as("mode of %s", at).isEqualTo(h.type() == TarType.SYMLINK ? 0777 : h.mode());
      assertThat(n.uid()).as("uid of %s", at).isEqualTo(h.uid());
      assertThat(n.gid()).as("gid of %s", at).isEqualTo(h.gid());
      // bsdtar never sets the times of "."; and it reads PAX "mtime=-1.25" (GNU tar's own spelling of
      // -1.25 s, which GNU tar extracts as .750 before -1) as -0.75 s: a libarchive quirk, not ours.
      if (!(tool.equals("bsdtar") && (e.getKey().isEmpty() || e.getKey().equals("old")))) {
        assertThat(n.mtimeSeconds()).as("mtime of %s", at).isEqualTo(h.mtimeSeconds());
        assertThat(n.mtimeNanos()).as("mtime nanos of %s", at).isEqualTo(h.mtimeNanos());
      }
      switch (h.type()) {
        case REGULAR -> {
          byte[] c = entries.get(h) == null ? new byte[0] : entries.get(h);
          assertThat(n.type()).as(at).isEqualTo("file");
          assertThat(n.sha256()).as("content of %s", at).isEqualTo(HexFormat.of().formatHex(dev.basalt.oci.api.Digest.newSha256().digest(c)));
        }
        case DIRECTORY -> assertThat(n.type()).as(at).isEqualTo("dir");
        case SYMLINK -> assertThat(n.target()).as(at).isEqualTo(h.linkName());
        case CHAR_DEVICE, BLOCK_DEVICE -> {
          assertThat(n.type()).as(at).isEqualTo(h.type() == TarType.CHAR_DEVICE ? "chr" : "blk");
          assertThat(FsSnapshot.major(n.rdev())).as(at).isEqualTo(h.devMajor());
          assertThat(FsSnapshot.minor(n.rdev())).as(at).isEqualTo(h.devMinor());
        }
        case FIFO -> assertThat(n.type()).as(at).isEqualTo("fifo");
        case HARDLINK -> throw new AssertionError();
      }
      Map<String, String> hx = new TreeMap<>();
      h.xattrs().forEach((k, v) -> hx.put(k, HexFormat.of().formatHex(v)));
      assertThat(n.xattrs()).as("xattrs of %s", at).isEqualTo(hx);
    }
  }

  @Test
  void shortContentIsAnErrorNamingTheEntry() {
    TarHeader h = TarHeader.builder("f", TarType.REGULAR).size(10).build();
    assertThatThrownBy(() -> {
      try (TarWriter w = new TarWriter(new ByteArrayOutputStream())) {
        w.add(h, new ByteArrayInputStream(new byte[4]));
      }
    }).isInstanceOf(IOException.class).hasMessage("content of f ended after 4 of 10 bytes");
  }

  @Test
  void nonRegularEntriesCannotCarryContent() {
    TarHeader h = TarHeader.builder("d/", TarType.DIRECTORY).size(1).build();
    assertThatThrownBy(() -> new TarWriter(new ByteArrayOutputStream()).add(h, new ByteArrayInputStream(new byte[1])))
        .isInstanceOf(IllegalArgumentException.class).hasMessage("d/: a DIRECTORY entry cannot have content (size 1)");
  }

  @Test
  void headerValidationNamesTheEntry() {
    assertThatThrownBy(() -> TarHeader.builder("x", TarType.REGULAR).mode(010000))
        .hasMessage("x: mode must fit in 07777, got 010000");
    assertThatThrownBy(() -> TarHeader.builder("s", TarType.SYMLINK).build()).hasMessage("s: SYMLINK needs a link name");
    assertThatThrownBy(() -> TarHeader.builder("", TarType.REGULAR).build()).hasMessage("tar entry name must not be empty");
    assertThatThrownBy(() -> TarHeader.builder("x", TarType.REGULAR).xattr("a=b", new byte[0]).build())
        .hasMessage("x: invalid xattr name 'a=b'");
  }

  @Test
  void paxTimeFormatsFractionsAndNegativeTimes() {
    assertThat(TarWriter.paxTime(10, 0)).isEqualTo("10");
    assertThat(TarWriter.paxTime(10, 500_000_000)).isEqualTo("10.5");
    assertThat(TarWriter.paxTime(-2, 750_000_000)).isEqualTo("-1.25");
    assertThat(TarWriter.paxTime(-1, 0)).isEqualTo("-1");
  }
}

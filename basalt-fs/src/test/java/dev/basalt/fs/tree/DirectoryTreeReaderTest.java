package dev.basalt.fs.tree;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DirectoryTreeReaderTest {
  @TempDir Path tmp;

  /** Records entries in order, with content. */
  static final class Recorder implements TreeSink {
    final Map<String, TreeEntry> entries = new LinkedHashMap<>();
    final Map<String, byte[]> contents = new LinkedHashMap<>();

    @Override
    public void add(TreeEntry entry, InputStream content) throws IOException {
      entries.put(entry.path(), entry);
      if (content != null) contents.put(entry.path(), content.readAllBytes());
    }

    @Override
    public void finish() {}
  }

  @Test
  void readsEveryKindOfEntryWithItsMetadataInSortedDepthFirstOrder() throws Exception {
    Path root = tmp.resolve("root");
    Files.createDirectories(root.resolve("b/c"));
    TestTrees.write(root.resolve("b/c/file"), "hello".getBytes());
    TestTrees.write(root.resolve("a-file"), new byte[] {1, 2, 3});
    TestTrees.write(root.resolve("B"), new byte[0]); // 'B' < 'a' < 'b' in bytes
    Files.createSymbolicLink(root.resolve("link"), Path.of("b/c/file"));
    Files.createLink(root.resolve("z-hard"), root.resolve("a-file"));
    dev.basalt.testkit.Tools.check("mknod", root.resolve("blk").toString(), "b", "259", "300000");
    dev.basalt.testkit.Tools.check("mkfifo", root.resolve("fifo").toString());
    dev.basalt.testkit.Tools.check("chmod", "6755", root.resolve("a-file").toString());
    TestTrees.chown(root.resolve("b"), 100_000, 4_000_000_000L);
    TestTrees.setfattr(root.resolve("a-file"), "security.capability", TestTrees.CAPABILITY_HEX);
    TestTrees.setfattr(root.resolve("b"), "system.posix_acl_default", TestTrees.ACL_HEX);
    TestTrees.setfattr(root.resolve("link"), "trusted.t", "0x00ff");
    Files.setLastModifiedTime(root.resolve("B"), FileTime.from(Instant.ofEpochSecond(1_234_567_890L, 987_654_321)));

    Recorder rec = new Recorder();
    DirectoryTreeReader.Summary s = DirectoryTreeReader.of(root).feed(rec);

    assertThat(rec.entries.keySet()).containsExactly("", "B", "a-file", "b", "b/c", "b/c/file", "blk", "fifo", "link",
        "z-hard");
    assertThat(s).isEqualTo(new DirectoryTreeReader.Summary(10, 3, 8));
    var file = (TreeEntry.RegularFile) rec.entries.get("a-file");
    assertThat(file.size()).isEqualTo(3);
    assertThat(file.metadata().permissions()).isEqualTo(06755);
    assertThat(hex(file.metadata().xattrs())).containsEntry("security.capability", TestTrees.CAPABILITY_HEX.substring(2));
    assertThat(rec.contents.get("a-file")).containsExactly(1, 2, 3);
    assertThat(rec.entries.get("z-hard")).isEqualTo(new TreeEntry.Hardlink("z-hard", "a-file"));
    var dir = (TreeEntry.Directory) rec.entries.get("b");
    assertThat(dir.metadata().uid()).isEqualTo(100_000);
    assertThat(dir.metadata().gid()).isEqualTo(4_000_000_000L);
    assertThat(hex(dir.metadata().xattrs())).containsEntry("system.posix_acl_default", TestTrees.ACL_HEX.substring(2));
    assertThat(rec.entries.get("blk")).isInstanceOfSatisfying(TreeEntry.Device.class, d -> {
      assertThat(d.type()).isEqualTo(TreeEntry.DeviceType.BLOCK);
      assertThat(d.major()).isEqualTo(259);
      assertThat(d.minor()).isEqualTo(300000);
    });
    assertThat(rec.entries.get("fifo")).isInstanceOf(TreeEntry.Fifo.class);
    var link = (TreeEntry.Symlink) rec.entries.get("link");
    assertThat(link.target()).isEqualTo("b/c/file");
    assertThat(hex(link.metadata().xattrs())).containsEntry("trusted.t", "00ff");
    var b = (TreeEntry.RegularFile) rec.entries.get("B");
    assertThat(b.metadata().mtimeSeconds()).isEqualTo(1_234_567_890L);
    assertThat(b.metadata().mtimeNanos()).isEqualTo(987_654_321);
  }

  @Test
  void withoutXattrsNeedsNoGetfattrAndReportsNone() throws Exception {
    Path root = Files.createDirectories(tmp.resolve("r"));
    TestTrees.setfattr(TestTrees.write(root.resolve("f"), new byte[1]), "user.k", "0x01");
    Recorder rec = new Recorder();
    DirectoryTreeReader.of(root).withXattrs(false).feed(rec);
    assertThat(((TreeEntry.RegularFile) rec.entries.get("f")).metadata().xattrs()).isEmpty();
  }

  @Test
  void namesGetfattrMustEscapeArePreserved() throws Exception {
    Path root = Files.createDirectories(tmp.resolve("r"));
    List<String> names = List.of("with space", "new\nline", "back\\slash", "tab\there", "ünï", "eq=ual", "x\\012y");
    for (String n : names) TestTrees.setfattr(TestTrees.write(root.resolve(n), n.getBytes()), "user.name", "0x01");
    TestTrees.setfattr(root.resolve("with space"), "user.odd name=x", "0x02");
    Recorder rec = new Recorder();
    DirectoryTreeReader.of(root).feed(rec);
    for (String n : names) {
      assertThat(((TreeEntry.RegularFile) rec.entries.get(n)).metadata().xattrs()).as(n).containsKey("user.name");
    }
    assertThat(hex(((TreeEntry.RegularFile) rec.entries.get("with space")).metadata().xattrs()))
        .containsEntry("user.odd name=x", "02");
  }

  @Test
  void parsesGetfattrOutputIncludingEscapesAndEmptyValues() throws Exception {
    String out = "# file: /r\nuser.root=0x01\n\n# file: /r/a\\012b\nuser.e=0x\nsecurity.x\\075y=0xdead\n\n";
    Map<String, SortedMap<String, byte[]>> m = DirectoryTreeReader.parseGetfattr(
        new ByteArrayInputStream(out.getBytes(StandardCharsets.ISO_8859_1)), Path.of("/r"));
    assertThat(m.keySet()).containsExactlyInAnyOrder("", "a\nb");
    assertThat(hex(m.get("a\nb"))).containsEntry("user.e", "").containsEntry("security.x=y", "dead");
    assertThatThrownBy(() -> DirectoryTreeReader.parseGetfattr(
        new ByteArrayInputStream("# file: /elsewhere\n".getBytes()), Path.of("/r")))
        .isInstanceOf(IOException.class).hasMessageContaining("outside /r");
  }

  @Test
  void notADirectoryIsRefused() throws Exception {
    Path f = TestTrees.write(tmp.resolve("f"), new byte[1]);
    assertThatThrownBy(() -> DirectoryTreeReader.of(f).feed(new Recorder()))
        .isInstanceOf(IOException.class).hasMessageContaining("is not a directory");
  }

  static Map<String, String> hex(Map<String, byte[]> m) {
    Map<String, String> out = new LinkedHashMap<>();
    m.forEach((k, v) -> out.put(k, HexFormat.of().formatHex(v)));
    return out;
  }

}

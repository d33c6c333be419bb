package dev.basalt.image.node;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.basalt.fs.tree.TreeEntry;
import dev.basalt.fs.tree.TreeSink;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class NodeLayerTest {
  private static final Path RESOURCES = Path.of("src/main/resources/dev/basalt/image/node");

  @TempDir Path tmp;

  /** Records entries and hashes their content, in stream order. */
  static final class Recorder implements TreeSink {
    final List<TreeEntry> entries = new ArrayList<>();
    final Map<String, String> sha = new TreeMap<>();
    final MessageDigest all = sha256();
    boolean finished;

    @Override
    public void add(TreeEntry entry, InputStream content) throws IOException {
      entries.add(entry);
      all.update(entry.toString().getBytes());
      if (entry instanceof TreeEntry.RegularFile f) {
        byte[] b = content.readAllBytes();
        assertThat(b.length).as("size of " + f.path()).isEqualTo(f.size());
        all.update(b);
        sha.put(f.path(), HexFormat.of().formatHex(sha256().digest(b)));
      } else {
        assertThat(content).isNull();
      }
    }

    @Override
    public void finish() {
      finished = true;
    }

    String digest() {
      return HexFormat.of().formatHex(all.digest());
    }

    static MessageDigest sha256() {
      try {
        return MessageDigest.getInstance("SHA-256");
      } catch (Exception e) {
        throw new IllegalStateException(e);
      }
    }
  }

  @Test
  void sortedRootOwnedFixedMtimeWithParentsAndModes() throws IOException {
    Recorder r = new Recorder();
    NodeLayer.builder().mtime(1747699200L).build().writeTo(r);
    assertThat(r.finished).as("writeTo leaves finish to the caller").isFalse();
    List<String> paths = r.entries.stream().map(TreeEntry::path).toList();
    assertThat(paths).isSortedAccordingTo(dev.basalt.oci.merge.LayerWriter.PATH_ORDER).doesNotHaveDuplicates()
        .startsWith("", "usr", "usr/bin", "usr/bin/basalt", "usr/lib", "usr/lib/basalt");
    for (TreeEntry e : r.entries) {
      var m = switch (e) {
        case TreeEntry.Directory d -> d.metadata();
        case TreeEntry.RegularFile f -> f.metadata();
        case TreeEntry.Symlink s -> s.metadata();
        default -> throw new AssertionError("unexpected " + e);
      };
      assertThat(m.uid()).isZero();
      assertThat(m.gid()).isZero();
      assertThat(m.mtimeSeconds()).isEqualTo(1747699200L);
      if (!e.path().isEmpty()) assertThat(paths).contains(dev.basalt.fs.tree.TreePaths.parent(e.path()));
    }
    assertThat(mode(r, "usr/lib/basalt/preinit")).isEqualTo(0755);
    assertThat(mode(r, "usr/lib/basalt/lib.sh")).isEqualTo(0644);
    assertThat(mode(r, "usr/lib/systemd/system/basalt-health.service")).isEqualTo(0644);
    assertThat(r.entries).contains(new TreeEntry.Symlink("usr/lib/systemd/system/boot-complete.target.requires/basalt-health.service",
        dev.basalt.fs.tree.Metadata.of(0777, 0, 0, 1747699200L), "../basalt-health.service"));
  }

  @Test
  void indexListsEveryResourceFileAndTheBytesMatch() throws IOException {
    Recorder r = new Recorder();
    NodeLayer layer = NodeLayer.builder().build();
    layer.writeTo(r);
    Map<String, String> onDisk = new TreeMap<>();
    try (Stream<Path> s = Files.walk(RESOURCES)) {
      for (Path p : s.filter(Files::isRegularFile).toList()) {
        onDisk.put(RESOURCES.relativize(p).toString(), HexFormat.of().formatHex(Recorder.sha256().digest(Files.readAllBytes(p))));
        // the executable bit in git and in the index agree
        boolean exec = Files.isExecutable(p);
        assertThat(mode(r, RESOURCES.relativize(p).toString()) == 0755).as(p + " executable").isEqualTo(exec);
      }
    }
    assertThat(r.sha).isEqualTo(onDisk);
    assertThat(layer.contentBytes()).isEqualTo(r.entries.stream()
        .mapToLong(e -> e instanceof TreeEntry.RegularFile f ? f.size() : 0).sum()).isBetween(1_000L, 100_000L);
  }

  @Test
  void sameInputsSameStream() throws IOException {
    Path jar = Files.write(tmp.resolve("agent.jar"), new byte[] {1, 2, 3});
    Recorder a = new Recorder();
    Recorder b = new Recorder();
    NodeLayer.builder().agentJars(List.of(jar)).mtime(5).build().writeTo(a);
    NodeLayer.builder().agentJars(List.of(jar)).mtime(5).build().writeTo(b);
    assertThat(a.digest()).isEqualTo(b.digest());
    Recorder c = new Recorder();
    NodeLayer.builder().agentJars(List.of(jar)).mtime(6).build().writeTo(c);
    assertThat(c.digest()).isNotEqualTo(a.digest());
  }

  @Test
  void jarsAndRuntimeGoUnderUsrLibBasalt() throws IOException {
    Path jar = Files.write(tmp.resolve("basalt-node.jar"), new byte[] {1, 2, 3});
    Path rt = fakeRuntime(tmp.resolve("rt"));
    Recorder r = new Recorder();
    NodeLayer.builder().agentJars(List.of(jar)).runtime(rt).build().writeTo(r);
    assertThat(r.sha).containsKeys("usr/lib/basalt/lib/basalt-node.jar", "usr/lib/basalt/runtime/bin/java",
        "usr/lib/basalt/runtime/lib/modules");
    assertThat(mode(r, "usr/lib/basalt/runtime/bin/java")).isEqualTo(0755);
    assertThat(mode(r, "usr/lib/basalt/runtime/lib/modules")).isEqualTo(0644);
    assertThat(mode(r, "usr/lib/basalt/lib/basalt-node.jar")).isEqualTo(0644);
    assertThat(r.entries).contains(new TreeEntry.Symlink("usr/lib/basalt/runtime/lib/libalias.so",
        dev.basalt.fs.tree.Metadata.of(0777, 0, 0, 0), "libjvm.so"));
  }

  @Test
  void badInputsAreNamed() throws IOException {
    Path jar = Files.write(tmp.resolve("a.jar"), new byte[1]);
    Path other = Files.createDirectories(tmp.resolve("x")).resolve("a.jar");
    Files.write(other, new byte[2]);
    assertThatThrownBy(() -> NodeLayer.builder().agentJars(List.of(tmp.resolve("agent.zip"))))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("agent.zip");
    assertThatThrownBy(() -> NodeLayer.builder().agentJars(List.of(tmp.resolve("missing.jar"))).build())
        .isInstanceOf(IOException.class).hasMessageContaining("missing.jar");
    assertThatThrownBy(() -> NodeLayer.builder().agentJars(List.of(jar, other)).build())
        .isInstanceOf(IOException.class).hasMessageContaining("two agent jars named a.jar");
    assertThatThrownBy(() -> NodeLayer.builder().runtime(tmp).build())
        .isInstanceOf(IOException.class).hasMessageContaining("not a Java runtime image").hasMessageContaining(tmp.toString());
    assertThatThrownBy(() -> NodeLayer.builder().mtime(-1)).hasMessageContaining("-1");
    Path rt = fakeRuntime(tmp.resolve("rt"));
    Files.createSymbolicLink(rt.resolve("lib/escape"), Path.of("/etc/passwd"));
    assertThatThrownBy(() -> NodeLayer.builder().runtime(rt).build())
        .isInstanceOf(IOException.class).hasMessageContaining("symlink leaves the runtime image").hasMessageContaining("lib/escape");
  }

  static Path fakeRuntime(Path rt) throws IOException {
    Files.createDirectories(rt.resolve("bin"));
    Files.createDirectories(rt.resolve("lib"));
    Path java = Files.writeString(rt.resolve("bin/java"), "#!/bin/sh\n");
    Files.setPosixFilePermissions(java, DirectoryTreeSink.perms(0700));
    Files.write(rt.resolve("lib/modules"), new byte[100]);
    Files.write(rt.resolve("lib/libjvm.so"), new byte[10]);
    Files.createSymbolicLink(rt.resolve("lib/libalias.so"), Path.of("libjvm.so"));
    return rt;
  }

  private static int mode(Recorder r, String path) {
    String full = path.startsWith("usr/") ? path : path;
    return r.entries.stream().filter(e -> e.path().equals(full)).findFirst()
        .map(e -> e instanceof TreeEntry.RegularFile f ? f.metadata().permissions() : -1)
        .orElseThrow(() -> new AssertionError("no entry " + full));
  }
}

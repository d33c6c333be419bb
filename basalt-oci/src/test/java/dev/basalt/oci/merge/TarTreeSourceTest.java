package dev.basalt.oci.merge;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.basalt.oci.tar.FsSnapshot;
import dev.basalt.oci.tar.TarFixture;
import dev.basalt.testkit.Tools;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class TarTreeSourceTest {
  @TempDir Path tmp;

  @ParameterizedTest
  @ValueSource(strings = {"", "--gzip", "--zstd"})
  void rootfsTarGoesThroughTheTreeAndBackToTheIdenticalTree(String compress) throws IOException {
    Path src = Files.createDirectory(tmp.resolve("src"));
    TarFixture.create(src, false);
    Path in = tmp.resolve("rootfs.tar");
    String cmd = "tar --xattrs --xattrs-include='*' --format=pax " + compress + " -C '" + src + "' -cf '" + in + "' .";
    Tools.check("sh", "-c", cmd);

    Path out = tmp.resolve("out.tar");
    try (OutputStream o = Files.newOutputStream(out)) {
      TarTreeSink sink = new TarTreeSink(o);
      LayerMerge.Result r = TarTreeSource.read(in, sink);
      sink.finish();
      assertThat(r.rereads()).isZero();
    }
    Path dst = Files.createDirectory(tmp.resolve("dst"));
    Tools.check("tar", "--xattrs", "--xattrs-include=*", "--numeric-owner", "-xpf", out.toString(), "-C", dst.toString());
    Map<String, FsSnapshot.Node> expected = FsSnapshot.of(src);
    Map<String, FsSnapshot.Node> actual = FsSnapshot.of(dst);
    assertThat(actual).containsExactlyEntriesOf(expected);
  }

  @Test
  void whiteoutNamesAreRefusedInARootfs() throws IOException {
    Path src = Files.createDirectory(tmp.resolve("src"));
    Files.writeString(src.resolve(".wh.x"), "");
    Path in = tmp.resolve("rootfs.tar");
    Tools.check("tar", "-C", src.toString(), "-cf", in.toString(), ".");
    assertThatThrownBy(() -> TarTreeSource.read(in, new CollectingSink()))
        .isInstanceOf(LayerMergeException.class)
        .hasMessage(in + ": entry './.wh.x': at byte 512: whiteout names ('.wh.') are not allowed in a root filesystem tar");
  }
}

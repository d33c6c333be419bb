package dev.basalt.oci.merge;

import static org.assertj.core.api.Assertions.assertThat;

import dev.basalt.oci.api.Descriptor;
import dev.basalt.oci.api.MediaTypes.Compression;
import dev.basalt.oci.tar.FsSnapshot;
import dev.basalt.testkit.Tools;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** The merge against the reference: {@code umoci unpack} of the same OCI layout. */
class LayerMergeUmociTest {
  @TempDir Path tmp;

  static final String LONG = "long-" + "n".repeat(120);

  /** Three real layer directories (as root: owners, caps, device nodes) covering the merge rules. */
  static List<Path> layerDirs(Path base) throws IOException {
    Path l1 = Files.createDirectories(base.resolve("l1"));
    Path l2 = Files.createDirectories(base.resolve("l2"));
    Path l3 = Files.createDirectories(base.resolve("l3"));
    Tools.require("setcap");
    Tools.require("setfattr");
    Tools.check("sh", "-c", """
        set -e
        cd '%1$s'
        mkdir -p etc bin d-opq/sub wh-dir/deep f2d-later d2f hl "%4$s"
        printf 'base motd\\n' > etc/motd; touch -d '2021-05-06 07:08:09.123456789' etc/motd
        printf keep > keep; printf gone > gone
        printf a > d-opq/a; printf b > d-opq/sub/b; printf w > wh-dir/deep/w
        printf 'i am a file' > f2d; printf x > d2f/x
        printf 'original content\\n' > hl/0orig; ln hl/0orig hl/link1; ln hl/0orig hl/link2
        printf 'shared' > hl/a; ln hl/a hl/b
        printf 'setuid' > bin/su; chmod 4755 bin/su
        printf 'setgid' > bin/sg; chmod 2711 bin/sg
        mkdir tmp; chmod 1777 tmp
        touch cap; setcap cap_net_raw+ep cap
        touch xa; setfattr -n user.bin -v 0x00ff800a3d0a xa
        mknod null c 1 3; mknod loop0 b 7 0; mkfifo fifo
        printf o > owned; chown 70000:70001 owned
        printf o > big-owner; chown 3000000:3000001 big-owner
        printf long > "%4$s/%4$s"
        ln -s etc/motd lnk; ln -s /does/not/exist dangling
        printf 'soon a symlink' > becomes-link
        find . -exec touch -h -d @1600000000 {} +
        touch -d '2021-05-06 07:08:09.123456789' etc/motd

        cd '%2$s'
        mkdir -p etc d-opq/sub f2d wh-dir-parent hl
        touch .wh.gone .wh.wh-dir .wh.f2d-later
        touch d-opq/.wh..wh..opq; printf new > d-opq/new; printf nb > d-opq/sub/nb
        printf child > f2d/child
        printf 'now a file' > d2f
        printf 'overridden' > hl/0orig
        chmod 0750 etc; chown 0:4 etc
        printf 'l2 motd\\n' > etc/issue
        ln -s keep becomes-link-tmp && mv becomes-link-tmp becomes-link
        find . -exec touch -h -d @1700000000 {} +

        cd '%3$s'
        mkdir -p wh-dir hl2
        printf again > wh-dir/again
        printf 'l3 x' > hl2/x; ln hl2/x hl2/y
        touch .wh.dangling
        find . -exec touch -h -d @1710000000 {} +
        """.formatted(l1, l2, l3, LONG));
    return List.of(l1, l2, l3);
  }

  @ParameterizedTest
  @EnumSource(Compression.class)
  void mergedTreeEqualsUmociUnpack(Compression compression) throws IOException {
    Tools.require("umoci");
    List<byte[]> tars = new ArrayList<>();
    for (Path d : layerDirs(tmp.resolve("layers"))) tars.add(OciLayoutFixture.tarDirectory(d));
    Path layout = tmp.resolve("layout");
    List<Descriptor> layers = OciLayoutFixture.write(layout, "t", tars, compression);

    // umoci 0.4.7 has no zstd: it unpacks a gzip layout of the same layer tars.
    Path reference = tmp.resolve("reference");
    OciLayoutFixture.write(reference, "t", tars, Compression.GZIP);
    Path bundle = tmp.resolve("bundle");
    Tools.check("umoci", "unpack", "--image", reference + ":t", bundle.toString());

    LayerMerge.Builder b = LayerMerge.builder();
    for (Descriptor d : layers) b.layer(d, () -> Files.newInputStream(OciLayoutFixture.blobPath(layout, d)));
    Path out = tmp.resolve("merged.tar");
    LayerMerge.Result result;
    try (OutputStream o = Files.newOutputStream(out)) {
      TarTreeSink sink = new TarTreeSink(o);
      result = b.build().into(sink);
      sink.finish();
    }
    assertThat(result.rereads()).as("one re-read: layer 1, for hl/link1 whose original was overridden").isEqualTo(1);

    Path ours = Files.createDirectory(tmp.resolve("ours"));
    Tools.check("tar", "--xattrs", "--xattrs-include=*", "--numeric-owner", "-xpf", out.toString(), "-C", ours.toString());

    Map<String, FsSnapshot.Node> expected = FsSnapshot.of(bundle.resolve("rootfs"));
    Map<String, FsSnapshot.Node> actual = FsSnapshot.of(ours);
    assertThat(actual.keySet()).containsExactlyElementsOf(expected.keySet());
    Map<String, FsSnapshot.Node> diff = new TreeMap<>();
    for (String p : expected.keySet()) {
      if (!expected.get(p).equals(actual.get(p))) diff.put(p, actual.get(p));
    }
    assertThat(diff).as("entries that differ from umoci's (umoci: %s)", diffOf(expected, diff)).isEmpty();

    // Spot checks of the rules themselves, independent of umoci.
    assertThat(actual).doesNotContainKeys("gone", "wh-dir/deep", "d-opq/a", "d-opq/sub/b", "f2d-later", "dangling", "d2f/x");
    assertThat(actual).containsKeys("d-opq/new", "d-opq/sub/nb", "wh-dir/again", "f2d/child", "keep", LONG + "/" + LONG);
    assertThat(actual.get("hl/link1").sha256()).isEqualTo(sha("original content\n"));
    assertThat(actual.get("hl/link1").links()).containsExactly("hl/link1", "hl/link2");
    assertThat(actual.get("hl/0orig").sha256()).isEqualTo(sha("overridden"));
    assertThat(actual.get("hl/a").links()).containsExactly("hl/a", "hl/b");
    assertThat(actual.get("d2f").type()).isEqualTo("file");
    assertThat(actual.get("f2d").type()).isEqualTo("dir");
    assertThat(actual.get("becomes-link").target()).isEqualTo("keep");
    assertThat(actual.get("etc").mode()).isEqualTo(0750);
    assertThat(actual.get("big-owner").uid()).isEqualTo(3_000_000);
    assertThat(actual.get("cap").xattrs()).containsEntry("security.capability", "0100000200200000000000000000000000000000");
    assertThat(actual.get("bin/su").mode()).isEqualTo(04755);
    assertThat(actual.get("tmp").mode()).isEqualTo(01777);
  }

  private static Map<String, FsSnapshot.Node> diffOf(Map<String, FsSnapshot.Node> expected, Map<String, FsSnapshot.Node> diff) {
    Map<String, FsSnapshot.Node> m = new TreeMap<>();
    diff.keySet().forEach(k -> m.put(k, expected.get(k)));
    return m;
  }

  static String sha(String s) {
    return java.util.HexFormat.of().formatHex(dev.basalt.oci.api.Digest.newSha256().digest(s.getBytes()));
  }
}

package dev.basalt.oci.merge;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.basalt.fs.tree.Metadata;
import dev.basalt.fs.tree.TreeEntry;
import dev.basalt.fs.tree.TreeException;
import dev.basalt.oci.tar.TarHeader;
import dev.basalt.oci.tar.TarReader;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class TarTreeSinkTest {
  static final Metadata M = Metadata.of(0644, 1, 2, 3);

  static List<TarHeader> headers(byte[] tar) throws IOException {
    List<TarHeader> out = new ArrayList<>();
    try (TarReader r = new TarReader(new ByteArrayInputStream(tar))) {
      for (TarHeader h; (h = r.next()) != null; ) out.add(h);
    }
    return out;
  }

  @Test
  void writesEntriesInStreamOrderAndImpliedParentsAtTheEnd() throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    TarTreeSink s = new TarTreeSink(out);
    s.add(new TreeEntry.RegularFile("a/b/f", M, 2), new ByteArrayInputStream("hi".getBytes()));
    s.add(new TreeEntry.Hardlink("a/g", "a/b/f"), null);
    s.add(new TreeEntry.Directory("a", Metadata.of(0700, 0, 0, 9)), null);
    s.finish();
    assertThat(headers(out.toByteArray())).extracting(TarHeader::name)
        .containsExactly("a/b/f", "a/g", "a/", "./", "a/b/");
    assertThat(headers(out.toByteArray()).get(1).linkName()).isEqualTo("a/b/f");
    assertThat(headers(out.toByteArray()).get(2).mode()).isEqualTo(0700);
    assertThat(headers(out.toByteArray()).get(4).mode()).isEqualTo(0755);
  }

  @Test
  void contractViolationsAreTreeExceptionsNamingThePath() throws IOException {
    TarTreeSink s = new TarTreeSink(new ByteArrayOutputStream());
    s.add(new TreeEntry.Directory("d", M), null);
    assertThatThrownBy(() -> s.add(new TreeEntry.Fifo("d", M), null))
        .isInstanceOf(TreeException.class).hasMessage("/d: appears twice in the tree stream");
    assertThatThrownBy(() -> s.add(new TreeEntry.Hardlink("l", "nope"), null))
        .isInstanceOf(TreeException.class).hasMessage("/l: hardlink to 'nope', which is not an earlier entry");
    assertThatThrownBy(() -> s.add(new TreeEntry.Hardlink("l", "d"), null))
        .isInstanceOf(TreeException.class).hasMessage("/l: hardlink to the directory 'd'");
    assertThatThrownBy(() -> s.add(new TreeEntry.Socket("s", M), null))
        .isInstanceOf(TreeException.class).hasMessage("/s: a socket cannot be stored in a tar archive");
  }
}

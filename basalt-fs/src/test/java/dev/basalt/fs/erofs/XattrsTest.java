package dev.basalt.fs.erofs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.basalt.fs.tree.TreeException;
import java.util.HexFormat;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

class XattrsTest {
  @Test
  void encodesNameIndexesSuffixesAndPadding() throws Exception {
    TreeMap<String, byte[]> x = new TreeMap<>();
    x.put("system.posix_acl_access", new byte[] {2, 0, 0, 0});
    x.put("security.capability", new byte[] {1, 0, 0, 2});
    x.put("user.a", new byte[0]);
    byte[] area = Xattrs.encode("f", x);
    // header 12; then sorted by full name: security.capability (6), system.posix_acl_access (2), user.a (1)
    assertThat(HexFormat.of().formatHex(area)).isEqualTo("000000000000000000000000"
        + "0a060400" + HexFormat.of().formatHex("capability".getBytes()) + "01000002" + "0000"
        + "00020400" + "02000000"
        + "01010000" + "61000000");
    assertThat(area.length % 4).isZero();
    assertThat(Xattrs.icount(area.length)).isEqualTo((area.length - 12) / 4 + 1);
    assertThat(Xattrs.encode("f", new TreeMap<>())).isEmpty();
  }

  @Test
  void refusesWhatEroFsCannotStore() {
    TreeMap<String, byte[]> x = new TreeMap<>();
    x.put("user." + "n".repeat(256), new byte[1]);
    assertThatThrownBy(() -> Xattrs.encode("p", x)).isInstanceOf(TreeException.class)
        .hasMessageContaining("/p: xattr 'user.nnn").hasMessageContaining("256 bytes after its prefix, max 255");
    assertThatThrownBy(() -> Xattrs.encode("p", new TreeMap<>(java.util.Map.of("user.", new byte[1]))))
        .hasMessageContaining("has an empty name");
    assertThatThrownBy(() -> Xattrs.encode("p", new TreeMap<>(java.util.Map.of("os2.x", new byte[1]))))
        .hasMessageContaining("namespace EROFS cannot store");
  }
}

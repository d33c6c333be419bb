package dev.basalt.image.testing;

import static org.assertj.core.api.Assertions.assertThat;

import dev.basalt.testkit.Tools;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The contract of fixtures/testos/build.sh and what its Debian test OS holds. */
class TestOsTest {

  @Test
  void printDirPrintsOneLineNamedByTheScriptHashAndIsCached() throws Exception {
    Path dir = TestOs.dir();
    MessageDigest sha = MessageDigest.getInstance("SHA-256");
    sha.update(Files.readAllBytes(TestOs.script()));
    sha.update("variant=base\n".getBytes(StandardCharsets.UTF_8));
    assertThat(dir.getFileName().toString()).isEqualTo("testos-" + HexFormat.of().formatHex(sha.digest()).substring(0, 12));

    long start = System.nanoTime();
    List<String> cmd = List.of("bash", TestOs.script().toString(), "--print-dir");
    Tools.Result again = Tools.run(cmd, null, 60).requireSuccess(cmd);
    assertThat(again.stdout()).isEqualTo(dir + "\n");
    assertThat((System.nanoTime() - start) / 1_000_000).isLessThan(5_000);
    assertThat(dir.resolve("rootfs")).isDirectory();
    assertThat(dir.resolve("rootfs.tar")).isRegularFile();
  }

  @Test
  void refusesUnknownArguments() {
    Tools.Result r = Tools.run(List.of("bash", TestOs.script().toString(), "--variant", "v9", "--print-dir"), null, 60);
    assertThat(r.exitCode()).isEqualTo(2);
    assertThat(r.stdout()).isEmpty();
    assertThat(r.stderr()).contains("unknown variant 'v9' (base or v2)");
    r = Tools.run(List.of("bash", TestOs.script().toString(), "--frobnicate"), null, 60);
    assertThat(r.exitCode()).isEqualTo(2);
    assertThat(r.stderr()).contains("unknown argument '--frobnicate'");
  }

  @Test
  void theRootfsIsConfiguredForTests() throws IOException {
    Path root = TestOs.rootfs();
    Map<String, String> env = TestOs.env();
    assertThat(root.resolve(env.get("KERNEL"))).isRegularFile();
    assertThat(root.resolve(env.get("INITRD"))).isRegularFile();
    assertThat(Files.size(root.resolve("etc/machine-id"))).isZero();
    assertThat(Files.readString(root.resolve("etc/hostname"))).isEqualTo("basalt-test\n");
    assertThat(Files.readAllLines(root.resolve("etc/initramfs-tools/modules"))).contains("erofs", "overlay");
    assertThat(Files.readAllLines(root.resolve("etc/shadow"))).anySatisfy(l -> assertThat(l)
        .startsWith("root:$6$basaltfixture$hH2gUB4DuFBSM1Yk4J06gHUNd6PWoHADfupotksKSKuzU0X/QZOAr9P9mTB5Wu3wqQA."
            + "vTw7Jy9zK3MQIOaqA1:20228:"));
    assertThat(root.resolve("etc/systemd/system/serial-getty@ttyS0.service.d/autologin.conf")).content()
        .contains("--autologin root");
    assertThat(root.resolve("dev")).isEmptyDirectory();
    assertThat(root.resolve("var/lib/apt/lists")).isDirectoryNotContaining(p -> Files.isRegularFile(p));
    try (var s = Files.list(root.resolve("var/cache/apt/archives"))) {
      assertThat(s.filter(p -> p.toString().endsWith(".deb"))).isEmpty();
    }
    assertThat(root.resolve("usr/lib/systemd/boot/efi/systemd-bootx64.efi")).isRegularFile();
  }

  @Test
  void theTarIsSortedNumericAndKeepsSecurityCapability() throws IOException {
    long epoch = Long.parseLong(TestOs.env().get("SOURCE_DATE_EPOCH"));
    List<String> names = new ArrayList<>();
    Map<String, byte[]> pingXattrs = new LinkedHashMap<>();
    try (FileChannel ch = FileChannel.open(TestOs.dir().resolve("rootfs.tar"))) {
      ByteBuffer header = ByteBuffer.allocate(512);
      Map<String, byte[]> pax = Map.of();
      while (true) {
        header.clear();
        if (ch.read(header) < 512) throw new AssertionError("tar ends without end-of-archive blocks");
        byte[] h = header.array();
        if (h[0] == 0) break;
        long size = Long.parseLong(field(h, 124, 12).trim(), 8);
        char type = (char) h[156];
        long dataStart = ch.position();
        if (type == 'x') {
          ByteBuffer data = ByteBuffer.allocate((int) size);
          ch.read(data);
          pax = paxRecords(data.array());
        } else {
          String name = pax.containsKey("path") ? new String(pax.get("path"), StandardCharsets.UTF_8)
              : (field(h, 345, 155).isEmpty() ? "" : field(h, 345, 155) + "/") + field(h, 0, 100);
          names.add(name);
          assertThat(field(h, 265, 32)).as("uname of %s", name).isEmpty();
          assertThat(field(h, 297, 32)).as("gname of %s", name).isEmpty();
          long mtime = Long.parseLong(field(h, 136, 12).trim(), 8);
          assertThat(mtime).as("mtime of %s", name).isLessThanOrEqualTo(epoch);
          if (name.equals("./usr/bin/ping")) {
            pax.forEach((k, v) -> { if (k.startsWith("SCHILY.xattr.")) pingXattrs.put(k.substring(13), v); });
          }
          pax = Map.of();
        }
        ch.position(dataStart + (size + 511) / 512 * 512);
      }
    }
    // --sort=name: each directory's entries by name, depth first = component-wise order
    java.util.Comparator<String> byComponents = (a, b) -> {
      String[] x = a.split("/");
      String[] y = b.split("/");
      for (int i = 0; i < Math.min(x.length, y.length); i++) {
        int c = x[i].compareTo(y[i]);
        if (c != 0) return c;
      }
      return Integer.compare(x.length, y.length);
    };
    assertThat(names).hasSizeGreaterThan(10_000).isSortedAccordingTo(byComponents).startsWith("./", "./bin");
    // cap_net_raw+ep, as setcap writes it (VFS_CAP_REVISION_2)
    assertThat(pingXattrs).containsOnlyKeys("security.capability");
    assertThat(HexFormat.of().formatHex(pingXattrs.get("security.capability")))
        .isEqualTo("0100000200200000000000000000000000000000");
  }

  private static String field(byte[] h, int off, int len) {
    int end = off;
    while (end < off + len && h[end] != 0) end++;
    return new String(h, off, end - off, StandardCharsets.UTF_8);
  }

  /** PAX records "LEN key=value\n"; values kept as raw bytes (xattrs are binary). */
  private static Map<String, byte[]> paxRecords(byte[] data) {
    Map<String, byte[]> out = new LinkedHashMap<>();
    int i = 0;
    while (i < data.length && data[i] != 0) {
      int sp = i;
      while (data[sp] != ' ') sp++;
      int len = Integer.parseInt(new String(data, i, sp - i, StandardCharsets.US_ASCII));
      int eq = sp;
      while (data[eq] != '=') eq++;
      String key = new String(data, sp + 1, eq - sp - 1, StandardCharsets.UTF_8);
      byte[] value = java.util.Arrays.copyOfRange(data, eq + 1, i + len - 1);
      out.put(key, value);
      i += len;
    }
    return out;
  }
}

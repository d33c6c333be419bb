package dev.basalt.oci.tar;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.basalt.fs.tree.TreePaths;
import dev.basalt.testkit.Tools;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class TarReaderTest {
  @TempDir Path tmp;

  record Read(TarHeader header, String sha256) {}

  static Map<String, Read> readAll(Path tar) throws IOException {
    try (InputStream in = Files.newInputStream(tar)) {
      return readAll(in);
    }
  }

  static Map<String, Read> readAll(InputStream in) throws IOException {
    Map<String, Read> out = new LinkedHashMap<>();
    TarReader r = new TarReader(in, "test.tar");
    for (TarHeader h; (h = r.next()) != null; ) {
      String sha = null;
      if (h.type() == TarType.REGULAR) {
        MessageDigest md = dev.basalt.oci.api.Digest.newSha256();
        byte[] b = new byte[8192];
        long total = 0;
        for (int n; (n = r.content().read(b)) > 0; ) { md.update(b, 0, n); total += n; }
        assertThat(total).as("content length of %s", h.name()).isEqualTo(h.size());
        sha = HexFormat.of().formatHex(md.digest());
      }
      out.put(TreePaths.normalize(h.name()), new Read(h, sha));
    }
    return out;
  }

  /** Asserts that what our reader returned describes the real tree {@code src} exactly. */
  static void assertDescribes(Map<String, Read> read, Path src, boolean xattrs, boolean nanos) throws IOException {
    Map<String, FsSnapshot.Node> fs = FsSnapshot.of(src);
    assertThat(read.keySet()).containsExactlyInAnyOrderElementsOf(fs.keySet());
    for (Map.Entry<String, Read> e : read.entrySet()) {
      TarHeader h = e.getValue().header();
      FsSnapshot.Node n = fs.get(e.getKey());
      String at = e.getKey();
      if (h.type() == TarType.HARDLINK) {
        assertThat(n.links()).as("hardlink %s", at).contains(at, TreePaths.normalize(h.linkName()));
        continue;
      }
      String type = switch (h.type()) {
        case REGULAR -> "file"; case DIRECTORY -> "dir"; case SYMLINK -> "symlink"; case CHAR_DEVICE -> "chr";
        case BLOCK_DEVICE -> "blk"; case FIFO -> "fifo"; case HARDLINK -> "hardlink";
      };
      assertThat(type).as("type of %s", at).isEqualTo(n.type());
      assertThat(h.mode()).as("mode of %s", at).isEqualTo(n.mode());
      assertThat(h.uid()).as("uid of %s", at).isEqualTo(n.uid());
      assertThat(h.gid()).as("gid of %s", at).isEqualTo(n.gid());
      assertThat(h.mtimeSeconds()).as("mtime of %s", at).isEqualTo(n.mtimeSeconds());
      assertThat(h.mtimeNanos()).as("mtime nanos of %s", at).isEqualTo(nanos ? n.mtimeNanos() : 0);
      if (h.type() == TarType.REGULAR) {
        assertThat(h.size()).as("size of %s", at).isEqualTo(n.size());
        assertThat(e.getValue().sha256()).as("content of %s", at).isEqualTo(n.sha256());
      }
      if (h.type() == TarType.SYMLINK) assertThat(h.linkName()).as("target of %s", at).isEqualTo(n.target());
      if (h.type() == TarType.CHAR_DEVICE || h.type() == TarType.BLOCK_DEVICE) {
        assertThat(h.devMajor()).as("major of %s", at).isEqualTo(FsSnapshot.major(n.rdev()));
        assertThat(h.devMinor()).as("minor of %s", at).isEqualTo(FsSnapshot.minor(n.rdev()));
      }
      Map<String, String> hx = new TreeMap<>();
      h.xattrs().forEach((k, v) -> hx.put(k, HexFormat.of().formatHex(v)));
      assertThat(hx).as("xattrs of %s", at).isEqualTo(xattrs ? n.xattrs() : Map.of());
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"pax", "gnu", "ustar"})
  void readsWhatGnuTarWrites(String format) throws IOException {
    Path src = Files.createDirectory(tmp.resolve("src"));
    TarFixture.create(src, format.equals("ustar"));
    Path tar = tmp.resolve(format + ".tar");
    Tools.require("tar");
    List<String> cmd = new java.util.ArrayList<>(List.of("tar", "--format=" + format, "-C", src.toString(), "-cf", tar.toString()));
    if (format.equals("pax")) cmd.addAll(1, List.of("--xattrs", "--xattrs-include=*"));
    cmd.add(".");
    Tools.run(cmd).requireSuccess(cmd);
    Map<String, Read> read = readAll(tar);
    assertDescribes(read, src, format.equals("pax"), format.equals("pax"));
    if (format.equals("pax")) {
      assertThat(read.get("cap").header().xattrs().get("security.capability")).hasSize(20);
      assertThat(read.get("bigid").header().uid()).isEqualTo(3_000_000L);
    }
    if (format.equals("gnu")) {
      assertThat(read.get("bigid").header().gid()).isEqualTo(3_000_001L); // base-256
      assertThat(read).containsKey(TarFixture.LONG_COMPONENT); // ././@LongLink 'L'
      assertThat(read.get("longlink").header().linkName()).isEqualTo(TarFixture.LONG_TARGET); // 'K'
    }
  }

  @Test
  void readsWhatBsdtarWrites() throws IOException {
    Path src = Files.createDirectory(tmp.resolve("src"));
    TarFixture.create(src, false);
    Path tar = tmp.resolve("bsd.tar");
    Tools.require("bsdtar");
    Tools.check("bsdtar", "--format", "pax", "--xattrs", "-C", src.toString(), "-cf", tar.toString(), ".");
    // bsdtar writes both LIBARCHIVE.xattr.* (base64) and SCHILY.xattr.* records
    assertThat(new String(Files.readAllBytes(tar), StandardCharsets.ISO_8859_1)).contains("LIBARCHIVE.xattr.user.bin=");
    assertDescribes(readAll(tar), src, true, true);
  }

  @Test
  void libarchiveBase64XattrsAloneAreDecoded() throws IOException {
    byte[] value = {0, (byte) 0xff, '\n', '='};
    String b64 = java.util.Base64.getEncoder().withoutPadding().encodeToString(value);
    byte[] tar = Raw.archive(Raw.pax('x', Map.of("LIBARCHIVE.xattr.user.a%20b", b64.getBytes(StandardCharsets.US_ASCII))),
        Raw.header("f", '0', 0));
    TarHeader h = readAll(new ByteArrayInputStream(tar)).get("f").header();
    assertThat(h.xattrs().get("user.a b")).containsExactly(value);
  }

  @Test
  void globalPaxHeadersApplyToLaterEntriesAndLocalOnesOverride() throws IOException {
    byte[] tar = Raw.archive(
        Raw.pax('g', Map.of("uid", "5".getBytes(), "mtime", "-1.25".getBytes())),
        Raw.header("a", '0', 0),
        Raw.pax('x', Map.of("uid", "6".getBytes(), "mtime", "".getBytes())),
        Raw.header("b", '0', 0));
    Map<String, Read> r = readAll(new ByteArrayInputStream(tar));
    assertThat(r.get("a").header().uid()).isEqualTo(5);
    assertThat(r.get("a").header().mtimeSeconds()).isEqualTo(-2);
    assertThat(r.get("a").header().mtimeNanos()).isEqualTo(750_000_000);
    assertThat(r.get("b").header().uid()).isEqualTo(6);
    assertThat(r.get("b").header().mtimeSeconds()).isEqualTo(0); // empty value deletes the global one
  }

  @Test
  void oldStyleRegularWithSlashIsADirectoryAndContiguousIsRegular() throws IOException {
    byte[] tar = Raw.archive(Raw.header("dir/", '\0', 0), Raw.header("c", '7', 0));
    Map<String, Read> r = readAll(new ByteArrayInputStream(tar));
    assertThat(r.get("dir").header().type()).isEqualTo(TarType.DIRECTORY);
    assertThat(r.get("c").header().type()).isEqualTo(TarType.REGULAR);
  }

  @Test
  void unreadContentIsSkippedAndContentIsBounded() throws IOException {
    byte[] a = new byte[700_000];
    Arrays.fill(a, (byte) 'a');
    byte[] tar = Raw.archive(Raw.file("a", a), Raw.file("b", "bee".getBytes()));
    try (TarReader r = new TarReader(new ByteArrayInputStream(tar))) {
      assertThat(r.next().name()).isEqualTo("a");
      assertThat(r.content().read(new byte[10])).isEqualTo(10);
      TarHeader b = r.next();
      assertThat(b.name()).isEqualTo("b");
      assertThat(r.content().readAllBytes()).isEqualTo("bee".getBytes());
      assertThat(r.content().read()).isEqualTo(-1);
      assertThat(r.next()).isNull();
      assertThat(r.next()).isNull();
    }
  }

  @Test
  void corruptChecksumNamesTheOffset() throws IOException {
    byte[] tar = Raw.archive(Raw.file("first", new byte[600]), Raw.file("second", new byte[1]));
    tar[1536 + 5] ^= 1; // inside "second"'s header, which starts after 512 + 1024 bytes
    assertThatThrownBy(() -> readAll(new ByteArrayInputStream(tar)))
        .isInstanceOf(TarException.class)
        .hasMessageContaining("test.tar: bad header checksum at byte 1536")
        .hasMessageContaining("(entry 'secone')");
  }

  @Test
  void truncatedContentNamesTheEntryAndTheByte() {
    byte[] tar = Raw.archive(Raw.file("first", new byte[600]), Raw.file("second", new byte[2000]));
    byte[] cut = Arrays.copyOf(tar, 1536 + 512 + 100);
    assertThatThrownBy(() -> readAll(new ByteArrayInputStream(cut)))
        .isInstanceOf(TarException.class)
        .hasMessage("test.tar: truncated tar at byte 2148 while reading entry second (1900 of 2000 content bytes missing)")
        .extracting(e -> ((TarException) e).offset()).isEqualTo(2148L);
  }

  @Test
  void truncatedHeaderAndMissingEndMarkerAreErrors() {
    byte[] tar = Raw.archive(Raw.file("first", new byte[10]));
    byte[] inHeader = Arrays.copyOf(tar, 1024 + 100);
    assertThatThrownBy(() -> readAll(new ByteArrayInputStream(inHeader)))
        .hasMessage("test.tar: truncated tar at byte 1124 while reading the header after entry first");
    byte[] noEnd = Arrays.copyOf(tar, 1024);
    assertThatThrownBy(() -> readAll(new ByteArrayInputStream(noEnd)))
        .hasMessage("test.tar: truncated tar at byte 1024 while reading the header after entry first (no end-of-archive marker)");
    assertThatThrownBy(() -> readAll(new ByteArrayInputStream(new byte[0])))
        .hasMessageContaining("truncated tar at byte 0 while reading the first header");
  }

  @Test
  void gnuSparseFilesAreRejectedClearly() throws IOException {
    Path src = Files.createDirectory(tmp.resolve("src"));
    Tools.check("sh", "-c", "cd '" + src + "' && truncate -s 10M holes && printf data | dd of=holes bs=1 seek=5000000 conv=notrunc 2>/dev/null");
    for (String format : List.of("gnu", "pax")) {
      Path tar = tmp.resolve(format + ".tar");
      Tools.check("tar", "--sparse", "--format=" + format, "-C", src.toString(), "-cf", tar.toString(), "holes");
      assertThatThrownBy(() -> readAll(tar))
          .isInstanceOf(TarException.class)
          .hasMessageContaining("GNU sparse file")
          .hasMessageContaining("holes")
          .hasMessageContaining("not supported");
    }
  }

  @Test
  void unknownTypeFlagIsRejected() {
    byte[] tar = Raw.archive(Raw.header("weird", 'Q', 0));
    assertThatThrownBy(() -> readAll(new ByteArrayInputStream(tar)))
        .hasMessage("test.tar: unsupported tar entry type 'Q' for weird at byte 0");
  }

  @Test
  void malformedPaxRecordIsRejected() {
    byte[] tar = Raw.archive(Raw.block('x', "p", "99 path=x\n".getBytes()), Raw.header("f", '0', 0));
    assertThatThrownBy(() -> readAll(new ByteArrayInputStream(tar)))
        .isInstanceOf(TarException.class)
        .hasMessageContaining("bad PAX header at byte 0");
  }

  @Test
  void gnuBase256NumbersForHugeSizesIdsAndNegativeTimes() throws IOException {
    byte[] h = Raw.header("huge", '0', 0);
    TarFormat.formatBase256(h, TarFormat.SIZE, 12, 9L << 30);      // 9 GiB
    TarFormat.formatBase256(h, TarFormat.UID, 8, 5_000_000_000L);  // above 2^32
    Arrays.fill(h, TarFormat.MTIME, TarFormat.MTIME + 12, (byte) 0xff); // -1 in base-256
    Raw.rechecksum(h);
    TarReader r = new TarReader(new ByteArrayInputStream(Raw.archive(h)), "huge.tar");
    TarHeader hh = r.next();
    assertThat(hh.size()).isEqualTo(9L << 30);
    assertThat(hh.uid()).isEqualTo(5_000_000_000L);
    assertThat(hh.mtimeSeconds()).isEqualTo(-1);
    // the 1024 zero bytes that follow are content here, then the data ends
    assertThatThrownBy(() -> r.content().transferTo(java.io.OutputStream.nullOutputStream()))
        .hasMessage("huge.tar: truncated tar at byte 1536 while reading entry huge (9663675392 of 9663676416 content bytes missing)");
  }

  /** Hand-made archives for cases no real tool writes. */
  static final class Raw {
    static byte[] header(String name, char type, long size) {
      byte[] h = new byte[512];
      byte[] n = name.getBytes(StandardCharsets.UTF_8);
      System.arraycopy(n, 0, h, 0, n.length);
      TarFormat.formatOctal(h, TarFormat.MODE, 8, 0644);
      TarFormat.formatOctal(h, TarFormat.UID, 8, 0);
      TarFormat.formatOctal(h, TarFormat.GID, 8, 0);
      TarFormat.formatOctal(h, TarFormat.SIZE, 12, size);
      TarFormat.formatOctal(h, TarFormat.MTIME, 12, 0);
      h[TarFormat.TYPEFLAG] = (byte) type;
      System.arraycopy("ustar\u000000".getBytes(StandardCharsets.US_ASCII), 0, h, 257, 8);
      TarFormat.formatOctal(h, TarFormat.CHKSUM, 7, TarFormat.checksum(h, false));
      h[TarFormat.CHKSUM + 7] = ' ';
      return h;
    }

    static void rechecksum(byte[] h) {
      Arrays.fill(h, TarFormat.CHKSUM, TarFormat.CHKSUM + 8, (byte) ' ');
      TarFormat.formatOctal(h, TarFormat.CHKSUM, 7, TarFormat.checksum(h, false));
      h[TarFormat.CHKSUM + 7] = ' ';
    }

    static byte[] block(char type, String name, byte[] data) {
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      out.writeBytes(header(name, type, data.length));
      out.writeBytes(data);
      out.writeBytes(new byte[(512 - data.length % 512) % 512]);
      return out.toByteArray();
    }

    static byte[] file(String name, byte[] data) {
      return block('0', name, data);
    }

    static byte[] pax(char type, Map<String, byte[]> records) {
      return block(type, "pax", PaxRecords.format(new TreeMap<>(records)));
    }

    static byte[] archive(byte[]... parts) {
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      for (byte[] p : parts) out.writeBytes(p);
      out.writeBytes(new byte[1024]);
      return out.toByteArray();
    }
  }
}

package dev.basalt.fs.verity;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.basalt.testkit.Tools;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Random;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class VerityHasherTest {
  static final VerityOptions OPTS = VerityOptions.of(
      "5ea1f00d00112233445566778899aabbccddeeff00112233445566778899aabb",
      UUID.fromString("12345678-9abc-4def-8123-456789abcdef"));

  @TempDir Path dir;

  @BeforeAll
  static void tools() { Tools.require("veritysetup"); }

  static Path randomFile(Path p, long blocks, long seed) throws IOException {
    Random r = new Random(seed);
    byte[] chunk = new byte[1 << 20];
    try (FileChannel ch = FileChannel.open(p, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
      long left = blocks * 4096;
      while (left > 0) {
        r.nextBytes(chunk);
        int n = (int) Math.min(chunk.length, left);
        ch.write(ByteBuffer.wrap(chunk, 0, n));
        left -= n;
      }
    }
    return p;
  }

  static String veritysetupFormat(Path data, Path hash, long blocks, VerityOptions o) {
    String out = Tools.check("veritysetup", "format", "--salt=" + o.saltHex(), "--uuid=" + o.uuid(),
        "--data-blocks=" + blocks, data.toString(), hash.toString());
    Matcher m = Pattern.compile("Root hash:\\s+([0-9a-f]+)").matcher(out);
    assertThat(m.find()).as("root hash in: %s", out).isTrue();
    return m.group(1);
  }

  static int verify(Path data, Path hash, String root, String... extra) {
    var cmd = new java.util.ArrayList<>(List.of("veritysetup", "verify"));
    cmd.addAll(List.of(extra));
    cmd.addAll(List.of(data.toString(), hash.toString(), root));
    return Tools.run(cmd).exitCode();
  }

  @ParameterizedTest
  @ValueSource(longs = {1, 2, 127, 128, 129, 16385, 768})
  void matchesVeritysetupByteForByte(long blocks) throws IOException {
    Path data = randomFile(dir.resolve("data"), blocks, blocks);
    Path ours = dir.resolve("ours.hash");
    VerityResult r = Verity.format(OPTS, data, ours);

    Path theirs = dir.resolve("theirs.hash");
    String expectedRoot = veritysetupFormat(data, theirs, blocks, OPTS);
    assertThat(r.rootHash()).isEqualTo(expectedRoot);
    assertThat(r.dataBlocks()).isEqualTo(blocks);
    assertThat(Files.size(ours)).isEqualTo(r.hashDeviceSize()).isEqualTo(Verity.hashDeviceSize(blocks * 4096));
    assertThat(Files.mismatch(ours, theirs)).as("hash device bytes differ from veritysetup's").isEqualTo(-1L);
    assertThat(verify(data, ours, r.rootHash())).isZero();

    // one flipped data byte in the last block must be caught
    try (FileChannel ch = FileChannel.open(data, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
      long pos = blocks * 4096 - 1000;
      ByteBuffer b = ByteBuffer.allocate(1);
      ch.read(b, pos);
      ch.write(ByteBuffer.wrap(new byte[] {(byte) (b.get(0) ^ 0x01)}), pos);
    }
    assertThat(verify(data, ours, r.rootHash())).isNotZero();
  }

  @Test
  void hashTreeInTheSameFileWithHashOffset() throws IOException {
    long blocks = 700;
    Path disk = randomFile(dir.resolve("disk"), blocks, 7);
    long hashOffset = blocks * 4096 + 8192;
    VerityResult r;
    try (FileChannel ch = FileChannel.open(disk, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
      r = Verity.format(OPTS, ch, 0, blocks * 4096, ch, hashOffset, Verity.hashDeviceSize(blocks * 4096));
    }
    assertThat(Files.size(disk)).isEqualTo(hashOffset + r.hashDeviceSize());
    assertThat(verify(disk, disk, r.rootHash(), "--hash-offset=" + hashOffset)).isZero();
    assertThat(verify(disk, disk, "00" + r.rootHash().substring(2), "--hash-offset=" + hashOffset)).isNotZero();
  }

  @Test
  void fedInSmallPiecesEqualsParallelFile() throws IOException {
    long blocks = 5000;
    Path data = randomFile(dir.resolve("data"), blocks, 3);
    Path a = dir.resolve("a");
    VerityResult whole = Verity.format(OPTS, data, a);
    Path b = dir.resolve("b");
    byte[] all = Files.readAllBytes(data);
    VerityResult fed;
    try (FileChannel out = FileChannel.open(b, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
      VerityHasher h = VerityHasher.create(OPTS, blocks, out, 0, false);
      int pos = 0;
      Random r = new Random(1);
      while (pos < all.length) {
        int n = Math.min(all.length - pos, 4096 * (1 + r.nextInt(40)));
        h.update(ByteBuffer.wrap(all, pos, n));
        pos += n;
      }
      assertThat(h.blocksFed()).isEqualTo(blocks);
      fed = h.finish();
    }
    assertThat(fed).isEqualTo(whole);
    assertThat(Files.mismatch(a, b)).isEqualTo(-1L);
  }

  @Test
  void seedGivesReproducibleOptions() {
    assertThat(VerityOptions.fromSeed("x")).isEqualTo(VerityOptions.fromSeed("x"));
    assertThat(VerityOptions.fromSeed("x")).isNotEqualTo(VerityOptions.fromSeed("y"));
    assertThat(VerityOptions.fromSeed("x").salt()).hasSize(32);
    assertThat(VerityOptions.random().salt()).hasSize(32);
  }

  @Test
  void rejectsBadInputAndRemovesPartialOutput() throws IOException {
    Path odd = dir.resolve("odd");
    Files.write(odd, new byte[5000]);
    Path hash = dir.resolve("h");
    assertThatThrownBy(() -> Verity.format(OPTS, odd, hash))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("multiple of 4096").hasMessageContaining("5000");
    assertThat(hash).doesNotExist();

    assertThatThrownBy(() -> Verity.hashDeviceSize(0)).hasMessageContaining("positive multiple of 4096");
    try (FileChannel ch = FileChannel.open(dir.resolve("x"), StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
      assertThatThrownBy(() -> VerityHasher.create(OPTS, 129, ch, 0, 8192))
          .hasMessageContaining("needs 16384 bytes").hasMessageContaining("holds only 8192");
      VerityHasher h = VerityHasher.create(OPTS, 2, ch, 0, 1 << 20);
      assertThatThrownBy(() -> h.update(ByteBuffer.allocate(100))).hasMessageContaining("whole 4096-byte blocks");
      assertThatThrownBy(() -> h.update(ByteBuffer.allocate(3 * 4096))).hasMessageContaining("sized for 2 data blocks");
      h.update(ByteBuffer.allocate(4096));
      assertThatThrownBy(h::finish).hasMessageContaining("got 1");
    }
    assertThatThrownBy(() -> new VerityOptions(new byte[257], UUID.randomUUID())).hasMessageContaining("257 bytes");
  }

  @Test
  void kernelTableLine() {
    VerityResult r = new VerityResult("ab", "cd", UUID.randomUUID(), 10, 8192);
    assertThat(r.kernelTable("/dev/a", "/dev/b")).isEqualTo("0 80 verity 1 /dev/a /dev/b 4096 4096 10 1 sha256 ab cd");
  }
}

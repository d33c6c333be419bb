package dev.basalt.fs.erofs;

import static org.assertj.core.api.Assertions.assertThat;

import dev.basalt.fs.tree.Metadata;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class DirLayoutTest {
  static Inode dir(String... names) {
    Inode d = new Inode(Format.FT_DIR, Metadata.IMPLIED_DIRECTORY);
    for (String n : names) {
      Inode child = new Inode(Format.FT_REG, Metadata.IMPLIED_DIRECTORY);
      d.entries.add(new Inode.Entry(n.getBytes(StandardCharsets.UTF_8), child));
    }
    return d;
  }

  @Test
  void sortsByRawBytesWithDotEntriesAmongThem() {
    Inode d = dir("b", "-dash", "a", "ab", "\u00e9", "B");
    d.offset = 64; // nid 2
    DirLayout l = DirLayout.plan(d);
    byte[] block = new byte[4096];
    l.writeBlock(0, block);
    ByteBuffer bb = ByteBuffer.wrap(block).order(ByteOrder.LITTLE_ENDIAN);
    int count = (bb.getShort(8) & 0xFFFF) / 12;
    assertThat(count).isEqualTo(8);
    List<String> names = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      int from = bb.getShort(i * 12 + 8) & 0xFFFF;
      int to = i + 1 < count ? bb.getShort((i + 1) * 12 + 8) & 0xFFFF : (int) l.size;
      names.add(new String(block, from, to - from, StandardCharsets.UTF_8));
    }
    assertThat(names).containsExactly("-dash", ".", "..", "B", "a", "ab", "b", "\u00e9");
    assertThat(bb.getLong(12)).as("'.' points at the directory itself").isEqualTo(2);
    assertThat(block[12 + 10]).isEqualTo((byte) Format.FT_DIR);
    assertThat(l.size).isEqualTo(8 * 12 + 5 + 1 + 2 + 1 + 1 + 2 + 1 + 2);
  }

  @Test
  void splitsIntoBlocksWithoutSplittingAnEntry() {
    String[] names = new String[1000];
    for (int i = 0; i < names.length; i++) names[i] = String.format("name-%04d", i);
    DirLayout l = DirLayout.plan(dir(names));
    // Block 0: "." (13 bytes), ".." (14) and 193 names of 21 bytes; then 195 names per block;
    // 1000 - 193 - 4 * 195 = 27 names (567 bytes) in the last block.
    assertThat(l.blockCount()).isEqualTo(6);
    assertThat(l.size).isEqualTo(5 * 4096L + 27 * 21);
  }
}

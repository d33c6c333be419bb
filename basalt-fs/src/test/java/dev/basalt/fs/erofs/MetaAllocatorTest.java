package dev.basalt.fs.erofs;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Random;
import org.junit.jupiter.api.Test;

class MetaAllocatorTest {
  @Test
  void firstItemIsAtOffsetZeroAndSmallItemsFillGaps() {
    MetaAllocator a = new MetaAllocator();
    assertThat(a.place(3040)).isZero();                 // root with an inline directory tail
    assertThat(a.place(2048)).isEqualTo(4096);          // does not fit the 1056 bytes left in block 0
    assertThat(a.place(32)).isEqualTo(3040);            // best fit: block 0 has less room than block 1
    assertThat(a.place(10_000)).isEqualTo(8192);        // big items start a fresh block
    assertThat(a.blocks()).isEqualTo(5);
    assertThat(a.place(64)).isEqualTo(3072);
  }

  @Test
  void itemsNeverCrossABlockBoundaryNorOverlap() {
    MetaAllocator a = new MetaAllocator();
    Random rnd = new Random(1);
    java.util.BitSet used = new java.util.BitSet();
    for (int i = 0; i < 5000; i++) {
      long size = (rnd.nextInt(4096) + 32) & ~31L;
      long at = a.place(size);
      assertThat(at % 32).isZero();
      assertThat(at / 4096).isEqualTo((at + size - 1) / 4096);
      int from = (int) (at / 32);
      int to = (int) ((at + size) / 32);
      assertThat(used.get(from, to).isEmpty()).isTrue();
      used.set(from, to);
    }
    // Best fit keeps the area dense: at least 90% of it is used.
    assertThat(used.cardinality() * 32.0 / (a.blocks() * 4096)).isGreaterThan(0.9);
  }
}

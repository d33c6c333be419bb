package dev.basalt.fs.erofs;

import dev.basalt.fs.tree.TreeException;
import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.util.Arrays;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * The data area, filled block by block as file contents stream in. Writes go through one large
 * staging buffer; all-zero blocks of a file may be skipped (holes) instead of written.
 */
final class DataArea {
  private static final byte[] ZERO = new byte[Format.BLOCK];

  private final Output out;
  private byte[] buf;
  /** The buffer being written in the background; free once {@link #pending} is done. */
  private byte[] spare;
  private Future<?> pending;
  private ExecutorService io;
  private long bufStartBlock;
  private int bufLen;
  private long zeroRun = -1;

  DataArea(Output out, long firstBlock, int stagingBytes) {
    this.out = out;
    this.bufStartBlock = firstBlock;
    int unit = Format.BLOCK << Format.MAX_CHUNK_BITS; // whole chunks, so a chunk is judged in one piece
    this.buf = new byte[Math.max(unit, stagingBytes / unit * unit)];
    this.spare = new byte[buf.length];
  }

  /** The next free block. */
  long nextBlock() { return bufStartBlock + bufLen / Format.BLOCK; }

  /**
   * Streams one regular file's content. With {@code sparse}, each aligned group of 2^MAX_CHUNK_BITS
   * blocks (one chunk) that is all zero is skipped and the file becomes chunk-based; otherwise
   * its blocks are contiguous and the tail (size mod 4096) is kept for inlining when {@code
   * tailMayInline}.
   */
  void writeFile(Inode inode, String path, InputStream in, boolean sparse, boolean tailMayInline,
      TailStore tails) throws IOException {
    final int group = 1 << Format.MAX_CHUNK_BITS;
    long size = inode.size;
    long full = size >>> Format.BLOCK_BITS;
    int tail = (int) (size & (Format.BLOCK - 1));
    boolean tailSharesGroup = tail > 0 && full % group != 0;
    Extents extents = new Extents();
    boolean holes = false;
    boolean lastGroupHole = false;
    byte[] t = null;
    long logical = 0;
    while (logical < full) {
      if (buf.length - bufLen < group * Format.BLOCK) flush(path);
      int room = (buf.length - bufLen) / Format.BLOCK / group * group;
      int blocks = (int) Math.min(full - logical, room);
      int n = in.readNBytes(buf, bufLen, blocks * Format.BLOCK);
      if (n < blocks * Format.BLOCK) throw shortContent(path, logical * Format.BLOCK + n, size);
      boolean last = logical + blocks == full;
      if (last && tail > 0) t = readTail(in, path, full, tail, size);
      int w = bufLen;
      for (int g = 0; g < blocks; g += group) {
        int gb = Math.min(group, blocks - g);
        int off = bufLen + g * Format.BLOCK;
        boolean withTail = last && g + gb == blocks && tailSharesGroup;
        if (sparse && isZero(buf, off, gb * Format.BLOCK) && !(withTail && !isZero(t, 0, tail))) {
          holes = true;
          lastGroupHole = true;
          continue;
        }
        lastGroupHole = false;
        if (w != off) System.arraycopy(buf, off, buf, w, gb * Format.BLOCK);
        for (int i = 0; i < gb; i++) extents.add(logical + g + i, bufStartBlock + w / Format.BLOCK + i);
        w += gb * Format.BLOCK;
      }
      bufLen = w;
      logical += blocks;
    }
    if (tail > 0) {
      if (t == null) t = readTail(in, path, full, tail, size);
      boolean tailIsHole = holes && (tailSharesGroup ? lastGroupHole : isZero(t, 0, tail));
      if (!holes && tailMayInline) {
        inode.tailHandle = tails.put(t, 0, tail);
        inode.inlineLength = tail;
      } else if (!tailIsHole) {
        // Right after the preceding blocks of its chunk, which were the last ones staged.
        if (bufLen == buf.length) flush(path);
        System.arraycopy(t, 0, buf, bufLen, tail);
        Arrays.fill(buf, bufLen + tail, bufLen + Format.BLOCK, (byte) 0);
        extents.add(full, bufStartBlock + bufLen / Format.BLOCK);
        bufLen += Format.BLOCK;
      }
    }
    if (holes) {
      if (zeroRun < 0) zeroRun = writeZeroRun(path);
      extents.toChunks(inode, Format.blocksFor(size), zeroRun);
    } else {
      inode.layout = inode.inlineLength > 0 ? Format.LAYOUT_FLAT_INLINE : Format.LAYOUT_FLAT_PLAIN;
      inode.startBlock = extents.count == 0 ? Format.NULL_ADDR : extents.physical(0);
    }
  }

  private static byte[] readTail(InputStream in, String path, long full, int tail, long size) throws IOException {
    byte[] t = in.readNBytes(tail);
    if (t.length < tail) throw shortContent(path, full * Format.BLOCK + t.length, size);
    return t;
  }

  /** The shared run of zero blocks that all-zero chunks map to (written once per image). */
  private long writeZeroRun(String path) throws IOException {
    long start = nextBlock();
    for (int i = 0; i < 1 << Format.MAX_CHUNK_BITS; i++) writeBlock(ZERO, path);
    return start;
  }

  /** Appends whole blocks produced in finish() (directories, long symlinks): staged like file data. */
  void writeBlock(byte[] block, String path) throws IOException {
    if (bufLen == buf.length) flush(path);
    System.arraycopy(block, 0, buf, bufLen, Format.BLOCK);
    bufLen += Format.BLOCK;
  }

  /**
   * Hands the staged blocks to a background thread (so reading the next files overlaps with the
   * write) and switches to the other buffer.
   */
  void flush(String path) throws IOException {
    if (bufLen == 0) return;
    long end = Math.addExact(bufStartBlock, bufLen / Format.BLOCK);
    if (end > 0xFFFF_FFFFL) throw new TreeException(path, "image exceeds 2^32 blocks (16 TiB), the EROFS limit");
    out.requireRoom(end * Format.BLOCK, path);
    drain();
    byte[] full = buf;
    int len = bufLen;
    long pos = bufStartBlock * Format.BLOCK;
    if (io == null) {
      io = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "erofs-data-writer");
        t.setDaemon(true);
        return t;
      });
    }
    pending = io.submit(() -> {
      out.write(full, 0, len, pos, path);
      return null;
    });
    buf = spare;
    spare = full;
    bufStartBlock = end;
    bufLen = 0;
  }

  /** Waits for the background write, rethrowing its failure. */
  void drain() throws IOException {
    if (pending == null) return;
    try {
      pending.get();
    } catch (ExecutionException e) {
      if (e.getCause() instanceof IOException io) throw io;
      if (e.getCause() instanceof RuntimeException re) throw re;
      throw new IOException(e.getCause());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new InterruptedIOException("interrupted while writing the image");
    } finally {
      pending = null;
    }
  }

  /** Stops the background thread (after {@link #drain()}, or to abandon the image). */
  void close() {
    if (io != null) io.shutdownNow();
  }

  private static boolean isZero(byte[] b, int off, int len) {
    for (int i = 0; i < len; i += Format.BLOCK) {
      int n = Math.min(Format.BLOCK, len - i);
      if (Arrays.mismatch(b, off + i, off + i + n, ZERO, 0, n) >= 0) return false;
    }
    return true;
  }

  private static TreeException shortContent(String path, long got, long size) {
    return new TreeException(path, "content ended after " + got + " of " + size + " bytes");
  }

  /** Runs of logical blocks mapped to contiguous physical blocks. */
  private static final class Extents {
    long[] logical = new long[4];
    long[] physical = new long[4];
    long[] length = new long[4];
    int count;

    void add(long l, long p) {
      if (count > 0 && logical[count - 1] + length[count - 1] == l && physical[count - 1] + length[count - 1] == p) {
        length[count - 1]++;
        return;
      }
      if (count == logical.length) {
        logical = Arrays.copyOf(logical, count * 2);
        physical = Arrays.copyOf(physical, count * 2);
        length = Arrays.copyOf(length, count * 2);
      }
      logical[count] = l;
      physical[count] = p;
      length[count++] = 1;
    }

    long physical(int i) { return physical[i]; }

    /**
     * Chunk-based layout with a block map: the largest chunk size (a power of two of blocks, at
     * most 2^MAX_CHUNK_BITS) for which every chunk is either all zero or wholly inside one extent.
     */
    void toChunks(Inode inode, long totalBlocks, long zeroRun) {
      int bits = Format.MAX_CHUNK_BITS;
      for (int i = 0; i < count; i++) {
        bits = Math.min(bits, Long.numberOfTrailingZeros(logical[i] | (1L << Format.MAX_CHUNK_BITS)));
        long end = logical[i] + length[i];
        if (end != totalBlocks) bits = Math.min(bits, Long.numberOfTrailingZeros(end | (1L << Format.MAX_CHUNK_BITS)));
      }
      long chunks = (totalBlocks + (1L << bits) - 1) >>> bits;
      if (chunks > Integer.MAX_VALUE - 8) throw new IllegalStateException("too many chunks: " + chunks);
      int[] map = new int[(int) chunks];
      Arrays.fill(map, (int) zeroRun);
      for (int i = 0; i < count; i++) {
        for (long l = logical[i]; l < logical[i] + length[i]; l += 1L << bits) {
          map[(int) (l >>> bits)] = (int) (physical[i] + (l - logical[i]));
        }
      }
      inode.layout = Format.LAYOUT_CHUNK_BASED;
      inode.chunkBits = bits;
      inode.chunkMap = map;
    }
  }
}

package dev.basalt.fs.verity;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.security.DigestException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Objects;
import java.util.stream.IntStream;

/**
 * Builds a dm-verity hash device in one pass over the data: feed the data blocks in order with
 * {@link #update}, then {@link #finish}. Hash blocks are written to the output channel as soon as
 * they are complete, at their final place (superblock block first, then the tree with the top
 * level first and the data-block hashes last, as {@code veritysetup format} lays it out).
 *
 * <p>Large {@link #update} calls hash their blocks on all cores. Not thread-safe.
 */
public final class VerityHasher {
  /** Data and hash block size. */
  public static final int BLOCK_SIZE = 4096;
  static final int DIGEST_SIZE = 32;
  static final int DIGESTS_PER_BLOCK = BLOCK_SIZE / DIGEST_SIZE;
  private static final int PER_BLOCK_BITS = 7;
  private static final int WRITE_BATCH_BLOCKS = 64;
  /** Below this many blocks per call, threads cost more than they save. */
  private static final int PARALLEL_MIN_BLOCKS = 64;

  private final VerityOptions options;
  private final byte[] salt;
  private final long dataBlocks;
  private final FileChannel out;
  private final long hashOffset;
  private final Layout layout;
  private final MessageDigest digest;
  private final Level[] levels;
  private final boolean parallel;
  private long fed;
  private byte[] root;
  private boolean finished;

  private VerityHasher(VerityOptions options, long dataBlocks, FileChannel out, long hashOffset, boolean parallel) {
    this.options = options;
    this.salt = options.salt();
    this.dataBlocks = dataBlocks;
    this.out = out;
    this.hashOffset = hashOffset;
    this.layout = Layout.of(dataBlocks);
    this.digest = newDigest();
    this.parallel = parallel;
    this.levels = new Level[layout.levelBlocks.length];
    for (int i = 0; i < levels.length; i++) levels[i] = new Level(layout.levelStart[i]);
  }

  /**
   * Starts a hash device for {@code dataBlocks} 4 KiB blocks, written into {@code out} from byte
   * {@code hashOffset} on ({@link Verity#hashDeviceSize} bytes).
   *
   * @param hashRegionLength bytes available at {@code hashOffset}; a tree that does not fit is refused
   *     before anything is written
   */
  public static VerityHasher create(VerityOptions options, long dataBlocks, FileChannel out, long hashOffset,
      long hashRegionLength) {
    Objects.requireNonNull(options, "options");
    Objects.requireNonNull(out, "out");
    if (dataBlocks <= 0) throw new IllegalArgumentException("verity needs at least one data block, got " + dataBlocks);
    if (hashOffset < 0 || hashOffset % 512 != 0) {
      throw new IllegalArgumentException("hash offset must be a non-negative multiple of 512, got " + hashOffset);
    }
    long need = Layout.of(dataBlocks).deviceBytes();
    if (need > hashRegionLength) {
      throw new IllegalArgumentException("verity hash tree for " + dataBlocks + " data blocks needs " + need
          + " bytes, but the hash region at offset " + hashOffset + " holds only " + hashRegionLength);
    }
    return new VerityHasher(options, dataBlocks, out, hashOffset, Runtime.getRuntime().availableProcessors() > 1);
  }

  /** Same as {@link #create} with an unbounded region; {@code parallel=false} forces one thread. */
  static VerityHasher create(VerityOptions options, long dataBlocks, FileChannel out, long hashOffset, boolean parallel) {
    VerityHasher h = create(options, dataBlocks, out, hashOffset, Long.MAX_VALUE);
    return parallel ? h : new VerityHasher(options, dataBlocks, out, hashOffset, false);
  }

  /** Data blocks fed so far. */
  public long blocksFed() { return fed; }

  /**
   * Hashes the next data blocks: {@code data.remaining()} must be a multiple of 4096. Consumes the buffer.
   */
  public void update(ByteBuffer data) throws IOException {
    if (finished) throw new IllegalStateException("verity hasher already finished");
    int n = data.remaining();
    if (n % BLOCK_SIZE != 0) {
      throw new IllegalArgumentException("verity data must come in whole 4096-byte blocks; got " + n
          + " bytes after block " + fed);
    }
    int blocks = n / BLOCK_SIZE;
    if (fed + blocks > dataBlocks) {
      throw new IllegalArgumentException("verity hasher was sized for " + dataBlocks + " data blocks, got more ("
          + (fed + blocks) + ")");
    }
    byte[] digests = new byte[blocks * DIGEST_SIZE];
    if (parallel && blocks >= PARALLEL_MIN_BLOCKS) {
      int tasks = Math.min(blocks / 16, Runtime.getRuntime().availableProcessors() * 2);
      ByteBuffer src = data.slice();
      IntStream.range(0, tasks).parallel().forEach(t -> {
        int from = (int) ((long) blocks * t / tasks);
        int to = (int) ((long) blocks * (t + 1) / tasks);
        hashBlocks(newDigest(), src.slice(from * BLOCK_SIZE, (to - from) * BLOCK_SIZE), digests, from);
      });
    } else {
      hashBlocks(digest, data.slice(), digests, 0);
    }
    data.position(data.limit());
    fed += blocks;
    if (levels.length == 0) {
      root = digests; // a single data block: its hash is the root
      return;
    }
    for (int i = 0; i < blocks; i++) push(0, digests, i * DIGEST_SIZE);
  }

  /**
   * Completes the tree, writes the remaining hash blocks and the superblock, and returns the root
   * hash. All {@code dataBlocks} must have been fed.
   */
  public VerityResult finish() throws IOException {
    if (finished) throw new IllegalStateException("verity hasher already finished");
    if (fed != dataBlocks) {
      throw new IllegalStateException("verity hasher was sized for " + dataBlocks + " data blocks but got " + fed);
    }
    finished = true;
    for (int i = 0; i < levels.length; i++) {
      if (levels[i].count > 0) completeBlock(i);
      flushWrites(levels[i]);
    }
    writeFully(superblock(), hashOffset);
    return new VerityResult(HexFormat.of().formatHex(root), options.saltHex(), options.uuid(), dataBlocks,
        layout.deviceBytes());
  }

  private void push(int level, byte[] src, int off) throws IOException {
    Level l = levels[level];
    System.arraycopy(src, off, l.block, l.count * DIGEST_SIZE, DIGEST_SIZE);
    if (++l.count == DIGESTS_PER_BLOCK) completeBlock(level);
  }

  private void completeBlock(int level) throws IOException {
    Level l = levels[level];
    java.util.Arrays.fill(l.block, l.count * DIGEST_SIZE, BLOCK_SIZE, (byte) 0);
    l.pending.put(l.block);
    l.count = 0;
    if (!l.pending.hasRemaining()) flushWrites(l);
    byte[] d = hash(digest, l.block, 0);
    if (level + 1 < levels.length) {
      push(level + 1, d, 0);
    } else {
      root = d;
    }
  }

  private void flushWrites(Level l) throws IOException {
    l.pending.flip();
    int blocks = l.pending.remaining() / BLOCK_SIZE;
    if (blocks > 0) writeFully(l.pending, hashOffset + l.nextBlock * BLOCK_SIZE);
    l.nextBlock += blocks;
    l.pending.clear();
  }

  private void writeFully(ByteBuffer b, long pos) throws IOException {
    while (b.hasRemaining()) pos += out.write(b, pos);
  }

  private void hashBlocks(MessageDigest md, ByteBuffer src, byte[] digests, int firstIndex) {
    int blocks = src.remaining() / BLOCK_SIZE;
    try {
      for (int i = 0; i < blocks; i++) {
        md.update(salt);
        md.update(src.slice(i * BLOCK_SIZE, BLOCK_SIZE));
        md.digest(digests, (firstIndex + i) * DIGEST_SIZE, DIGEST_SIZE);
      }
    } catch (DigestException e) {
      throw new IllegalStateException(e);
    }
  }

  private byte[] hash(MessageDigest md, byte[] block, int off) {
    md.update(salt);
    md.update(block, off, BLOCK_SIZE);
    return md.digest();
  }

  private ByteBuffer superblock() {
    ByteBuffer b = ByteBuffer.allocate(BLOCK_SIZE).order(ByteOrder.LITTLE_ENDIAN);
    b.put("verity\0\0".getBytes(StandardCharsets.US_ASCII));
    b.putInt(1); // superblock version
    b.putInt(1); // hash type: format 1 (salt first)
    // UUID bytes in text order (uuid_parse), not little-endian
    b.order(ByteOrder.BIG_ENDIAN).putLong(16, options.uuid().getMostSignificantBits())
        .putLong(24, options.uuid().getLeastSignificantBits()).order(ByteOrder.LITTLE_ENDIAN);
    b.put(32, "sha256".getBytes(StandardCharsets.US_ASCII));
    b.putInt(64, BLOCK_SIZE);
    b.putInt(68, BLOCK_SIZE);
    b.putLong(72, dataBlocks);
    b.putShort(80, (short) salt.length);
    b.put(88, salt);
    b.position(0);
    return b;
  }

  static MessageDigest newDigest() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  private static final class Level {
    final byte[] block = new byte[BLOCK_SIZE];
    final ByteBuffer pending = ByteBuffer.allocateDirect(WRITE_BATCH_BLOCKS * BLOCK_SIZE);
    int count;
    long nextBlock;

    Level(long startBlock) { this.nextBlock = startBlock; }
  }

  /** Block positions of the tree levels, as cryptsetup computes them (level 0 = data hashes, last). */
  record Layout(long[] levelBlocks, long[] levelStart, long totalBlocks) {
    static Layout of(long dataBlocks) {
      int n = 0;
      while (PER_BLOCK_BITS * n < 64 && ((dataBlocks - 1) >>> (PER_BLOCK_BITS * n)) != 0) n++;
      long[] size = new long[n];
      long[] start = new long[n];
      long pos = 1; // block 0 holds the superblock
      for (int i = n - 1; i >= 0; i--) {
        int shift = (i + 1) * PER_BLOCK_BITS;
        start[i] = pos;
        size[i] = shift >= 63 ? 1 : (dataBlocks + (1L << shift) - 1) >>> shift;
        pos += size[i];
      }
      return new Layout(size, start, pos);
    }

    long deviceBytes() { return totalBlocks * BLOCK_SIZE; }
  }
}

package dev.basalt.fs.diskimage;

import static dev.basalt.fs.diskimage.RawScanner.CLUSTER;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;

/**
 * qcow2 v3 in one pass: header and L1 first; then, per 512 MiB range that has data, its L2 table
 * followed by its data clusters; refcount table and blocks last. Zero clusters stay unallocated.
 */
final class Qcow2Writer {
  private static final int CLUSTER_BITS = 16;
  private static final int L2_ENTRIES = CLUSTER / 8;
  private static final int REFCOUNTS_PER_BLOCK = CLUSTER / 2; // refcount_order 4: 16-bit entries
  private static final long COPIED = 1L << 63;
  private static final int OUT_BUFFER = 4 << 20;

  private final FileChannel out;
  private final long[] l1;
  private final ByteBuffer l2 = ByteBuffer.allocate(CLUSTER).order(ByteOrder.BIG_ENDIAN);
  private final ByteBuffer pending = ByteBuffer.allocateDirect(OUT_BUFFER);
  private long pendingStart;
  private long nextCluster;
  private long range = -1;
  private long l2Offset;
  private long zeroClusters;

  private Qcow2Writer(FileChannel out, long l1Size, long l1Clusters) {
    this.out = out;
    this.l1 = new long[(int) l1Size];
    this.nextCluster = 1 + l1Clusters;
  }

  static ConversionResult write(FileChannel raw, FileChannel out) throws IOException {
    long size = raw.size();
    long vclusters = Math.ceilDiv(size, CLUSTER);
    long l1Size = Math.max(1, Math.ceilDiv(vclusters, L2_ENTRIES));
    long l1Clusters = Math.ceilDiv(l1Size * 8, CLUSTER);
    Qcow2Writer w = new Qcow2Writer(out, l1Size, l1Clusters);
    long data = RawScanner.scan(raw, w::cluster);
    w.finishRange();
    long used = w.nextCluster;

    // Refcount table and blocks go last and must count themselves.
    long blocks = 0;
    long table = 0;
    while (true) {
      long total = used + table + blocks;
      long b = Math.ceilDiv(total, REFCOUNTS_PER_BLOCK);
      long t = Math.ceilDiv(b * 8, CLUSTER);
      if (b == blocks && t == table) break;
      blocks = b;
      table = t;
    }
    long total = used + table + blocks;
    long tableOffset = used * CLUSTER;
    ByteBuffer tb = ByteBuffer.allocate((int) (table * CLUSTER)).order(ByteOrder.BIG_ENDIAN);
    for (long i = 0; i < blocks; i++) tb.putLong((used + table + i) * CLUSTER);
    RawScanner.writeFully(out, tb.flip(), tableOffset);
    ByteBuffer rb = ByteBuffer.allocate(CLUSTER).order(ByteOrder.BIG_ENDIAN);
    for (long i = 0; i < blocks; i++) {
      rb.clear();
      for (int k = 0; k < REFCOUNTS_PER_BLOCK; k++) rb.putShort((short) (i * REFCOUNTS_PER_BLOCK + k < total ? 1 : 0));
      RawScanner.writeFully(out, rb.flip(), (used + table + i) * CLUSTER);
    }

    ByteBuffer l1b = ByteBuffer.allocate((int) (l1Clusters * CLUSTER)).order(ByteOrder.BIG_ENDIAN);
    for (long e : w.l1) l1b.putLong(e);
    RawScanner.writeFully(out, l1b.position(0), CLUSTER);

    ByteBuffer h = ByteBuffer.allocate(CLUSTER).order(ByteOrder.BIG_ENDIAN);
    h.putInt(0x514649fb).putInt(3).putLong(0).putInt(0).putInt(CLUSTER_BITS).putLong(size).putInt(0)
        .putInt((int) l1Size).putLong(CLUSTER).putLong(tableOffset).putInt((int) table).putInt(0).putLong(0)
        .putLong(0).putLong(0).putLong(0) // incompatible, compatible, autoclear features
        .putInt(4).putInt(104); // refcount_order, header_length; then the zero end-of-extensions marker
    RawScanner.writeFully(out, h.position(0), 0);
    return new ConversionResult(DiskImageFormat.QCOW2, size, out.size(), data, w.zeroClusters);
  }

  private void cluster(long index, ByteBuffer data, boolean zero) throws IOException {
    if (zero) {
      zeroClusters++;
      return;
    }
    long r = index / L2_ENTRIES;
    if (r != range) {
      finishRange();
      range = r;
      l2Offset = nextCluster++ * CLUSTER;
      l1[(int) r] = l2Offset | COPIED;
      pendingStart = nextCluster * CLUSTER;
    }
    long off = nextCluster++ * CLUSTER;
    l2.putLong((int) (index % L2_ENTRIES) * 8, off | COPIED);
    if (pending.remaining() < CLUSTER) flush();
    int n = data.remaining();
    pending.put(data);
    if (n < CLUSTER) pending.put(new byte[CLUSTER - n]);
  }

  private void flush() throws IOException {
    pending.flip();
    long n = pending.remaining();
    RawScanner.writeFully(out, pending, pendingStart);
    pendingStart += n;
    pending.clear();
  }

  private void finishRange() throws IOException {
    if (range < 0) return;
    flush();
    RawScanner.writeFully(out, l2.position(0), l2Offset);
    java.util.Arrays.fill(l2.array(), (byte) 0);
  }
}

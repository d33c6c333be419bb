package dev.basalt.fs.diskimage;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;

/** Reads a raw image sequentially in large chunks and hands out 64 KiB clusters, flagging all-zero ones. */
final class RawScanner {
  static final int CLUSTER = 1 << 16;
  private static final int CHUNK = 64 * CLUSTER;
  private static final ByteBuffer ZERO = ByteBuffer.allocateDirect(CLUSTER).asReadOnlyBuffer();

  interface ClusterSink {
    /** {@code data} holds the cluster (the last one may be short); it is only valid during the call. */
    void cluster(long index, ByteBuffer data, boolean zero) throws IOException;
  }

  private RawScanner() {}

  static boolean isZero(ByteBuffer b) {
    return b.mismatch(ZERO.duplicate().limit(b.remaining())) == -1;
  }

  /** Returns the count of non-zero clusters. */
  static long scan(FileChannel raw, ClusterSink sink) throws IOException {
    long size = raw.size();
    ByteBuffer buf = ByteBuffer.allocateDirect(CHUNK);
    long pos = 0;
    long index = 0;
    long data = 0;
    while (pos < size) {
      buf.clear().limit((int) Math.min(CHUNK, size - pos));
      while (buf.hasRemaining()) {
        int r = raw.read(buf, pos + buf.position());
        if (r < 0) throw new IOException("raw image shrank while being read, at byte " + (pos + buf.position()));
      }
      buf.flip();
      for (int off = 0; off < buf.limit(); off += CLUSTER) {
        ByteBuffer c = buf.slice(off, Math.min(CLUSTER, buf.limit() - off));
        boolean zero = isZero(c);
        if (!zero) data++;
        sink.cluster(index++, c, zero);
      }
      pos += buf.limit();
    }
    return data;
  }

  static void writeFully(FileChannel ch, ByteBuffer b, long pos) throws IOException {
    while (b.hasRemaining()) pos += ch.write(b, pos);
  }
}

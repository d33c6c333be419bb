package dev.basalt.fs.erofs;

import java.io.IOException;
import java.util.Arrays;

/** Writes the metadata area as a forward-only byte stream, block by block, through the data area's staging. */
final class BlockStream {
  private final DataArea sink;
  private final byte[] block = new byte[Format.BLOCK];
  private int used;
  private long flushedBytes;

  BlockStream(DataArea sink) {
    this.sink = sink;
  }

  long position() { return flushedBytes + used; }

  /** Zero-fills up to {@code offset} (relative to the stream start). */
  void seek(long offset) throws IOException {
    if (offset < position()) throw new IllegalStateException("metadata items overlap at " + offset);
    while (position() < offset) {
      int n = (int) Math.min(Format.BLOCK - used, offset - position());
      Arrays.fill(block, used, used + n, (byte) 0);
      advance(n);
    }
  }

  void put(byte[] src, int off, int len) throws IOException {
    while (len > 0) {
      int n = Math.min(Format.BLOCK - used, len);
      System.arraycopy(src, off, block, used, n);
      advance(n);
      off += n;
      len -= n;
    }
  }

  /** Pads the last block with zeros and hands it over. */
  void finishBlock() throws IOException {
    if (used > 0) seek(flushedBytes + Format.BLOCK);
  }

  private void advance(int n) throws IOException {
    used += n;
    if (used == Format.BLOCK) {
      sink.writeBlock(block, null);
      flushedBytes += Format.BLOCK;
      used = 0;
    }
  }
}

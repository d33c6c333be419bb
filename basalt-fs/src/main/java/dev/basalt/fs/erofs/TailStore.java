package dev.basalt.fs.erofs;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;

/**
 * File tails (&lt; 4 KiB each) kept until the metadata is written, so they can be inlined after
 * their inode. Packed into 1 MiB arenas; past {@code memoryLimit} bytes they spill to a temporary
 * file, so a tree of millions of small files does not exhaust the heap.
 */
final class TailStore implements AutoCloseable {
  private static final int ARENA = 1 << 20;

  private final long memoryLimit;
  private final List<byte[]> arenas = new ArrayList<>();
  private int arenaUsed = ARENA;
  private long spillSize;
  private Path spillPath;
  private FileChannel spill;

  TailStore(long memoryLimit) {
    this.memoryLimit = Math.max(memoryLimit, 0);
  }

  /** Stores {@code len} bytes; returns the handle to read them back. */
  long put(byte[] src, int off, int len) throws IOException {
    if (len >= Format.BLOCK) throw new IllegalArgumentException("tail too long: " + len);
    if (arenaUsed + len > ARENA) {
      if ((long) (arenas.size() + 1) * ARENA <= memoryLimit) {
        arenas.add(new byte[ARENA]);
        arenaUsed = 0;
      } else {
        return spill(src, off, len);
      }
    }
    System.arraycopy(src, off, arenas.getLast(), arenaUsed, len);
    long handle = (long) (arenas.size() - 1) * ARENA + arenaUsed;
    arenaUsed += len;
    return handle;
  }

  private long spill(byte[] src, int off, int len) throws IOException {
    if (spill == null) {
      spillPath = Files.createTempFile("basalt-erofs-tails", ".bin");
      spill = FileChannel.open(spillPath, StandardOpenOption.READ, StandardOpenOption.WRITE,
          StandardOpenOption.DELETE_ON_CLOSE);
    }
    long at = spillSize;
    ByteBuffer bb = ByteBuffer.wrap(src, off, len);
    while (bb.hasRemaining()) spillSize += spill.write(bb, spillSize);
    return -1 - at;
  }

  void read(long handle, byte[] dst, int off, int len) throws IOException {
    if (handle >= 0) {
      System.arraycopy(arenas.get((int) (handle / ARENA)), (int) (handle % ARENA), dst, off, len);
      return;
    }
    long at = -1 - handle;
    ByteBuffer bb = ByteBuffer.wrap(dst, off, len);
    while (bb.hasRemaining()) {
      int n = spill.read(bb, at + bb.position() - off);
      if (n < 0) throw new IOException("tail spill file " + spillPath + " is truncated");
    }
  }

  @Override
  public void close() throws IOException {
    arenas.clear();
    if (spill != null) {
      spill.close();
      Files.deleteIfExists(spillPath);
      spill = null;
    }
  }
}

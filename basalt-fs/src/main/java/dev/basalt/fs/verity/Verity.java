package dev.basalt.fs.verity;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/** Entry points: sizing, and hash trees for data already on disk. */
public final class Verity {
  private Verity() {}

  private static final int READ_CHUNK = 1 << 20;

  /**
   * Bytes of the hash device (superblock block + tree) for {@code dataBytes} of data, so a disk
   * layout can reserve the partition before the data exists.
   *
   * @param dataBytes a positive multiple of 4096
   */
  public static long hashDeviceSize(long dataBytes) {
    return VerityHasher.Layout.of(dataBlocks(dataBytes, "data size")).deviceBytes();
  }

  /**
   * Hashes {@code dataLength} bytes of {@code data} from {@code dataOffset}, reading sequentially,
   * and writes the hash device into {@code hash} at {@code hashOffset} (at most
   * {@code hashRegionLength} bytes).
   */
  public static VerityResult format(VerityOptions options, FileChannel data, long dataOffset, long dataLength,
      FileChannel hash, long hashOffset, long hashRegionLength) throws IOException {
    long blocks = dataBlocks(dataLength, "data region length");
    if (dataOffset < 0 || dataOffset + dataLength > data.size()) {
      throw new IllegalArgumentException("data region [" + dataOffset + ", " + (dataOffset + dataLength)
          + ") lies outside the data file of " + data.size() + " bytes");
    }
    VerityHasher h = VerityHasher.create(options, blocks, hash, hashOffset, hashRegionLength);
    ByteBuffer buf = ByteBuffer.allocateDirect(READ_CHUNK);
    long pos = dataOffset;
    long end = dataOffset + dataLength;
    while (pos < end) {
      buf.clear().limit((int) Math.min(READ_CHUNK, end - pos));
      while (buf.hasRemaining()) {
        int r = data.read(buf, pos + buf.position());
        if (r < 0) throw new IOException("data ended early at byte " + (pos + buf.position()));
      }
      pos += buf.position();
      h.update(buf.flip());
    }
    return h.finish();
  }

  /**
   * Hashes the whole file {@code data} and writes the hash device to the new file {@code hashFile}
   * (replaced if present; removed again on failure).
   */
  public static VerityResult format(VerityOptions options, Path data, Path hashFile) throws IOException {
    try (FileChannel d = FileChannel.open(data, StandardOpenOption.READ);
        FileChannel h = FileChannel.open(hashFile, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
            StandardOpenOption.TRUNCATE_EXISTING)) {
      return format(options, d, 0, d.size(), h, 0, Long.MAX_VALUE);
    } catch (IOException | RuntimeException e) {
      Files.deleteIfExists(hashFile);
      throw e;
    }
  }

  static long dataBlocks(long bytes, String what) {
    if (bytes <= 0 || bytes % VerityHasher.BLOCK_SIZE != 0) {
      throw new IllegalArgumentException("verity " + what + " must be a positive multiple of 4096, got " + bytes);
    }
    return bytes / VerityHasher.BLOCK_SIZE;
  }
}

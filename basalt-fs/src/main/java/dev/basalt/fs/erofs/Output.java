package dev.basalt.fs.erofs;

import dev.basalt.fs.tree.TreeException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/** Where the image goes: a file the writer owns, or a bounded region of a caller's channel. */
final class Output {
  private final FileChannel channel;
  private final long base;
  private final long capacity;
  private final Path ownedFile;
  private final String description;

  private Output(FileChannel channel, long base, long capacity, Path ownedFile, String description) {
    this.channel = channel;
    this.base = base;
    this.capacity = capacity;
    this.ownedFile = ownedFile;
    this.description = description;
  }

  static Output file(Path file, long capacity) throws IOException {
    if (Files.exists(file, LinkOption.NOFOLLOW_LINKS) && !Files.isRegularFile(file, LinkOption.NOFOLLOW_LINKS)) {
      throw new IOException(file + " exists and is not a regular file; write to a device or disk image"
          + " through output(FileChannel, offset, maxLength)");
    }
    FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING,
        StandardOpenOption.WRITE);
    return new Output(ch, 0, capacity, file, file.toString());
  }

  static Output region(FileChannel channel, long offset, long maxLength) {
    return new Output(channel, offset, maxLength, null,
        "region [" + offset + ", " + (offset + maxLength) + ") of the given channel");
  }

  long capacity() { return capacity; }

  /** Fails with a message naming {@code path} (may be null) when {@code end} bytes exceed the region. */
  void requireRoom(long end, String path) throws TreeException {
    if (end > capacity) {
      throw new TreeException(path, "image needs at least " + end + " bytes, " + description + " holds "
          + capacity);
    }
  }

  void write(byte[] buf, int off, int len, long pos, String path) throws IOException {
    requireRoom(pos + len, path);
    ByteBuffer bb = ByteBuffer.wrap(buf, off, len);
    long at = base + pos;
    while (bb.hasRemaining()) at += channel.write(bb, at);
  }

  void force() throws IOException { channel.force(true); }

  /** Closes an owned file; a caller's channel stays open. */
  void close() throws IOException {
    if (ownedFile != null) channel.close();
  }

  /** Best effort after a failure: removes an owned partial file. */
  void abort(Throwable cause) {
    if (ownedFile == null) return;
    try {
      channel.close();
    } catch (IOException e) {
      cause.addSuppressed(e);
    }
    try {
      Files.deleteIfExists(ownedFile);
    } catch (IOException e) {
      cause.addSuppressed(e);
    }
  }
}

package dev.basalt.node;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.function.LongConsumer;

/**
 * Crash-safe file replacement: write a temp file beside the target ({@code .<name>.tmp}, a name no
 * reader looks at: systemd-boot reads only {@code *.conf}), fsync it, rename it over the target,
 * fsync the directory. A power cut leaves either the old file or the new one, plus at most a temp.
 */
final class Durable {
  static final String TEMP_SUFFIX = ".tmp";

  private Durable() {}

  static Path tempFor(Path target) {
    return target.resolveSibling("." + target.getFileName() + TEMP_SUFFIX);
  }

  static boolean isTemp(Path p) {
    String n = p.getFileName().toString();
    return n.startsWith(".") && n.endsWith(TEMP_SUFFIX);
  }

  static void write(Path target, byte[] content) throws IOException {
    Path tmp = tempFor(target);
    try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
        StandardOpenOption.TRUNCATE_EXISTING)) {
      ByteBuffer b = ByteBuffer.wrap(content);
      while (b.hasRemaining()) ch.write(b);
      ch.force(true);
    } catch (IOException e) {
      Files.deleteIfExists(tmp);
      throw e;
    }
    commit(tmp, target);
  }

  /** Copies {@code source} to {@code target} the same way, reporting bytes copied so far. */
  static void copy(Path source, Path target, LongConsumer progress) throws IOException {
    Path tmp = tempFor(target);
    try (InputStream in = Files.newInputStream(source);
        FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
            StandardOpenOption.TRUNCATE_EXISTING)) {
      byte[] buf = new byte[1 << 20];
      long done = 0;
      int n;
      while ((n = in.read(buf)) > 0) {
        ByteBuffer b = ByteBuffer.wrap(buf, 0, n);
        while (b.hasRemaining()) ch.write(b);
        done += n;
        progress.accept(done);
      }
      ch.force(true);
    } catch (IOException e) {
      Files.deleteIfExists(tmp);
      throw e;
    }
    commit(tmp, target);
  }

  private static void commit(Path tmp, Path target) throws IOException {
    Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    fsyncDirectory(target.toAbsolutePath().getParent());
  }

  static void delete(Path p) throws IOException {
    if (Files.deleteIfExists(p)) fsyncDirectory(p.toAbsolutePath().getParent());
  }

  static void fsyncDirectory(Path dir) throws IOException {
    try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
      ch.force(true);
    }
  }
}

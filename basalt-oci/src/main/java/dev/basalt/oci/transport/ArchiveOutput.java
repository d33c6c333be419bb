package dev.basalt.oci.transport;

import dev.basalt.oci.api.ImageException;
import dev.basalt.oci.tar.TarHeader;
import dev.basalt.oci.tar.TarType;
import dev.basalt.oci.tar.TarWriter;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Comparator;

/**
 * Where an archive destination stages its content and how it publishes the tar: a staging directory next to
 * FILE (same filesystem, so no cross-device copy surprises), then {@code FILE.partial} written, fsynced and renamed
 * over FILE. Until that rename nothing exists at FILE; a failure removes the partial file.
 */
final class ArchiveOutput {
  private ArchiveOutput() {}

  /** Writes the archive's entries; called with a fresh writer. */
  interface Body {
    void write(TarWriter tar) throws IOException;
  }

  /** A new empty staging directory beside {@code file}; checks that {@code file} can be written there. */
  static Path stagingDir(Path file, String name) throws IOException {
    Path abs = file.toAbsolutePath();
    Path parent = abs.getParent();
    if (parent == null || !Files.isDirectory(parent)) {
      throw new ImageException(name + ": directory " + parent + " does not exist");
    }
    if (Files.isDirectory(abs)) throw new ImageException(name + ": " + abs + " is a directory, not an archive file");
    return Files.createTempDirectory(parent, "." + abs.getFileName() + ".basalt-");
  }

  /** Writes the tar to {@code FILE.partial}, fsyncs it and renames it to {@code file}. */
  static void publish(Path file, Body body) throws IOException {
    Path abs = file.toAbsolutePath();
    Path partial = abs.resolveSibling(abs.getFileName() + ".partial");
    boolean done = false;
    try {
      try (FileChannel ch = FileChannel.open(partial, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING,
          StandardOpenOption.WRITE);
          OutputStream os = nonClosing(Channels.newOutputStream(ch))) {
        TarWriter tar = new TarWriter(os);
        body.write(tar);
        tar.close();
        ch.force(true);
      }
      Files.move(partial, abs, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
      done = true;
      syncDirectory(abs.getParent());
    } finally {
      if (!done) Files.deleteIfExists(partial);
    }
  }

  /** The rename is durable only once the directory is synced; not every filesystem allows opening one. */
  private static void syncDirectory(Path dir) {
    try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
      d.force(true);
    } catch (IOException ignored) {
      // best effort
    }
  }

  /** Deterministic headers: root-owned, mtime 0, no user/group names. */
  static TarHeader fileHeader(String name, long size) {
    return TarHeader.builder(name, TarType.REGULAR).mode(0644).size(size).build();
  }

  static TarHeader dirHeader(String name) {
    return TarHeader.builder(name.endsWith("/") ? name : name + "/", TarType.DIRECTORY).mode(0755).build();
  }

  static TarHeader symlinkHeader(String name, String target) {
    return TarHeader.builder(name, TarType.SYMLINK).mode(0777).linkName(target).build();
  }

  static void addFile(TarWriter tar, String name, Path source) throws IOException {
    long size = Files.size(source);
    try (InputStream in = Files.newInputStream(source)) {
      tar.add(fileHeader(name, size), in);
    }
  }

  static void addBytes(TarWriter tar, String name, byte[] bytes) throws IOException {
    tar.add(fileHeader(name, bytes.length), new java.io.ByteArrayInputStream(bytes));
  }

  static void deleteTree(Path root) throws IOException {
    if (root == null || !Files.exists(root)) return;
    try (var s = Files.walk(root)) {
      for (Path p : s.sorted(Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
    }
  }

  private static OutputStream nonClosing(OutputStream out) {
    return new java.io.FilterOutputStream(out) {
      @Override
      public void write(byte[] b, int off, int len) throws IOException {
        out.write(b, off, len);
      }

      @Override
      public void close() throws IOException {
        flush(); // the channel is forced and closed by the caller
      }
    };
  }
}

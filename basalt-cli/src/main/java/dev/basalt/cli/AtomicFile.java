package dev.basalt.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/** An output written under a temporary name beside its target and renamed into place only when complete. */
final class AtomicFile implements AutoCloseable {
  private final Path target;
  private final Path temp;
  private boolean committed;

  AtomicFile(Path target) throws IOException {
    this.target = target.toAbsolutePath();
    Path dir = this.target.getParent();
    if (dir != null && !Files.isDirectory(dir)) throw new IOException("output directory does not exist: " + dir);
    this.temp = this.target.resolveSibling("." + this.target.getFileName() + ".partial");
    Files.deleteIfExists(temp);
  }

  Path temp() { return temp; }

  Path target() { return target; }

  void commit() throws IOException {
    Files.move(temp, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    committed = true;
  }

  /** Removes the partial output unless committed. */
  @Override
  public void close() throws IOException {
    if (!committed) Files.deleteIfExists(temp);
  }
}

package dev.basalt.fs.tree;

import java.util.Objects;

/** One entry of a filesystem tree; see the package documentation for the stream contract. */
public sealed interface TreeEntry {

  /** Normalized relative path; {@code ""} is the root directory. */
  String path();

  record Directory(String path, Metadata metadata) implements TreeEntry {
    public Directory { TreePaths.requireValid(path); Objects.requireNonNull(metadata); }
  }

  /** A regular file of {@code size} bytes; its content travels beside the entry in {@link TreeSink#add}. */
  record RegularFile(String path, Metadata metadata, long size) implements TreeEntry {
    public RegularFile {
      TreePaths.requireNonRoot(path);
      Objects.requireNonNull(metadata);
      if (size < 0) throw new IllegalArgumentException("negative size for " + path);
    }
  }

  record Symlink(String path, Metadata metadata, String target) implements TreeEntry {
    public Symlink {
      TreePaths.requireNonRoot(path);
      Objects.requireNonNull(metadata);
      if (target == null || target.isEmpty()) throw new IllegalArgumentException("empty symlink target for " + path);
    }
  }

  /** Another name for the entry at {@code target}, which appeared earlier in the same stream. */
  record Hardlink(String path, String target) implements TreeEntry {
    public Hardlink { TreePaths.requireNonRoot(path); TreePaths.requireNonRoot(target); }
  }

  record Device(String path, Metadata metadata, DeviceType type, int major, int minor) implements TreeEntry {
    public Device {
      TreePaths.requireNonRoot(path);
      Objects.requireNonNull(metadata);
      Objects.requireNonNull(type);
      if (major < 0 || minor < 0) throw new IllegalArgumentException("negative device number for " + path);
    }
  }

  record Fifo(String path, Metadata metadata) implements TreeEntry {
    public Fifo { TreePaths.requireNonRoot(path); Objects.requireNonNull(metadata); }
  }

  record Socket(String path, Metadata metadata) implements TreeEntry {
    public Socket { TreePaths.requireNonRoot(path); Objects.requireNonNull(metadata); }
  }

  enum DeviceType { CHARACTER, BLOCK }
}

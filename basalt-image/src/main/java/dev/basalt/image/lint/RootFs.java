package dev.basalt.image.lint;

import dev.basalt.fs.tree.Metadata;
import dev.basalt.fs.tree.TreePaths;
import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * A read-only view of an image's merged root filesystem, as lint needs it.
 *
 * <p>Paths are normalized relative paths ({@code ""} is the root, see
 * {@link dev.basalt.fs.tree.TreePaths}). {@link #lookup} is literal: it follows no symlink, not
 * even in a parent component, so {@code lookup("bin/sh")} is empty when {@code bin} is a symlink.
 * {@link #resolve} follows symlinks inside the image, the way the booted system would see them;
 * absolute targets are relative to the image root and never escape it.
 */
public interface RootFs extends Closeable {

  /** Most symlinks one resolution follows, as Linux (MAXSYMLINKS = 40). */
  int MAX_SYMLINKS = 40;

  /** What a path is. */
  enum Kind { DIRECTORY, REGULAR_FILE, SYMLINK, DEVICE, FIFO, SOCKET }

  /**
   * One entry.
   *
   * @param path where it is (for {@link #resolve}, the path after following symlinks)
   * @param size content size for regular files, 0 otherwise
   * @param linkTarget the symlink target as stored, {@code null} for other kinds
   */
  record Node(String path, Kind kind, Metadata metadata, long size, String linkTarget) {
    public Node {
      TreePaths.requireValid(path);
      Objects.requireNonNull(kind, "kind");
      Objects.requireNonNull(metadata, "metadata");
      if ((kind == Kind.SYMLINK) != (linkTarget != null)) {
        throw new IllegalArgumentException("a symlink, and only a symlink, has a target: " + path);
      }
    }
  }

  /** The entry at exactly {@code path}, following no symlinks, or empty when there is none. */
  Optional<Node> lookup(String path) throws IOException;

  /** Names in the directory at exactly {@code path}, sorted; an IOException when it is not a directory. */
  List<String> list(String path) throws IOException;

  /**
   * The content of the regular file at exactly {@code path}.
   *
   * @throws IOException when it is not a regular file, or its content is not available in this view
   */
  InputStream open(String path) throws IOException;

  /**
   * Follows symlinks in every component of {@code path} and returns what it finally names, or
   * empty when a component is missing, a symlink dangles, or symlinks loop.
   */
  default Optional<Node> resolve(String path) throws IOException {
    Deque<String> todo = new ArrayDeque<>();
    push(todo, path);
    String current = "";
    int hops = 0;
    while (!todo.isEmpty()) {
      String c = todo.pop();
      if (c.equals(".")) continue;
      if (c.equals("..")) {
        current = TreePaths.parent(current);
        continue;
      }
      String next = current.isEmpty() ? c : current + "/" + c;
      Optional<Node> node = lookup(next);
      if (node.isEmpty()) return Optional.empty();
      Node n = node.get();
      if (n.kind() == Kind.SYMLINK) {
        if (++hops > MAX_SYMLINKS) return Optional.empty();
        if (n.linkTarget().startsWith("/")) current = "";
        push(todo, n.linkTarget());
        continue;
      }
      if (!todo.isEmpty() && n.kind() != Kind.DIRECTORY) return Optional.empty();
      current = next;
    }
    return lookup(current);
  }

  private static void push(Deque<String> todo, String path) {
    String[] parts = path.split("/");
    for (int i = parts.length - 1; i >= 0; i--) {
      if (!parts[i].isEmpty()) todo.push(parts[i]);
    }
  }

  /** Releases what the view holds (spooled content); the default holds nothing. */
  @Override
  default void close() throws IOException {}
}

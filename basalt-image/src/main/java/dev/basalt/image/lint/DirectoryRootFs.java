package dev.basalt.image.lint;

import dev.basalt.fs.tree.Metadata;
import dev.basalt.fs.tree.TreePaths;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * A root filesystem unpacked in a host directory (an extracted image, a debootstrap tree).
 * Lookups never follow a host symlink, so an absolute link such as {@code lib -> /usr/lib} inside
 * the tree cannot reach the host's files. Extended attributes are not read.
 */
public final class DirectoryRootFs implements RootFs {
  private final Path root;

  /** @param root the directory holding the image's {@code /} */
  public DirectoryRootFs(Path root) throws IOException {
    if (!Files.isDirectory(root, LinkOption.NOFOLLOW_LINKS)) {
      throw new NotDirectoryException(root + " (the root of an image must be a directory)");
    }
    this.root = root;
  }

  @Override
  public Optional<Node> lookup(String path) throws IOException {
    TreePaths.requireValid(path);
    Path p = root;
    if (!path.isEmpty()) {
      String[] parts = path.split("/");
      for (int i = 0; i < parts.length - 1; i++) {
        p = p.resolve(parts[i]);
        if (!Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)) return Optional.empty();
      }
      p = p.resolve(parts[parts.length - 1]);
    }
    Map<String, Object> a;
    try {
      a = Files.readAttributes(p, "unix:mode,uid,gid,size,lastModifiedTime", LinkOption.NOFOLLOW_LINKS);
    } catch (NoSuchFileException e) {
      return Optional.empty();
    }
    int mode = (Integer) a.get("mode");
    Kind kind = switch (mode & 0170000) {
      case 0040000 -> Kind.DIRECTORY;
      case 0100000 -> Kind.REGULAR_FILE;
      case 0120000 -> Kind.SYMLINK;
      case 0020000, 0060000 -> Kind.DEVICE;
      case 0010000 -> Kind.FIFO;
      default -> Kind.SOCKET;
    };
    FileTime mtime = (FileTime) a.get("lastModifiedTime");
    long nanos = mtime.to(java.util.concurrent.TimeUnit.NANOSECONDS);
    Metadata md = Metadata.of(mode & 07777, (Integer) a.get("uid") & 0xFFFF_FFFFL,
        (Integer) a.get("gid") & 0xFFFF_FFFFL, Math.floorDiv(nanos, 1_000_000_000L))
        .withMtime(Math.floorDiv(nanos, 1_000_000_000L), (int) Math.floorMod(nanos, 1_000_000_000L));
    String target = kind == Kind.SYMLINK ? Files.readSymbolicLink(p).toString() : null;
    long size = kind == Kind.REGULAR_FILE ? (Long) a.get("size") : 0;
    return Optional.of(new Node(path, kind, md, size, target));
  }

  @Override
  public List<String> list(String path) throws IOException {
    Node n = lookup(path).orElseThrow(() -> new NoSuchFileException("/" + path));
    if (n.kind() != Kind.DIRECTORY) throw new NotDirectoryException("/" + path);
    List<String> names = new ArrayList<>();
    try (Stream<Path> s = Files.list(path.isEmpty() ? root : root.resolve(path))) {
      s.forEach(p -> names.add(p.getFileName().toString()));
    }
    names.sort(null);
    return names;
  }

  @Override
  public InputStream open(String path) throws IOException {
    Node n = lookup(path).orElseThrow(() -> new NoSuchFileException("/" + path));
    if (n.kind() != Kind.REGULAR_FILE) throw new IOException("/" + path + " is not a regular file but a " + n.kind());
    return Files.newInputStream(root.resolve(path), LinkOption.NOFOLLOW_LINKS);
  }

  @Override
  public String toString() { return "DirectoryRootFs[" + root + "]"; }
}

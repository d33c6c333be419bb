package dev.basalt.image.node;

import dev.basalt.fs.tree.Metadata;
import dev.basalt.fs.tree.TreeEntry;
import dev.basalt.fs.tree.TreeSink;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermission;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;

/** Test helper: materializes a tree stream in a directory (modes, owners, mtimes, symlinks). */
final class DirectoryTreeSink implements TreeSink {
  private final Path root;
  private final List<TreeEntry.Directory> dirs = new ArrayList<>();

  DirectoryTreeSink(Path root) {
    this.root = root;
  }

  @Override
  public void add(TreeEntry entry, InputStream content) throws IOException {
    Path p = entry.path().isEmpty() ? root : root.resolve(entry.path());
    if (!entry.path().isEmpty()) Files.createDirectories(p.getParent());
    switch (entry) {
      case TreeEntry.Directory d -> {
        Files.createDirectories(p);
        dirs.add(d); // modes and times last: adding children changes a directory's mtime
      }
      case TreeEntry.RegularFile f -> {
        Files.copy(content, p);
        apply(p, f.metadata());
      }
      case TreeEntry.Symlink s -> {
        Files.createSymbolicLink(p, Path.of(s.target()));
        Files.setAttribute(p, "unix:uid", (int) s.metadata().uid(), LinkOption.NOFOLLOW_LINKS);
        Files.setAttribute(p, "unix:gid", (int) s.metadata().gid(), LinkOption.NOFOLLOW_LINKS);
      }
      default -> throw new IOException("unsupported in tests: " + entry);
    }
  }

  @Override
  public void finish() throws IOException {
    for (TreeEntry.Directory d : dirs) apply(d.path().isEmpty() ? root : root.resolve(d.path()), d.metadata());
  }

  private static void apply(Path p, Metadata m) throws IOException {
    Files.setPosixFilePermissions(p, perms(m.permissions()));
    Files.setAttribute(p, "unix:uid", (int) m.uid());
    Files.setAttribute(p, "unix:gid", (int) m.gid());
    Files.setLastModifiedTime(p, FileTime.from(m.mtimeSeconds(), java.util.concurrent.TimeUnit.SECONDS));
  }

  static Set<PosixFilePermission> perms(int mode) {
    Set<PosixFilePermission> s = EnumSet.noneOf(PosixFilePermission.class);
    PosixFilePermission[] order = {
        PosixFilePermission.OTHERS_EXECUTE, PosixFilePermission.OTHERS_WRITE, PosixFilePermission.OTHERS_READ,
        PosixFilePermission.GROUP_EXECUTE, PosixFilePermission.GROUP_WRITE, PosixFilePermission.GROUP_READ,
        PosixFilePermission.OWNER_EXECUTE, PosixFilePermission.OWNER_WRITE, PosixFilePermission.OWNER_READ};
    for (int i = 0; i < order.length; i++) if ((mode & (1 << i)) != 0) s.add(order[i]);
    return s;
  }
}

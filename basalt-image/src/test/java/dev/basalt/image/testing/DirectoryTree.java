package dev.basalt.image.testing;

import dev.basalt.fs.tree.Metadata;
import dev.basalt.fs.tree.TreeEntry;
import dev.basalt.fs.tree.TreeSink;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/** Feeds a host directory into a TreeSink, children before parents (as a top-down layer merge may). */
public final class DirectoryTree {
  private DirectoryTree() {}

  public static void feed(Path root, TreeSink sink) throws IOException {
    List<Path> paths;
    try (Stream<Path> s = Files.walk(root)) {
      paths = s.sorted(java.util.Comparator.reverseOrder()).toList();
    }
    Map<Object, String> inodes = new HashMap<>();
    for (Path p : paths) {
      String rel = root.relativize(p).toString().replace('\\', '/');
      Map<String, Object> a = Files.readAttributes(p, "unix:mode,uid,gid,size,ino,dev,nlink,lastModifiedTime",
          LinkOption.NOFOLLOW_LINKS);
      int mode = (Integer) a.get("mode");
      Metadata md = Metadata.of(mode & 07777, (Integer) a.get("uid"), (Integer) a.get("gid"),
          ((java.nio.file.attribute.FileTime) a.get("lastModifiedTime")).toMillis() / 1000);
      switch (mode & 0170000) {
        case 0040000 -> sink.add(new TreeEntry.Directory(rel, md), null);
        case 0120000 -> sink.add(new TreeEntry.Symlink(rel, md, Files.readSymbolicLink(p).toString()), null);
        case 0100000 -> {
          Object key = List.of(a.get("dev"), a.get("ino"));
          String first = (Integer) a.get("nlink") > 1 ? inodes.putIfAbsent(key, rel) : null;
          if (first != null) {
            sink.add(new TreeEntry.Hardlink(rel, first), null);
          } else {
            try (InputStream in = Files.newInputStream(p, LinkOption.NOFOLLOW_LINKS)) {
              sink.add(new TreeEntry.RegularFile(rel, md, (Long) a.get("size")), in);
            }
          }
        }
        case 0010000 -> sink.add(new TreeEntry.Fifo(rel, md), null);
        default -> sink.add(new TreeEntry.Device(rel, md, (mode & 0170000) == 0060000
            ? TreeEntry.DeviceType.BLOCK : TreeEntry.DeviceType.CHARACTER, 0, 0), null);
      }
    }
    sink.finish();
  }
}

package dev.basalt.oci.merge;

import dev.basalt.fs.tree.Metadata;
import dev.basalt.fs.tree.TreeEntry;
import dev.basalt.fs.tree.TreeException;
import dev.basalt.oci.tar.TarHeader;
import dev.basalt.oci.tar.TarType;
import dev.basalt.oci.tar.TarWriter;
import java.io.IOException;
import java.io.InputStream;
import java.util.HashMap;
import java.util.Map;

/** Writes tree entries as tar entries, checking the stream contract (each path once, links to earlier entries). */
final class TreeTar {
  private final TarWriter writer;
  /** Every path written so far → whether it is a directory. */
  private final Map<String, Boolean> written = new HashMap<>();

  TreeTar(TarWriter writer) {
    this.writer = writer;
  }

  boolean isWritten(String path) {
    return written.containsKey(path);
  }

  void add(TreeEntry e, InputStream content) throws IOException {
    String p = e.path();
    if (written.containsKey(p)) throw new TreeException(p, "appears twice in the tree stream");
    TarHeader h = switch (e) {
      case TreeEntry.Directory d -> header(p.isEmpty() ? "./" : p + "/", TarType.DIRECTORY, d.metadata()).build();
      case TreeEntry.RegularFile f -> header(p, TarType.REGULAR, f.metadata()).size(f.size()).build();
      case TreeEntry.Symlink s -> header(p, TarType.SYMLINK, s.metadata()).linkName(s.target()).build();
      case TreeEntry.Hardlink l -> {
        Boolean dir = written.get(l.target());
        if (dir == null) throw new TreeException(p, "hardlink to '" + l.target() + "', which is not an earlier entry");
        if (dir) throw new TreeException(p, "hardlink to the directory '" + l.target() + "'");
        yield TarHeader.builder(p, TarType.HARDLINK).linkName(l.target()).build();
      }
      case TreeEntry.Device d -> header(p, d.type() == TreeEntry.DeviceType.CHARACTER ? TarType.CHAR_DEVICE : TarType.BLOCK_DEVICE,
          d.metadata()).device(d.major(), d.minor()).build();
      case TreeEntry.Fifo f -> header(p, TarType.FIFO, f.metadata()).build();
      case TreeEntry.Socket s -> throw new TreeException(p, "a socket cannot be stored in a tar archive");
    };
    if (e instanceof TreeEntry.RegularFile f && f.size() > 0 && content == null) {
      throw new TreeException(p, "content missing for " + f.size() + " bytes");
    }
    writer.add(h, e instanceof TreeEntry.RegularFile ? content : null);
    written.put(p, e instanceof TreeEntry.Directory);
  }

  /** Numeric owners only and no user/group names, so output does not depend on the machine. */
  private static TarHeader.Builder header(String name, TarType type, Metadata m) {
    return TarHeader.builder(name, type).mode(m.permissions()).owner(m.uid(), m.gid())
        .mtime(m.mtimeSeconds(), m.mtimeNanos()).xattrs(m.xattrs());
  }
}

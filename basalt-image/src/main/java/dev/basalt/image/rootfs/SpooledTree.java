package dev.basalt.image.rootfs;

import dev.basalt.fs.tree.TreeEntry;
import dev.basalt.fs.tree.TreeException;
import dev.basalt.fs.tree.TreeSink;
import dev.basalt.oci.merge.LayerWriter;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Collects a tree stream in any order (entries in memory, file bytes appended to one spool file) and replays
 * it sorted in {@link LayerWriter#PATH_ORDER}. Hardlink groups are re-rooted so that the first path in sorted
 * order carries the content and the others link to it.
 */
final class SpooledTree implements TreeSink, AutoCloseable {
  static final Comparator<String> ORDER = LayerWriter.PATH_ORDER;

  private record Spooled(TreeEntry entry, long offset) {}

  private final Path spoolFile;
  private final FileChannel spool;
  private final OutputStream spoolOut;
  private long spoolSize;
  private final Map<String, Spooled> entries = new HashMap<>();

  SpooledTree(Path workDir) throws IOException {
    spoolFile = Files.createTempFile(workDir, "basalt-spool", ".tmp");
    spool = FileChannel.open(spoolFile, StandardOpenOption.READ, StandardOpenOption.WRITE);
    spoolOut = new java.io.BufferedOutputStream(Channels.newOutputStream(spool), 1 << 17);
  }

  @Override
  public void add(TreeEntry entry, InputStream content) throws IOException {
    if (entries.containsKey(entry.path())) throw new TreeException(entry.path(), "appears twice in the input");
    long offset = spoolSize;
    if (entry instanceof TreeEntry.RegularFile f) {
      long copied = content.transferTo(spoolOut);
      if (copied != f.size()) throw new TreeException(f.path(), "content has " + copied + " bytes, header says " + f.size());
      spoolSize += copied;
    }
    entries.put(entry.path(), new Spooled(entry, offset));
  }

  @Override
  public void finish() {}

  void replaySorted(TreeSink sink) throws IOException {
    spoolOut.flush();
    // Resolve each hardlink to the entry that holds the data, then group the names of each inode.
    Map<String, List<String>> namesByOwner = new HashMap<>();
    for (Spooled s : entries.values()) {
      if (s.entry instanceof TreeEntry.Hardlink h) {
        String owner = owner(h);
        namesByOwner.computeIfAbsent(owner, k -> new ArrayList<>(List.of(k))).add(h.path());
      }
    }
    Map<String, String> linkTo = new HashMap<>();   // path -> the sorted-first name of its inode
    Map<String, String> dataFrom = new HashMap<>(); // sorted-first name -> the entry that holds the data
    for (var e : namesByOwner.entrySet()) {
      List<String> names = e.getValue();
      names.sort(ORDER);
      String first = names.get(0);
      dataFrom.put(first, e.getKey());
      for (String n : names.subList(1, names.size())) linkTo.put(n, first);
    }
    List<String> paths = new ArrayList<>(entries.keySet());
    paths.sort(ORDER);
    for (String p : paths) {
      String first = linkTo.get(p);
      if (first != null) {
        sink.add(new TreeEntry.Hardlink(p, first), null);
        continue;
      }
      Spooled s = entries.get(dataFrom.getOrDefault(p, p));
      TreeEntry e = s.entry;
      if (!e.path().equals(p)) e = rename(e, p);
      if (e instanceof TreeEntry.RegularFile f) {
        try (InputStream in = slice(s.offset, f.size())) {
          sink.add(f, in);
        }
      } else {
        sink.add(e, null);
      }
    }
  }

  private String owner(TreeEntry.Hardlink h) throws TreeException {
    String target = h.target();
    for (int hops = 0; hops < 64; hops++) {
      Spooled t = entries.get(target);
      if (t == null) throw new TreeException(h.path(), "hardlink to '/" + target + "', which is not in the input");
      if (!(t.entry instanceof TreeEntry.Hardlink next)) return target;
      target = next.target();
    }
    throw new TreeException(h.path(), "hardlink chain too long");
  }

  private static TreeEntry rename(TreeEntry e, String path) {
    return switch (e) {
      case TreeEntry.RegularFile f -> new TreeEntry.RegularFile(path, f.metadata(), f.size());
      case TreeEntry.Symlink s -> new TreeEntry.Symlink(path, s.metadata(), s.target());
      case TreeEntry.Device d -> new TreeEntry.Device(path, d.metadata(), d.type(), d.major(), d.minor());
      case TreeEntry.Fifo f -> new TreeEntry.Fifo(path, f.metadata());
      case TreeEntry.Socket s -> new TreeEntry.Socket(path, s.metadata());
      case TreeEntry.Directory d -> new TreeEntry.Directory(path, d.metadata());
      case TreeEntry.Hardlink h -> new TreeEntry.Hardlink(path, h.target());
    };
  }

  private InputStream slice(long offset, long length) {
    return new InputStream() {
      private long pos = offset;
      private final long end = offset + length;

      @Override
      public int read() throws IOException {
        byte[] one = new byte[1];
        return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
      }

      @Override
      public int read(byte[] b, int off, int len) throws IOException {
        if (pos >= end) return -1;
        int n = spool.read(java.nio.ByteBuffer.wrap(b, off, (int) Math.min(len, end - pos)), pos);
        if (n < 0) throw new IOException("spool file ended early at " + pos);
        pos += n;
        return n;
      }
    };
  }

  @Override
  public void close() throws IOException {
    try {
      spool.close();
    } finally {
      Files.deleteIfExists(spoolFile);
    }
  }
}

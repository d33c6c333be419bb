package dev.basalt.oci.transport;

import dev.basalt.oci.api.ImageException;
import dev.basalt.oci.api.MediaTypes.Compression;
import dev.basalt.oci.compress.DecompressionLimits;
import dev.basalt.oci.compress.LayerStreams;
import dev.basalt.oci.tar.TarHeader;
import dev.basalt.oci.tar.TarReader;
import dev.basalt.oci.tar.TarType;
import java.io.BufferedInputStream;
import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HashMap;
import java.util.Map;

/**
 * The entries of an archive file, indexed in one sequential pass with our {@link TarReader}: for each regular
 * file its content offset and size, for links their target. Content is then read by offset from the file
 * (positional reads, safe from many threads), so a multi-GB archive is neither extracted nor held in memory, and
 * a truncated or corrupt archive fails at open, not halfway through a copy. A gzip/zstd-compressed archive is
 * first decompressed to a temporary file (deleted on close), since compressed data cannot be read by offset.
 *
 * <p>Entry names are normalized ({@code ./a//b} → {@code a/b}); an absolute name or one with a {@code ..}
 * component refuses the whole archive, naming the entry.
 */
final class ArchiveIndex implements Closeable {
  private static final int MAX_LINK_HOPS = 40;

  /** One indexed entry; {@code target} is the normalized link target for links, else null. */
  record Entry(String path, TarType type, long offset, long size, String target) {}

  private final String name;
  private final Path file;
  private final Path decompressed;
  private final FileChannel channel;
  private final Map<String, Entry> entries;

  private ArchiveIndex(String name, Path file, Path decompressed, FileChannel channel, Map<String, Entry> entries) {
    this.name = name;
    this.file = file;
    this.decompressed = decompressed;
    this.channel = channel;
    this.entries = entries;
  }

  /**
   * Opens and indexes {@code file}.
   *
   * @param name how errors name the archive, e.g. {@code oci-archive:/tmp/x.tar}
   * @throws ImageException when the file is missing, corrupt, truncated or holds an unsafe entry name
   */
  static ArchiveIndex open(Path file, String name) throws IOException {
    if (Files.isDirectory(file)) throw new ImageException(name + ": " + file + " is a directory, not an archive file");
    Path tar = file;
    Path temp = null;
    try {
      Compression c = sniff(file, name);
      if (c != Compression.NONE) {
        temp = Files.createTempFile("basalt-archive-", ".tar");
        try (InputStream in = LayerStreams.open(new BufferedInputStream(Files.newInputStream(file), 1 << 16), c,
            name, DecompressionLimits.DEFAULT);
            OutputStream out = Files.newOutputStream(temp)) {
          in.transferTo(out);
        } catch (dev.basalt.oci.compress.CompressionException e) {
          throw new ImageException(e.getMessage(), e);
        }
        tar = temp;
      }
      FileChannel ch = FileChannel.open(tar, StandardOpenOption.READ);
      try {
        Map<String, Entry> entries = scan(ch, name);
        return new ArchiveIndex(name, file, temp, ch, entries);
      } catch (IOException | RuntimeException e) {
        ch.close();
        throw e;
      }
    } catch (IOException | RuntimeException e) {
      if (temp != null) Files.deleteIfExists(temp);
      throw e;
    }
  }

  private static Compression sniff(Path file, String name) throws IOException {
    byte[] head = new byte[4];
    int n = 0;
    try (InputStream in = Files.newInputStream(file)) {
      for (int k; n < 4 && (k = in.read(head, n, 4 - n)) > 0; ) n += k;
    } catch (NoSuchFileException e) {
      throw new ImageException(name + ": archive file " + file + " does not exist");
    }
    if (n == 0) throw new ImageException(name + ": archive file " + file + " is empty");
    return LayerStreams.sniff(head, n);
  }

  private static Map<String, Entry> scan(FileChannel ch, String name) throws IOException {
    Map<String, Entry> entries = new HashMap<>();
    // The reader only moves forward; the channel stays open for the offset reads that follow.
    InputStream in = Channels.newInputStream(ch.position(0));
    TarReader r = new TarReader(nonClosing(in), name);
    try {
      for (TarHeader h; (h = r.next()) != null; ) {
        String path = normalize(h.name(), name, "entry '" + h.name() + "' at byte " + r.entryOffset());
        if (path.isEmpty()) continue; // "./" itself
        String target = switch (h.type()) {
          case SYMLINK -> resolveLink(path, h.linkName(), name);
          case HARDLINK -> normalize(h.linkName(), name, "hardlink target '" + h.linkName() + "' of entry '" + h.name() + "'");
          default -> null;
        };
        long size = h.type() == TarType.REGULAR ? h.size() : 0;
        entries.put(path, new Entry(path, h.type(), r.position(), size, target));
      }
    } catch (dev.basalt.oci.tar.TarException e) {
      throw new ImageException(e.getMessage(), e);
    }
    return entries;
  }

  /**
   * {@code a/./b//c/} → {@code a/b/c}; a leading {@code ./} is dropped. Absolute names and {@code ..} components
   * are refused: the archive must not name anything outside itself.
   */
  static String normalize(String raw, String archive, String what) throws ImageException {
    if (raw.startsWith("/")) throw new ImageException(archive + ": " + what + " is an absolute path");
    StringBuilder sb = new StringBuilder();
    for (String part : raw.split("/")) {
      if (part.isEmpty() || part.equals(".")) continue;
      if (part.equals("..")) throw new ImageException(archive + ": " + what + " points outside the archive (contains '..')");
      if (!sb.isEmpty()) sb.append('/');
      sb.append(part);
    }
    return sb.toString();
  }

  /** A symlink target resolved against the link's directory; absolute targets are taken from the archive root. */
  private static String resolveLink(String linkPath, String target, String archive) throws ImageException {
    Deque<String> parts = new ArrayDeque<>();
    if (!target.startsWith("/")) {
      int slash = linkPath.lastIndexOf('/');
      if (slash > 0) for (String p : linkPath.substring(0, slash).split("/")) parts.addLast(p);
    }
    for (String p : target.split("/")) {
      if (p.isEmpty() || p.equals(".")) continue;
      if (p.equals("..")) {
        if (parts.isEmpty()) {
          throw new ImageException(archive + ": symlink '" + linkPath + "' -> '" + target + "' points outside the archive");
        }
        parts.removeLast();
      } else {
        parts.addLast(p);
      }
    }
    return String.join("/", parts);
  }

  String name() {
    return name;
  }

  Path file() {
    return file;
  }

  /** The regular file at {@code path} after following links, or null when there is none. */
  Entry find(String path) throws ImageException {
    String p = path;
    for (int hops = 0; hops <= MAX_LINK_HOPS; hops++) {
      Entry e = entries.get(p);
      if (e == null) return null;
      switch (e.type()) {
        case REGULAR -> {
          return e;
        }
        case SYMLINK, HARDLINK -> p = e.target();
        default -> throw new ImageException(name + ": entry '" + path + "' is a " + e.type() + ", not a file");
      }
    }
    throw new ImageException(name + ": too many levels of links resolving '" + path + "'");
  }

  /** The regular file at {@code path}; throws naming the archive and the entry when it is absent. */
  Entry require(String path, String role) throws ImageException {
    Entry e = find(path);
    if (e == null) throw new ImageException(name + ": " + role + " '" + path + "' is missing from the archive");
    return e;
  }

  /** A stream of exactly the entry's bytes. */
  InputStream open(Entry e) {
    return new Slice(e);
  }

  /** The whole entry, refused when larger than {@code max}. */
  byte[] read(Entry e, int max, String role) throws IOException {
    if (e.size() > max) {
      throw new ImageException(name + ": " + role + " '" + e.path() + "' is " + e.size() + " bytes, over the limit of " + max);
    }
    try (InputStream in = open(e)) {
      return in.readAllBytes();
    }
  }

  @Override
  public void close() throws IOException {
    try {
      channel.close();
    } finally {
      if (decompressed != null) Files.deleteIfExists(decompressed);
    }
  }

  private static InputStream nonClosing(InputStream in) {
    return new java.io.FilterInputStream(in) {
      @Override
      public void close() {
        // the channel is closed with the index
      }
    };
  }

  /** Bytes [offset, offset+size) of the archive by positional reads; a file that shrank is reported as truncated. */
  private final class Slice extends InputStream {
    private final Entry entry;
    private long pos;

    Slice(Entry entry) {
      this.entry = entry;
    }

    @Override
    public int read() throws IOException {
      byte[] one = new byte[1];
      return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
      java.util.Objects.checkFromIndexSize(off, len, b.length);
      if (len == 0) return 0;
      long left = entry.size() - pos;
      if (left <= 0) return -1;
      int n = channel.read(ByteBuffer.wrap(b, off, (int) Math.min(len, left)), entry.offset() + pos);
      if (n < 0) {
        throw new ImageException(name + ": archive ended while reading entry '" + entry.path() + "' (" + pos + " of "
            + entry.size() + " bytes)");
      }
      pos += n;
      return n;
    }

    @Override
    public long skip(long n) {
      long k = Math.max(0, Math.min(n, entry.size() - pos));
      pos += k;
      return k;
    }

    @Override
    public int available() {
      return (int) Math.min(Integer.MAX_VALUE, entry.size() - pos);
    }
  }
}

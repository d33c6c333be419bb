package dev.basalt.fs.tree;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;

/**
 * Feeds a real directory into a {@link TreeSink}: depth first, parents before children, names
 * sorted by their UTF-8 bytes, so the same directory always gives the same stream.
 *
 * <p>Keeps permissions (with setuid/setgid/sticky), owners, nanosecond mtimes, symlinks,
 * devices, fifos, sockets, hardlinks (a second name of the same (dev, ino) becomes a {@link
 * TreeEntry.Hardlink} to the first) and all extended attributes. Java cannot list
 * {@code security.*}, {@code trusted.*} or {@code system.posix_acl_*} attributes, so they are read
 * with one {@code getfattr} run over the whole tree (Debian package {@code attr}).
 *
 * <p>File names must be valid UTF-8 and the JVM must decode file names as UTF-8 (a UTF-8
 * locale such as {@code LANG=C.UTF-8}); anything else is refused rather than silently mangled.
 */
public final class DirectoryTreeReader {
  private static final String ATTRS = "unix:mode,uid,gid,ino,dev,rdev,nlink,size,lastModifiedTime";
  private static final int S_IFMT = 0170000;

  private final Path root;
  private final boolean xattrs;

  private DirectoryTreeReader(Path root, boolean xattrs) {
    this.root = root;
    this.xattrs = xattrs;
  }

  /** A reader of the directory {@code root} (the tree's "" entry), extended attributes included. */
  public static DirectoryTreeReader of(Path root) {
    return new DirectoryTreeReader(Objects.requireNonNull(root, "root").toAbsolutePath().normalize(), true);
  }

  /** The same reader, with or without extended attributes (without them no getfattr is needed). */
  public DirectoryTreeReader withXattrs(boolean read) {
    return new DirectoryTreeReader(root, read);
  }

  /** Counts of what {@link #feed} sent. */
  public record Summary(long entries, long regularFiles, long bytes) {}

  /** Sends every entry under the root (the root included) to {@code sink}; does not call {@link TreeSink#finish()}. */
  public Summary feed(TreeSink sink) throws IOException {
    if (!Files.isDirectory(root, LinkOption.NOFOLLOW_LINKS)) throw new IOException(root + " is not a directory");
    if (!"UTF-8".equalsIgnoreCase(System.getProperty("sun.jnu.encoding", "UTF-8"))) {
      throw new IOException("the JVM decodes file names as " + System.getProperty("sun.jnu.encoding")
          + ", not UTF-8; run it with a UTF-8 locale (e.g. LANG=C.UTF-8)");
    }
    // getfattr runs while the tree is listed and stat'ed; entries are sent once both are done.
    CompletableFuture<Map<String, SortedMap<String, byte[]>>> attrs = xattrs
        ? CompletableFuture.supplyAsync(() -> {
            try {
              return readXattrs(root);
            } catch (IOException e) {
              throw new UncheckedIOException(e);
            }
          })
        : CompletableFuture.completedFuture(Map.of());
    List<Item> items;
    try {
      items = list(root);
    } catch (IOException | RuntimeException e) {
      attrs.cancel(true);
      throw e;
    }
    Map<String, SortedMap<String, byte[]>> xattrMap;
    try {
      xattrMap = attrs.join();
    } catch (CompletionException e) {
      if (e.getCause() instanceof UncheckedIOException u) throw u.getCause();
      throw e;
    }
    return send(items, xattrMap, sink);
  }

  /** One listed entry: its path, tree path and the stat fields the tree needs. */
  private record Item(Path file, String path, int mode, long uid, long gid, long mtimeSeconds, int mtimeNanos,
      long size, long rdev, long nlink, Object dev, Object ino) {}

  /** Depth first, parents first, siblings by UTF-8 bytes; an explicit stack, as trees can be deep. */
  private static List<Item> list(Path root) throws IOException {
    List<Item> items = new ArrayList<>();
    ArrayList<Object[]> stack = new ArrayList<>();
    stack.add(new Object[] {root, ""});
    while (!stack.isEmpty()) {
      Object[] top = stack.removeLast();
      Path p = (Path) top[0];
      String path = (String) top[1];
      Map<String, Object> a = Files.readAttributes(p, ATTRS, LinkOption.NOFOLLOW_LINKS);
      Instant t = ((FileTime) a.get("lastModifiedTime")).toInstant();
      int mode = (Integer) a.get("mode");
      items.add(new Item(p, path, mode, (Integer) a.get("uid") & 0xFFFF_FFFFL, (Integer) a.get("gid") & 0xFFFF_FFFFL,
          t.getEpochSecond(), t.getNano(), (Long) a.get("size"), (Long) a.get("rdev"),
          ((Number) a.get("nlink")).longValue(), a.get("dev"), a.get("ino")));
      if ((mode & S_IFMT) != 0040000) continue;
      List<Object[]> children = new ArrayList<>();
      try (DirectoryStream<Path> ds = Files.newDirectoryStream(p)) {
        for (Path c : ds) {
          String name = c.getFileName().toString();
          children.add(new Object[] {c, path.isEmpty() ? name : path + "/" + name, utf8(name, c)});
        }
      }
      children.sort((x, y) -> Arrays.compareUnsigned((byte[]) y[2], (byte[]) x[2]));
      stack.addAll(children); // reverse-sorted so the smallest name is popped first
    }
    return items;
  }

  private static Summary send(List<Item> items, Map<String, SortedMap<String, byte[]>> xattrs, TreeSink sink)
      throws IOException {
    Map<List<Object>, String> firstNames = new HashMap<>();
    long files = 0;
    long bytes = 0;
    for (Item it : items) {
      String path = it.path();
      Metadata md = new Metadata(it.mode() & 07777, it.uid(), it.gid(), it.mtimeSeconds(), it.mtimeNanos(),
          xattrs.getOrDefault(path, EMPTY));
      int type = it.mode() & S_IFMT;
      if (type == 0040000) {
        sink.add(new TreeEntry.Directory(path, md), null);
        continue;
      }
      if (it.nlink() > 1) {
        String first = firstNames.putIfAbsent(List.of(it.dev(), it.ino()), path);
        if (first != null) {
          sink.add(new TreeEntry.Hardlink(path, first), null);
          continue;
        }
      }
      switch (type) {
        case 0100000 -> {
          try (InputStream in = Files.newInputStream(it.file())) {
            sink.add(new TreeEntry.RegularFile(path, md, it.size()), in);
          }
          files++;
          bytes += it.size();
        }
        case 0120000 -> {
          String target = Files.readSymbolicLink(it.file()).toString();
          utf8(target, it.file());
          sink.add(new TreeEntry.Symlink(path, md, target), null);
        }
        case 0020000, 0060000 -> {
          long rdev = it.rdev();
          int major = (int) (((rdev >>> 8) & 0xFFF) | ((rdev >>> 32) & ~0xFFFL));
          int minor = (int) ((rdev & 0xFF) | ((rdev >>> 12) & ~0xFFL));
          sink.add(new TreeEntry.Device(path, md,
              type == 0020000 ? TreeEntry.DeviceType.CHARACTER : TreeEntry.DeviceType.BLOCK, major, minor), null);
        }
        case 0010000 -> sink.add(new TreeEntry.Fifo(path, md), null);
        case 0140000 -> sink.add(new TreeEntry.Socket(path, md), null);
        default -> throw new TreeException(path, "unknown file type 0" + Integer.toOctalString(type));
      }
    }
    return new Summary(items.size(), files, bytes);
  }

  private static final SortedMap<String, byte[]> EMPTY = Collections.unmodifiableSortedMap(new TreeMap<>());

  private static byte[] utf8(String s, Path p) throws TreeException {
    if (s.indexOf('\uFFFD') >= 0) {
      throw new TreeException(null, p + ": name is not valid UTF-8 (EROFS trees carry UTF-8 names only)");
    }
    return s.getBytes(StandardCharsets.UTF_8);
  }

  // ---- getfattr ----

  /** All xattrs under {@code root} by tree path, from one {@code getfattr -R} run. */
  static Map<String, SortedMap<String, byte[]>> readXattrs(Path root) throws IOException {
    List<String> cmd = List.of("getfattr", "-R", "-h", "-d", "-m", "-", "-e", "hex", "--absolute-names",
        root.toString());
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
    pb.environment().put("LC_ALL", "C");
    Path err = Files.createTempFile("getfattr", ".err");
    pb.redirectError(err.toFile());
    Process proc;
    try {
      proc = pb.start();
    } catch (IOException e) {
      Files.deleteIfExists(err);
      throw new IOException("cannot run getfattr to read extended attributes; install the Debian package 'attr'"
          + " (apt-get install attr): " + e.getMessage(), e);
    }
    try {
      Map<String, SortedMap<String, byte[]>> result;
      try (InputStream in = new BufferedInputStream(proc.getInputStream(), 1 << 16)) {
        result = parseGetfattr(in, root);
      }
      if (!proc.waitFor(10, TimeUnit.MINUTES)) {
        proc.destroyForcibly();
        throw new IOException("getfattr timed out on " + root);
      }
      if (proc.exitValue() != 0) {
        throw new IOException("getfattr failed (exit " + proc.exitValue() + ") on " + root + ": "
            + Files.readString(err).strip());
      }
      return result;
    } catch (InterruptedException e) {
      proc.destroyForcibly();
      Thread.currentThread().interrupt();
      throw new IOException("interrupted while reading xattrs of " + root, e);
    } finally {
      Files.deleteIfExists(err);
    }
  }

  /**
   * Parses {@code getfattr -d -e hex --absolute-names} output: "# file: PATH" lines, then
   * "NAME=0xHEX" lines, then a blank line. getfattr escapes odd bytes in names as \ooo (octal).
   */
  static Map<String, SortedMap<String, byte[]>> parseGetfattr(InputStream in, Path root) throws IOException {
    Map<String, SortedMap<String, byte[]>> out = new HashMap<>();
    String prefix = root.toString();
    String current = null;
    SortedMap<String, byte[]> attrs = null;
    byte[] line;
    while ((line = readLine(in)) != null) {
      if (line.length == 0) continue;
      String text = new String(line, StandardCharsets.ISO_8859_1);
      if (text.startsWith("# file: ")) {
        String abs = unescape(line, 8);
        if (!abs.equals(prefix) && !abs.startsWith(prefix.equals("/") ? "/" : prefix + "/")) {
          throw new IOException("getfattr reported a path outside " + root + ": " + abs);
        }
        current = abs.equals(prefix) ? "" : abs.substring(prefix.equals("/") ? 1 : prefix.length() + 1);
        attrs = new TreeMap<>();
        out.put(current, attrs);
        continue;
      }
      int eq = text.lastIndexOf('=');
      if (attrs == null || eq < 0 || !text.startsWith("0x", eq + 1)) {
        throw new IOException("unexpected getfattr output line: " + text);
      }
      String name = unescape(Arrays.copyOf(line, eq), 0);
      attrs.put(name, HexFormat.of().parseHex(text, eq + 3, text.length()));
    }
    return out;
  }

  private static byte[] readLine(InputStream in) throws IOException {
    ByteArrayOutputStream b = new ByteArrayOutputStream();
    int c;
    while ((c = in.read()) >= 0 && c != '\n') b.write(c);
    return c < 0 && b.size() == 0 ? null : b.toByteArray();
  }

  private static String unescape(byte[] line, int from) throws IOException {
    ByteArrayOutputStream b = new ByteArrayOutputStream(line.length);
    for (int i = from; i < line.length; i++) {
      if (line[i] == '\\' && i + 3 < line.length && isOctal(line[i + 1]) && isOctal(line[i + 2]) && isOctal(line[i + 3])) {
        b.write((line[i + 1] - '0') << 6 | (line[i + 2] - '0') << 3 | (line[i + 3] - '0'));
        i += 3;
      } else {
        b.write(line[i]);
      }
    }
    try {
      return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
          .decode(java.nio.ByteBuffer.wrap(b.toByteArray())).toString();
    } catch (CharacterCodingException e) {
      throw new IOException("getfattr reported a name that is not valid UTF-8: "
          + new String(line, StandardCharsets.ISO_8859_1), e);
    }
  }

  private static boolean isOctal(byte c) {
    return c >= '0' && c <= '7';
  }
}

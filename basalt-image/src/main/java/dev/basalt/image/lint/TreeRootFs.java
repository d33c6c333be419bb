package dev.basalt.image.lint;

import dev.basalt.fs.tree.Metadata;
import dev.basalt.fs.tree.TreeEntry;
import dev.basalt.fs.tree.TreeException;
import dev.basalt.fs.tree.TreePaths;
import dev.basalt.fs.tree.TreeSink;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.SortedSet;
import java.util.TreeSet;
import java.util.function.Predicate;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * An in-memory root filesystem collected from a tree stream (for example the OCI layer merge),
 * so an image can be linted without unpacking it. Every entry's metadata is kept; file content
 * only for the paths a predicate selects — by default {@link #LINT_CONTENT} — small files on the
 * heap, larger ones spooled to a temporary directory that {@link #close()} deletes.
 */
public final class TreeRootFs implements RootFs {

  /**
   * The files whose content lint reads or a disk build copies: kernels, initramfs images,
   * kargs.d, os-release and the systemd-boot binary.
   */
  public static final Predicate<String> LINT_CONTENT = Pattern.compile(
      "boot/vmlinuz-[^/]+|boot/initrd\\.img-[^/]+"
          + "|usr/lib/modules/[^/]+/(vmlinuz|initramfs\\.img)"
          + "|usr/lib/bootc/kargs\\.d/[^/]+\\.toml"
          + "|etc/os-release|usr/lib/os-release"
          + "|usr/lib/systemd/boot/efi/systemd-boot[^/]*\\.efi").asMatchPredicate();

  /** Files up to this size stay on the heap. */
  private static final int IN_MEMORY_MAX = 64 * 1024;

  private final Map<String, Node> nodes;
  private final Map<String, SortedSet<String>> children;
  private final Map<String, Content> contents;
  private final Path spool;

  private TreeRootFs(Map<String, Node> nodes, Map<String, SortedSet<String>> children,
      Map<String, Content> contents, Path spool) {
    this.nodes = nodes;
    this.children = children;
    this.contents = contents;
    this.spool = spool;
  }

  /** A sink that keeps content for {@link #LINT_CONTENT}. */
  public static Sink sink() { return new Sink(LINT_CONTENT); }

  /** A sink that keeps content for the paths {@code keepContent} accepts. */
  public static Sink sink(Predicate<String> keepContent) {
    return new Sink(Objects.requireNonNull(keepContent, "keepContent"));
  }

  @Override
  public Optional<Node> lookup(String path) {
    TreePaths.requireValid(path);
    Node n = nodes.get(path);
    if (n != null) return Optional.of(n);
    if (children.containsKey(path) || path.isEmpty()) {
      return Optional.of(new Node(path, Kind.DIRECTORY, Metadata.IMPLIED_DIRECTORY, 0, null));
    }
    return Optional.empty();
  }

  @Override
  public List<String> list(String path) throws IOException {
    Node n = lookup(path).orElseThrow(() -> new NoSuchFileException("/" + path));
    if (n.kind() != Kind.DIRECTORY) throw new NotDirectoryException("/" + path);
    return List.copyOf(children.getOrDefault(path, new TreeSet<>()));
  }

  @Override
  public InputStream open(String path) throws IOException {
    Node n = lookup(path).orElseThrow(() -> new NoSuchFileException("/" + path));
    if (n.kind() != Kind.REGULAR_FILE) throw new IOException("/" + path + " is not a regular file but a " + n.kind());
    Content c = contents.get(path);
    if (c == null) {
      throw new IOException("/" + path + ": content not kept (this view keeps only the files its predicate selects)");
    }
    return c.open();
  }

  /** Deletes spooled content. */
  @Override
  public void close() throws IOException {
    deleteSpool(spool);
  }

  private static void deleteSpool(Path spool) throws IOException {
    if (spool == null || !Files.exists(spool)) return;
    try (Stream<Path> s = Files.walk(spool)) {
      for (Path p : s.sorted(Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
    }
  }

  private sealed interface Content {
    InputStream open() throws IOException;
  }

  private record Heap(byte[] bytes) implements Content {
    public InputStream open() { return new ByteArrayInputStream(bytes); }
  }

  private record Spooled(Path file) implements Content {
    public InputStream open() throws IOException { return Files.newInputStream(file); }
  }

  /**
   * Collects a tree stream; {@link #build()} after {@link #finish()} hands over a
   * {@link TreeRootFs}. Closing a sink that was not built deletes what it spooled.
   */
  public static final class Sink implements TreeSink, AutoCloseable {
    private final Predicate<String> keepContent;
    private final Map<String, Node> nodes = new HashMap<>();
    private final Map<String, SortedSet<String>> children = new HashMap<>();
    private final Map<String, Content> contents = new HashMap<>();
    private Path spool;
    private int spooled;
    private boolean finished;
    private boolean failed;
    private boolean built;

    private Sink(Predicate<String> keepContent) { this.keepContent = keepContent; }

    @Override
    public void add(TreeEntry entry, InputStream content) throws IOException {
      if (finished || failed) throw new IllegalStateException("sink already finished or failed");
      try {
        doAdd(entry, content);
      } catch (IOException | RuntimeException e) {
        failed = true;
        throw e;
      }
    }

    private void doAdd(TreeEntry entry, InputStream content) throws IOException {
      String path = entry.path();
      if (nodes.containsKey(path)) throw new TreeException(path, "duplicate entry in the tree stream");
      Node node = switch (entry) {
        case TreeEntry.Directory d -> new Node(path, Kind.DIRECTORY, d.metadata(), 0, null);
        case TreeEntry.RegularFile f -> {
          if (content == null) throw new TreeException(path, "regular file without content stream");
          if (keepContent.test(path)) contents.put(path, keep(path, f.size(), content));
          yield new Node(path, Kind.REGULAR_FILE, f.metadata(), f.size(), null);
        }
        case TreeEntry.Symlink s -> new Node(path, Kind.SYMLINK, s.metadata(), 0, s.target());
        case TreeEntry.Hardlink h -> {
          Node target = nodes.get(h.target());
          if (target == null) {
            throw new TreeException(path, "hardlink to /" + h.target() + ", which is not earlier in the stream");
          }
          if (target.kind() == Kind.DIRECTORY) throw new TreeException(path, "hardlink to a directory");
          Content c = contents.get(h.target());
          if (c != null) contents.put(path, c);
          yield new Node(path, target.kind(), target.metadata(), target.size(), target.linkTarget());
        }
        case TreeEntry.Device d -> new Node(path, Kind.DEVICE, d.metadata(), 0, null);
        case TreeEntry.Fifo f -> new Node(path, Kind.FIFO, f.metadata(), 0, null);
        case TreeEntry.Socket s -> new Node(path, Kind.SOCKET, s.metadata(), 0, null);
      };
      nodes.put(path, node);
      // Register the path under its parent, and the parent chain as (possibly implied) directories.
      String p = path;
      while (!p.isEmpty()) {
        String parent = TreePaths.parent(p);
        boolean known = children.containsKey(parent);
        children.computeIfAbsent(parent, k -> new TreeSet<>()).add(TreePaths.name(p));
        if (known) break;
        p = parent;
      }
      if (node.kind() == Kind.DIRECTORY) children.computeIfAbsent(path, k -> new TreeSet<>());
    }

    private Content keep(String path, long size, InputStream in) throws IOException {
      if (size <= IN_MEMORY_MAX) {
        byte[] b = in.readNBytes((int) size);
        if (b.length != size) throw short_(path, b.length, size);
        return new Heap(b);
      }
      if (spool == null) spool = Files.createTempDirectory("basalt-rootfs-");
      Path file = spool.resolve(Integer.toString(spooled++));
      long copied;
      try (OutputStream out = Files.newOutputStream(file)) {
        copied = copy(in, out, size);
      }
      if (copied != size) throw short_(path, copied, size);
      return new Spooled(file);
    }

    private static long copy(InputStream in, OutputStream out, long size) throws IOException {
      byte[] buf = new byte[64 * 1024];
      long total = 0;
      while (total < size) {
        int n = in.read(buf, 0, (int) Math.min(buf.length, size - total));
        if (n < 0) break;
        out.write(buf, 0, n);
        total += n;
      }
      return total;
    }

    private static TreeException short_(String path, long got, long size) {
      return new TreeException(path, "content ended after " + got + " of " + size + " bytes");
    }

    @Override
    public void finish() throws IOException {
      if (finished || failed) throw new IllegalStateException("sink already finished or failed");
      // A path with children must be a directory (or implied as one).
      List<String> parents = new ArrayList<>(children.keySet());
      parents.sort(null);
      for (String dir : parents) {
        Node n = nodes.get(dir);
        if (n != null && n.kind() != Kind.DIRECTORY && !children.get(dir).isEmpty()) {
          failed = true;
          throw new TreeException(dir, "is a " + n.kind() + " but the tree has entries below it (/"
              + (dir.isEmpty() ? "" : dir + "/") + children.get(dir).first() + ")");
        }
      }
      finished = true;
    }

    /** The collected view; the caller owns it (close it to delete spooled content). */
    public TreeRootFs build() {
      if (!finished) throw new IllegalStateException("finish() the sink before build()");
      if (built) throw new IllegalStateException("build() was already called");
      built = true;
      return new TreeRootFs(Map.copyOf(nodes), copyChildren(), Map.copyOf(contents), spool);
    }

    private Map<String, SortedSet<String>> copyChildren() {
      Map<String, SortedSet<String>> out = new HashMap<>();
      children.forEach((k, v) -> out.put(k, java.util.Collections.unmodifiableSortedSet(new TreeSet<>(v))));
      return Map.copyOf(out);
    }

    @Override
    public void close() throws IOException {
      if (!built) deleteSpool(spool);
    }
  }
}

package dev.basalt.fs.erofs;

import dev.basalt.fs.tree.Metadata;
import dev.basalt.fs.tree.TreeEntry;
import dev.basalt.fs.tree.TreeException;
import dev.basalt.fs.tree.TreePaths;
import dev.basalt.fs.tree.TreeSink;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.UUID;
import java.util.zip.CRC32C;

/**
 * Writes an uncompressed EROFS image (4 KiB blocks) from a stream of tree entries.
 *
 * <p>Each regular file's bytes are streamed once into the data area as {@link #add} receives
 * them; all-zero 4 KiB blocks become holes of a chunk-based file unless {@link
 * Builder#sparseFiles(boolean) disabled}. Directories, inodes, xattrs and the superblock are
 * written by {@link #finish()}, the superblock last. Inodes are compact (32 bytes) unless they
 * need the extended form: uid/gid above 65535, size of 4 GiB or more, more than 65535 links, or
 * an mtime other than the image's build time (compact inodes take theirs from the superblock).
 *
 * <p>Output is a pure function of the entry stream: directory contents are sorted by raw name
 * bytes and inode numbers (nids) follow a breadth-first walk of the sorted tree, so the metadata
 * does not depend on the order entries arrive in. File data lands in the order regular files
 * arrive (it is streamed, never buffered), so reordering regular files moves data blocks.
 *
 * <p>On any failure the writer is unusable, and a file it created is deleted; {@link #close()}
 * without a successful {@link #finish()} does the same.
 */
public final class ErofsWriter implements TreeSink, AutoCloseable {

  /** What {@link #finish()} produced. */
  public record Result(long imageBytes, long blocks, long inodes) {}

  private enum State { OPEN, FINISHED, FAILED }

  private final Builder options;
  private final Output out;
  private final DataArea data;
  private final TailStore tails;
  private final Map<String, Inode> byPath = new HashMap<>();
  private final Inode root;
  private long inodeCount;
  private State state = State.OPEN;
  private Result result;

  private ErofsWriter(Builder options, Output out) throws IOException {
    this.options = options;
    this.out = out;
    this.tails = new TailStore(options.tailMemory);
    this.data = new DataArea(out, 1, options.stagingBytes);
    out.requireRoom(2L * Format.BLOCK, null);
    // Invalidate whatever filesystem the region held before; the real superblock comes last.
    out.write(new byte[Format.BLOCK], 0, Format.BLOCK, 0, null);
    root = new Inode(Format.FT_DIR, Metadata.IMPLIED_DIRECTORY);
    root.implied = true;
    byPath.put("", root);
    inodeCount = 1;
  }

  public static Builder builder() {
    return new Builder();
  }

  @Override
  public void add(TreeEntry entry, InputStream content) throws IOException {
    Objects.requireNonNull(entry, "entry");
    requireOpen();
    try {
      switch (entry) {
        case TreeEntry.Directory d -> addDirectory(d);
        case TreeEntry.RegularFile f -> addFile(f, content);
        case TreeEntry.Symlink s -> addSymlink(s);
        case TreeEntry.Hardlink h -> addHardlink(h);
        case TreeEntry.Device d -> addDevice(d);
        case TreeEntry.Fifo f -> attach(f.path(), newInode(f.path(), Format.FT_FIFO, f.metadata()));
        case TreeEntry.Socket s -> attach(s.path(), newInode(s.path(), Format.FT_SOCK, s.metadata()));
      }
    } catch (IOException | RuntimeException | Error e) {
      fail(e);
      throw e;
    }
  }

  /** Writes directories, inodes and the superblock; afterwards {@link #result()} is available. */
  @Override
  public void finish() throws IOException {
    requireOpen();
    try {
      result = writeMetadata();
      state = State.FINISHED;
    } catch (IOException | RuntimeException | Error e) {
      fail(e);
      throw e;
    }
  }

  /** The image's figures, once {@link #finish()} succeeded. */
  public Result result() {
    if (state != State.FINISHED) throw new IllegalStateException("the image is not finished");
    return result;
  }

  /** Abandons an unfinished image (deleting a file the writer created); no-op after {@link #finish()}. */
  @Override
  public void close() throws IOException {
    if (state == State.OPEN) {
      IOException e = new IOException("EROFS image closed before finish()");
      fail(e);
      if (e.getSuppressed().length > 0) throw e;
    }
  }

  // ---- tree building ----

  private void addDirectory(TreeEntry.Directory d) throws IOException {
    Inode existing = byPath.get(d.path());
    if (existing != null) {
      if (!existing.isDirectory() || !existing.implied) throw new TreeException(d.path(), "duplicate path");
      existing.xattrs = Xattrs.encode(d.path(), d.metadata().xattrs());
      existing.metadata = d.metadata();
      existing.implied = false;
      return;
    }
    attach(d.path(), newInode(d.path(), Format.FT_DIR, d.metadata()));
  }

  private void addFile(TreeEntry.RegularFile f, InputStream content) throws IOException {
    if (content == null) throw new TreeException(f.path(), "regular file without a content stream");
    Inode inode = newInode(f.path(), Format.FT_REG, f.metadata());
    inode.size = f.size();
    attach(f.path(), inode);
    int tail = (int) (f.size() & (Format.BLOCK - 1));
    boolean mayInline = options.inlineData && tail > 0
        && Format.EXTENDED_INODE + inode.xattrs.length + tail <= Format.BLOCK;
    data.writeFile(inode, f.path(), content, options.sparse, mayInline, tails);
  }

  private void addSymlink(TreeEntry.Symlink s) throws IOException {
    byte[] target = s.target().getBytes(StandardCharsets.UTF_8);
    if (target.length > Format.SYMLINK_MAX) {
      throw new TreeException(s.path(), "symlink target is " + target.length + " bytes, max " + Format.SYMLINK_MAX);
    }
    for (byte b : target) if (b == 0) throw new TreeException(s.path(), "symlink target contains NUL");
    Inode inode = newInode(s.path(), Format.FT_SYMLINK, s.metadata());
    inode.target = target;
    inode.size = target.length;
    attach(s.path(), inode);
  }

  private void addHardlink(TreeEntry.Hardlink h) throws IOException {
    Inode target = byPath.get(h.target());
    if (target == null) {
      throw new TreeException(h.path(), "hardlink target /" + h.target() + " is unknown (it must appear earlier in the stream)");
    }
    if (target.isDirectory()) throw new TreeException(h.path(), "hardlink target /" + h.target() + " is a directory");
    attach(h.path(), target);
  }

  private void addDevice(TreeEntry.Device d) throws IOException {
    if (d.major() > 0xFFF || d.minor() > 0xFFFFF) {
      throw new TreeException(d.path(), "device number " + d.major() + ":" + d.minor()
          + " does not fit Linux's 12-bit major / 20-bit minor");
    }
    Inode inode = newInode(d.path(), d.type() == TreeEntry.DeviceType.CHARACTER ? Format.FT_CHR : Format.FT_BLK,
        d.metadata());
    inode.rdev = (d.minor() & 0xFF) | (d.major() << 8) | ((d.minor() & ~0xFF) << 12);
    attach(d.path(), inode);
  }

  private Inode newInode(String path, int type, Metadata metadata) throws TreeException {
    Inode inode = new Inode(type, metadata);
    inode.xattrs = Xattrs.encode(path, metadata.xattrs());
    return inode;
  }

  /** Links {@code inode} under its parent (creating implied parents) at a path not seen before. */
  private void attach(String path, Inode inode) throws TreeException {
    Inode existing = byPath.get(path);
    if (existing != null) {
      if (existing.isDirectory() && existing.implied && existing != inode) {
        throw new TreeException(path, "is already a directory (implied by entries below it)");
      }
      throw new TreeException(path, "duplicate path");
    }
    byte[] name = nameOf(path);
    Inode parent = directoryFor(TreePaths.parent(path), path);
    if (inode.links == 0 && !inode.isDirectory() || inode.isDirectory()) countInode(path);
    parent.entries.add(new Inode.Entry(name, inode));
    if (inode.isDirectory()) inode.parent = parent;
    else inode.links++;
    byPath.put(path, inode);
  }

  private Inode directoryFor(String dirPath, String forPath) throws TreeException {
    Inode dir = byPath.get(dirPath);
    if (dir != null) {
      if (!dir.isDirectory()) throw new TreeException(forPath, "parent /" + dirPath + " is not a directory");
      return dir;
    }
    // Create the missing ancestors top-down, without recursion (trees can be deep).
    ArrayDeque<String> missing = new ArrayDeque<>();
    String p = dirPath;
    while ((dir = byPath.get(p)) == null) {
      missing.push(p);
      p = TreePaths.parent(p);
    }
    if (!dir.isDirectory()) throw new TreeException(forPath, "parent /" + p + " is not a directory");
    for (String m : missing) {
      byte[] name = nameOf(m);
      countInode(m);
      Inode implied = new Inode(Format.FT_DIR, Metadata.IMPLIED_DIRECTORY);
      implied.implied = true;
      implied.parent = dir;
      dir.entries.add(new Inode.Entry(name, implied));
      byPath.put(m, implied);
      dir = implied;
    }
    return dir;
  }

  private void countInode(String path) throws TreeException {
    if (++inodeCount > options.inodeLimit) {
      throw new TreeException(path, "more than " + options.inodeLimit + " inodes, the EROFS limit");
    }
  }

  private static byte[] nameOf(String path) throws TreeException {
    byte[] name = TreePaths.name(path).getBytes(StandardCharsets.UTF_8);
    if (name.length > Format.NAME_MAX) {
      throw new TreeException(path, "name is " + name.length + " bytes, EROFS allows " + Format.NAME_MAX);
    }
    for (byte b : name) {
      if (b == 0 || b == '/') throw new TreeException(path, "name contains '/' or NUL");
    }
    return name;
  }

  // ---- metadata ----

  private Result writeMetadata() throws IOException {
    List<Inode> order = canonicalOrder();
    long[] buildTime = buildTime(order);
    for (Inode inode : order) {
      Metadata m = inode.metadata;
      inode.nlink = inode.isDirectory() ? 2 + (int) inode.entries.stream().filter(e -> e.inode().isDirectory()).count()
          : inode.links;
      inode.extended = m.uid() > 0xFFFF || m.gid() > 0xFFFF || inode.nlink > 0xFFFF
          || (inode.size > 0xFFFF_FFFFL && !inode.isDirectory())
          || m.mtimeSeconds() != buildTime[0] || m.mtimeNanos() != buildTime[1];
    }
    // Directory blocks and long symlink targets follow the file data.
    long next = data.nextBlock();
    for (Inode inode : order) {
      long bytes;
      if (inode.isDirectory()) {
        inode.dir = DirLayout.plan(inode);
        inode.size = inode.dir.size;
        if (inode.size > 0xFFFF_FFFFL) inode.extended = true;
        bytes = inode.size;
      } else if (inode.fileType == Format.FT_SYMLINK) {
        bytes = inode.size;
      } else {
        continue;
      }
      int tail = (int) (bytes & (Format.BLOCK - 1));
      if (options.inlineData && tail > 0 && inode.inodeSize() + inode.xattrs.length + tail <= Format.BLOCK) {
        inode.layout = Format.LAYOUT_FLAT_INLINE;
        inode.inlineLength = tail;
        bytes -= tail;
      }
      long blocks = Format.blocksFor(bytes);
      inode.startBlock = blocks == 0 ? Format.NULL_ADDR : next;
      next += blocks;
    }
    MetaAllocator meta = new MetaAllocator();
    for (Inode inode : order) inode.offset = meta.place(inode.itemSize());
    if (order.getFirst().nid() > 0xFFFF) throw new IllegalStateException("root nid out of range");
    long metaStart = next;
    long total = metaStart + meta.blocks();
    if (total > 0xFFFF_FFFFL) {
      throw new TreeException(null, "image needs " + total + " blocks, EROFS allows 2^32 - 1");
    }
    out.requireRoom(total * Format.BLOCK, null);

    byte[] block = new byte[Format.BLOCK];
    for (Inode inode : order) {
      if (inode.startBlock == Format.NULL_ADDR) continue;
      if (inode.isDirectory()) {
        int full = inode.dir.blockCount() - (inode.layout == Format.LAYOUT_FLAT_INLINE ? 1 : 0);
        for (int b = 0; b < full; b++) {
          inode.dir.writeBlock(b, block);
          data.writeBlock(block, null);
        }
      } else if (inode.fileType == Format.FT_SYMLINK) {
        java.util.Arrays.fill(block, (byte) 0);
        System.arraycopy(inode.target, 0, block, 0, inode.target.length);
        data.writeBlock(block, null);
      }
    }
    if (data.nextBlock() != metaStart) throw new IllegalStateException("late data misplaced");

    List<Inode> byOffset = new ArrayList<>(order);
    byOffset.sort(Comparator.comparingLong(i -> i.offset));
    BlockStream stream = new BlockStream(data);
    byte[] ibuf = new byte[Format.EXTENDED_INODE];
    for (Inode inode : byOffset) {
      stream.seek(inode.offset);
      int isize = encodeInode(inode, ibuf, buildTime);
      stream.put(ibuf, 0, isize);
      stream.put(inode.xattrs, 0, inode.xattrs.length);
      if (inode.layout == Format.LAYOUT_CHUNK_BASED) {
        ByteBuffer map = ByteBuffer.allocate(4 * inode.chunkMap.length).order(ByteOrder.LITTLE_ENDIAN);
        map.asIntBuffer().put(inode.chunkMap);
        stream.put(map.array(), 0, map.capacity());
      } else if (inode.layout == Format.LAYOUT_FLAT_INLINE) {
        if (inode.isDirectory()) {
          inode.dir.writeBlock(inode.dir.blockCount() - 1, block);
        } else if (inode.fileType == Format.FT_SYMLINK) {
          System.arraycopy(inode.target, 0, block, 0, inode.target.length);
        } else {
          tails.read(inode.tailHandle, block, 0, inode.inlineLength);
        }
        stream.put(block, 0, inode.inlineLength);
      }
    }
    stream.finishBlock();
    data.flush(null);
    data.drain();
    data.close();
    if (data.nextBlock() != total) throw new IllegalStateException("metadata size mismatch");

    boolean chunked = order.stream().anyMatch(i -> i.layout == Format.LAYOUT_CHUNK_BASED);
    byte[] sb = superblock(order.getFirst().nid(), order.size(), buildTime, total, metaStart, chunked);
    out.write(sb, 0, sb.length, 0, null);
    if (options.fsync) out.force();
    out.close();
    tails.close();
    return new Result(total * Format.BLOCK, total, order.size());
  }

  /** Breadth-first over directories sorted by name bytes: root first; assigns inode numbers. */
  private List<Inode> canonicalOrder() {
    List<Inode> order = new ArrayList<>((int) Math.min(inodeCount, Integer.MAX_VALUE - 8));
    ArrayDeque<Inode> dirs = new ArrayDeque<>();
    root.ino = 1;
    order.add(root);
    dirs.add(root);
    while (!dirs.isEmpty()) {
      Inode dir = dirs.poll();
      DirLayout.sort(dir.entries);
      for (Inode.Entry e : dir.entries) {
        Inode child = e.inode();
        if (child.ino != 0) continue; // another name of a hardlinked inode
        order.add(child);
        child.ino = order.size();
        if (child.isDirectory()) dirs.add(child);
      }
    }
    return order;
  }

  /** The explicit build time, or the most common mtime (so the most inodes can be compact). */
  private long[] buildTime(List<Inode> order) {
    if (options.buildSeconds != null) return new long[] {options.buildSeconds, options.buildNanos};
    record Time(long seconds, int nanos) {}
    Map<Time, Integer> counts = new HashMap<>();
    for (Inode i : order) counts.merge(new Time(i.metadata.mtimeSeconds(), i.metadata.mtimeNanos()), 1, Integer::sum);
    Time best = counts.entrySet().stream()
        .max(Comparator.<Map.Entry<Time, Integer>>comparingInt(Map.Entry::getValue)
            .thenComparing(e -> -e.getKey().seconds())
            .thenComparing(e -> -e.getKey().nanos()))
        .orElseThrow().getKey();
    return new long[] {best.seconds(), best.nanos()};
  }

  private static int encodeInode(Inode inode, byte[] buf, long[] buildTime) {
    java.util.Arrays.fill(buf, (byte) 0);
    ByteBuffer bb = ByteBuffer.wrap(buf).order(ByteOrder.LITTLE_ENDIAN);
    Metadata m = inode.metadata;
    int iu = switch (inode.fileType) {
      case Format.FT_CHR, Format.FT_BLK -> inode.rdev;
      case Format.FT_FIFO, Format.FT_SOCK -> 0;
      default -> inode.layout == Format.LAYOUT_CHUNK_BASED ? inode.chunkBits : (int) inode.startBlock;
    };
    bb.putShort((short) ((inode.extended ? 1 : 0) | inode.layout << 1));
    bb.putShort((short) Xattrs.icount(inode.xattrs.length));
    bb.putShort((short) (Format.MODE_BITS[inode.fileType] | m.permissions()));
    if (inode.extended) {
      bb.putShort((short) 0);
      bb.putLong(inode.size);
      bb.putInt(iu).putInt(inode.ino).putInt((int) m.uid()).putInt((int) m.gid());
      bb.putLong(m.mtimeSeconds()).putInt(m.mtimeNanos()).putInt(inode.nlink);
      return Format.EXTENDED_INODE;
    }
    bb.putShort((short) inode.nlink);
    bb.putInt((int) inode.size);
    bb.putInt(0); // mtime offset from the build time (kernel 6.15+): always 0, the time is the build time
    bb.putInt(iu).putInt(inode.ino).putShort((short) m.uid()).putShort((short) m.gid());
    return Format.COMPACT_INODE;
  }

  private byte[] superblock(long rootNid, long inodes, long[] buildTime, long blocks, long metaStart, boolean chunked) {
    byte[] block = new byte[Format.BLOCK];
    ByteBuffer bb = ByteBuffer.wrap(block).order(ByteOrder.LITTLE_ENDIAN);
    bb.position(Format.SUPER_OFFSET);
    bb.putInt(Format.MAGIC).putInt(0).putInt(Format.COMPAT_SB_CHKSUM | Format.COMPAT_MTIME);
    bb.put((byte) Format.BLOCK_BITS).put((byte) 0).putShort((short) rootNid);
    bb.putLong(inodes).putLong(buildTime[0]).putInt((int) buildTime[1]);
    bb.putInt((int) blocks).putInt((int) metaStart).putInt(0);
    bb.order(ByteOrder.BIG_ENDIAN).putLong(options.uuid.getMostSignificantBits())
        .putLong(options.uuid.getLeastSignificantBits()).order(ByteOrder.LITTLE_ENDIAN);
    byte[] name = options.volumeName.getBytes(StandardCharsets.UTF_8);
    bb.put(name).position(bb.position() + 16 - name.length);
    bb.putInt(chunked ? Format.INCOMPAT_CHUNKED_FILE : 0);
    CRC32C crc = new CRC32C();
    crc.update(block, Format.SUPER_OFFSET, Format.BLOCK - Format.SUPER_OFFSET);
    // The kernel's crc32c(~0, ...) has no final inversion; Java's has.
    bb.putInt(Format.SUPER_OFFSET + 4, ~(int) crc.getValue());
    return block;
  }

  private void requireOpen() {
    if (state != State.OPEN) {
      throw new IllegalStateException(state == State.FINISHED ? "the image is already finished"
          : "the writer failed earlier and cannot continue");
    }
  }

  private void fail(Throwable cause) {
    if (state != State.OPEN) return;
    state = State.FAILED;
    try {
      data.drain(); // no write may land after the file is deleted
    } catch (IOException | RuntimeException e) {
      if (e != cause) cause.addSuppressed(e);
    }
    data.close();
    out.abort(cause);
    try {
      tails.close();
    } catch (IOException e) {
      cause.addSuppressed(e);
    }
  }

  /** Options of an {@link ErofsWriter}; each setter validates its argument. */
  public static final class Builder {
    private Path file;
    private FileChannel channel;
    private long offset;
    private long maxLength;
    private UUID uuid = new UUID(0, 0);
    private String volumeName = "";
    private Long buildSeconds;
    private int buildNanos;
    private boolean sparse = true;
    private boolean inlineData = true;
    private boolean fsync;
    private long tailMemory = 64L << 20;
    private long inodeLimit = 0xFFFF_FFFFL;
    private int stagingBytes = 4 << 20;

    private Builder() {}

    /** Writes (creating or replacing) a regular file; refuses devices and other special files. */
    public Builder output(Path file) {
      requireNoOutput();
      this.file = Objects.requireNonNull(file, "file");
      return this;
    }

    /**
     * Writes into {@code [offset, offset + maxLength)} of a channel opened for writing (a
     * partition of a disk image, a block device); nothing outside it is touched and the channel
     * is neither truncated nor closed.
     */
    public Builder output(FileChannel channel, long offset, long maxLength) {
      requireNoOutput();
      Objects.requireNonNull(channel, "channel");
      if (offset < 0) throw new IllegalArgumentException("offset must be >= 0, got " + offset);
      if (maxLength < 2L * Format.BLOCK) {
        throw new IllegalArgumentException("maxLength must be at least " + 2 * Format.BLOCK + " bytes, got " + maxLength);
      }
      this.channel = channel;
      this.offset = offset;
      this.maxLength = maxLength;
      return this;
    }

    /** Volume UUID; default all-zero, so that the output stays reproducible. */
    public Builder uuid(UUID uuid) {
      this.uuid = Objects.requireNonNull(uuid, "uuid");
      return this;
    }

    /** Volume label, at most 16 bytes of UTF-8. */
    public Builder volumeName(String name) {
      Objects.requireNonNull(name, "volumeName");
      int len = name.getBytes(StandardCharsets.UTF_8).length;
      if (len > 16) throw new IllegalArgumentException("volumeName is " + len + " bytes in UTF-8, max 16: " + name);
      if (name.indexOf('\0') >= 0) throw new IllegalArgumentException("volumeName contains NUL");
      this.volumeName = name;
      return this;
    }

    /**
     * Build time stored in the superblock; it is also the mtime of every compact inode, so
     * entries with another mtime get extended inodes. Default: the most common mtime in the tree.
     */
    public Builder buildTime(long seconds, int nanos) {
      if (nanos < 0 || nanos > 999_999_999) throw new IllegalArgumentException("nanos out of range: " + nanos);
      this.buildSeconds = seconds;
      this.buildNanos = nanos;
      return this;
    }

    /** Whether all-zero 4 KiB blocks of regular files become holes (default true). */
    public Builder sparseFiles(boolean sparse) {
      this.sparse = sparse;
      return this;
    }

    /** Whether tails of files, directories and symlinks are stored inline after their inode (default true). */
    public Builder inlineData(boolean inline) {
      this.inlineData = inline;
      return this;
    }

    /** Whether {@link ErofsWriter#finish()} forces the image to stable storage (default false). */
    public Builder fsync(boolean fsync) {
      this.fsync = fsync;
      return this;
    }

    Builder tailMemoryLimit(long bytes) {
      this.tailMemory = bytes;
      return this;
    }

    Builder inodeLimit(long limit) {
      this.inodeLimit = limit;
      return this;
    }

    Builder stagingBytes(int bytes) {
      this.stagingBytes = bytes;
      return this;
    }

    public ErofsWriter build() throws IOException {
      Output out;
      if (file != null) {
        out = Output.file(file, 0xFFFF_FFFFL * Format.BLOCK);
      } else if (channel != null) {
        out = Output.region(channel, offset, maxLength);
      } else {
        throw new IllegalStateException("no output: call output(Path) or output(FileChannel, offset, maxLength)");
      }
      try {
        return new ErofsWriter(this, out);
      } catch (IOException | RuntimeException e) {
        out.abort(e);
        throw e;
      }
    }

    private void requireNoOutput() {
      if (file != null || channel != null) throw new IllegalStateException("output is already set");
    }
  }
}

package dev.basalt.oci.cache;

import dev.basalt.oci.api.Descriptor;
import dev.basalt.oci.api.Digest;
import dev.basalt.oci.api.ImageException;
import dev.basalt.oci.api.Manifests;
import dev.basalt.oci.api.MediaTypes;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileTime;
import java.security.MessageDigest;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.ReentrantLock;
import tools.jackson.databind.JsonNode;

/**
 * A content-addressed blob store, {@code <root>/blobs/<alg>/<hex>}. A blob becomes visible only after its size and
 * digest are verified: it is written to {@code <root>/ingest/<hex>.partial}, fsynced, then renamed atomically. A
 * partial left by a killed run is continued with a Range request. Fetchers of the same blob (threads or
 * processes) serialize on a lock file {@code <root>/ingest/<hex>.lock}: one downloads, the others then find the
 * blob.
 */
public final class BlobCache {
  /** Locks held in this JVM: FileChannel.lock cannot be taken twice by one process. */
  private static final Map<Path, ReentrantLock> JVM_LOCKS = new ConcurrentHashMap<>();

  private final Path root;
  private final Path ingest;

  private BlobCache(Path root) {
    this.root = root;
    this.ingest = root.resolve("ingest");
  }

  /** Opens (creating) a cache at {@code root}. */
  public static BlobCache open(Path root) throws IOException {
    Path abs = root.toAbsolutePath().normalize();
    Files.createDirectories(abs.resolve("blobs").resolve("sha256"));
    Files.createDirectories(abs.resolve("ingest"));
    return new BlobCache(abs);
  }

  /** {@code $BASALT_CACHE}, else {@code $XDG_CACHE_HOME/basalt}, else {@code ~/.cache/basalt}. */
  public static Path defaultRoot() {
    return defaultRoot(System.getenv(), Path.of(System.getProperty("user.home")));
  }

  static Path defaultRoot(Map<String, String> env, Path home) {
    String explicit = env.get("BASALT_CACHE");
    if (explicit != null && !explicit.isEmpty()) return Path.of(explicit);
    String xdg = env.get("XDG_CACHE_HOME");
    if (xdg != null && !xdg.isEmpty()) return Path.of(xdg, "basalt");
    return home.resolve(".cache").resolve("basalt");
  }

  public Path root() {
    return root;
  }

  /** Where a blob lives once verified (it may not exist). */
  public Path path(Digest d) {
    return root.resolve("blobs").resolve(d.algorithm()).resolve(d.hex());
  }

  public boolean contains(Digest d) {
    return Files.isRegularFile(path(d));
  }

  /** The verified blob, its modification time refreshed (GC keeps recently used blobs). */
  public Optional<Path> find(Digest d) {
    Path p = path(d);
    if (!Files.isRegularFile(p)) return Optional.empty();
    try {
      Files.setLastModifiedTime(p, FileTime.from(Instant.now()));
    } catch (IOException ignored) {
      // read-only cache: still usable
    }
    return Optional.of(p);
  }

  /** Opens a download at {@code offset}; the returned offset says where the stream really starts. */
  @FunctionalInterface
  public interface RangeFetcher {
    Ranged open(long offset) throws IOException;
  }

  /**
   * @param offset where {@code stream} starts: the requested offset, or 0 when the source cannot seek
   */
  public record Ranged(InputStream stream, long offset) {}

  /**
   * @param bytesTransferred bytes read from the source in this call (0 when already cached)
   * @param resumedFrom bytes of an earlier partial download that were kept
   */
  public record FetchResult(Path path, boolean cached, long bytesTransferred, long resumedFrom) {}

  /**
   * Returns the verified blob, downloading what is missing from {@code fetcher}.
   *
   * @param source named in errors, e.g. {@code docker://host/repo}
   * @throws ImageException naming the blob when size or digest do not match (the partial is then deleted)
   */
  public FetchResult fetch(Descriptor d, String source, RangeFetcher fetcher) throws IOException {
    Path target = path(d.digest());
    if (find(d.digest()).isPresent()) return new FetchResult(target, true, 0, 0);
    Files.createDirectories(target.getParent());
    Path lockFile = ingest.resolve(d.digest().hex() + ".lock");
    ReentrantLock jvmLock = JVM_LOCKS.computeIfAbsent(lockFile, k -> new ReentrantLock());
    jvmLock.lock();
    try (FileChannel lc = FileChannel.open(lockFile, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
        FileLock ignored = lc.lock()) {
      if (find(d.digest()).isPresent()) return new FetchResult(target, true, 0, 0);
      return download(d, source, fetcher, target);
    } finally {
      jvmLock.unlock();
    }
  }

  /** Stores a blob from a stream that cannot seek (layouts, archives), verified like {@link #fetch}. */
  public Path put(Descriptor d, String source, InputStream in) throws IOException {
    return fetch(d, source, offset -> new Ranged(in, 0)).path();
  }

  private FetchResult download(Descriptor d, String source, RangeFetcher fetcher, Path target) throws IOException {
    Path partial = ingest.resolve(d.digest().hex() + ".partial");
    MessageDigest md = d.digest().newMessageDigest();
    long have = Files.exists(partial) ? Files.size(partial) : 0;
    if (have > d.size()) {
      Files.delete(partial);
      have = 0;
    }
    long resumed = 0;
    long transferred = 0;
    try (FileChannel ch = FileChannel.open(partial, StandardOpenOption.CREATE, StandardOpenOption.READ,
        StandardOpenOption.WRITE)) {
      if (have > 0) hashPrefix(ch, have, md);
      if (have < d.size()) {
        Ranged r = fetcher.open(have);
        try (InputStream in = r.stream()) {
          if (r.offset() != have) {
            if (r.offset() != 0) {
              throw new ImageException("blob " + d.digest() + " from " + source + ": asked to resume at " + have
                  + ", source started at " + r.offset());
            }
            ch.truncate(0);
            md.reset();
            have = 0;
          }
          resumed = have;
          ch.position(have);
          byte[] buf = new byte[1 << 16];
          long pos = have;
          int n;
          while ((n = readSome(in, buf, d, source, pos)) >= 0) {
            if (pos + n > d.size()) {
              deleteQuietly(partial);
              throw new ImageException("blob " + d.digest() + " from " + source + " is larger than its declared size "
                  + d.size());
            }
            ch.write(ByteBuffer.wrap(buf, 0, n));
            md.update(buf, 0, n);
            pos += n;
            transferred += n;
          }
          have = pos;
        }
      }
      ch.force(true);
    }
    if (have != d.size()) {
      // Keep it: a later fetch resumes from here.
      throw new ImageException("blob " + d.digest() + " from " + source + " is truncated: got " + have + " of " + d.size()
          + " bytes (kept for resume)");
    }
    String actual = HexFormat.of().formatHex(md.digest());
    if (!actual.equals(d.digest().hex())) {
      deleteQuietly(partial);
      throw new ImageException("blob " + d.digest() + " from " + source + " failed verification: content has digest "
          + d.digest().algorithm() + ":" + actual);
    }
    try {
      Files.move(partial, target, StandardCopyOption.ATOMIC_MOVE);
    } catch (AtomicMoveNotSupportedException e) {
      throw new IOException("cache " + root + ": ingest and blobs must be on one filesystem", e);
    }
    fsyncDirectory(target.getParent());
    return new FetchResult(target, false, transferred, resumed);
  }

  /** Reads, turning a dropped connection into an error that names the blob; the partial stays for resume. */
  private static int readSome(InputStream in, byte[] buf, Descriptor d, String source, long pos) throws IOException {
    try {
      return in.read(buf);
    } catch (ImageException e) {
      throw e;
    } catch (IOException e) {
      throw new ImageException("blob " + d.digest() + " from " + source + ": download failed after " + pos + " of "
          + d.size() + " bytes (kept for resume): " + e.getMessage(), e);
    }
  }

  private static void hashPrefix(FileChannel ch, long length, MessageDigest md) throws IOException {
    ByteBuffer buf = ByteBuffer.allocate(1 << 16);
    long pos = 0;
    while (pos < length) {
      buf.clear();
      buf.limit((int) Math.min(buf.capacity(), length - pos));
      int n = ch.read(buf, pos);
      if (n < 0) break;
      buf.flip();
      md.update(buf);
      pos += n;
    }
  }

  private static void fsyncDirectory(Path dir) {
    try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
      ch.force(true);
    } catch (IOException ignored) {
      // not all filesystems allow opening directories; the rename is still atomic
    }
  }

  private static void deleteQuietly(Path p) {
    try {
      Files.deleteIfExists(p);
    } catch (IOException ignored) {
      // best effort
    }
  }

  /** What a {@link #gc} run removed. */
  public record GcResult(int blobsDeleted, int partialsDeleted, long bytesFreed) {}

  /**
   * Deletes blobs not reachable from {@code roots} (manifests and indexes in the cache are followed to their
   * config, layers and child manifests) and not used within {@code minAge}, and partial downloads untouched for
   * {@code partialMaxAge} that no fetcher holds.
   */
  public GcResult gc(Set<Digest> roots, Duration minAge, Duration partialMaxAge) throws IOException {
    Set<Digest> live = reachable(roots);
    Instant now = Instant.now();
    int blobs = 0;
    int partials = 0;
    long freed = 0;
    try (var algs = Files.list(root.resolve("blobs"))) {
      for (Path alg : algs.toList()) {
        try (var files = Files.list(alg)) {
          for (Path f : files.toList()) {
            Digest d;
            try {
              d = new Digest(alg.getFileName().toString(), f.getFileName().toString());
            } catch (IllegalArgumentException notABlob) {
              continue;
            }
            if (live.contains(d)) continue;
            if (Files.getLastModifiedTime(f).toInstant().plus(minAge).isAfter(now)) continue;
            long size = Files.size(f);
            if (Files.deleteIfExists(f)) {
              blobs++;
              freed += size;
            }
          }
        }
      }
    }
    try (var files = Files.list(ingest)) {
      for (Path f : files.toList()) {
        String name = f.getFileName().toString();
        if (!name.endsWith(".partial")) continue;
        if (Files.getLastModifiedTime(f).toInstant().plus(partialMaxAge).isAfter(now)) continue;
        Path lockFile = ingest.resolve(name.substring(0, name.length() - ".partial".length()) + ".lock");
        ReentrantLock jvmLock = JVM_LOCKS.computeIfAbsent(lockFile, k -> new ReentrantLock());
        if (!jvmLock.tryLock()) continue;
        try (FileChannel lc = FileChannel.open(lockFile, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
            FileLock l = lc.tryLock()) {
          if (l == null) continue;
          long size = Files.size(f);
          if (Files.deleteIfExists(f)) {
            partials++;
            freed += size;
          }
        } finally {
          jvmLock.unlock();
        }
      }
    }
    return new GcResult(blobs, partials, freed);
  }

  private Set<Digest> reachable(Set<Digest> roots) throws IOException {
    Set<Digest> live = new HashSet<>();
    ArrayDeque<Digest> todo = new ArrayDeque<>(roots);
    while (!todo.isEmpty()) {
      Digest d = todo.pop();
      if (!live.add(d)) continue;
      Path p = path(d);
      if (!Files.isRegularFile(p) || Files.size(p) > Manifests.MAX_MANIFEST_SIZE) continue;
      byte[] bytes = Files.readAllBytes(p);
      if (bytes.length == 0 || bytes[0] != '{') continue;
      JsonNode n;
      try {
        n = Manifests.json().readTree(bytes);
      } catch (RuntimeException notJson) {
        continue;
      }
      String type = n.path("mediaType").asString("");
      boolean manifestLike = MediaTypes.MANIFESTS.contains(type) || MediaTypes.INDEXES.contains(type)
          || (type.isEmpty() && (n.has("manifests") || (n.has("config") && n.has("layers"))));
      if (!manifestLike) continue;
      addDigest(n.path("config"), todo);
      for (JsonNode l : n.path("layers")) addDigest(l, todo);
      for (JsonNode m : n.path("manifests")) addDigest(m, todo);
    }
    return live;
  }

  private static void addDigest(JsonNode descriptor, ArrayDeque<Digest> todo) {
    String s = descriptor.path("digest").asString("");
    try {
      if (!s.isEmpty()) todo.push(Digest.parse(s));
    } catch (IllegalArgumentException ignored) {
      // a malformed child cannot be in the cache anyway
    }
  }

  /** A missing blob as an exception naming it (for callers that require presence). */
  public Path require(Digest d) throws NoSuchFileException {
    return find(d).orElseThrow(() -> new NoSuchFileException(path(d).toString(), null, "blob " + d + " not in cache "
        + root));
  }
}

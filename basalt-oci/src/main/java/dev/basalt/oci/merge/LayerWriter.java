package dev.basalt.oci.merge;

import dev.basalt.fs.tree.TreeEntry;
import dev.basalt.fs.tree.TreeException;
import dev.basalt.fs.tree.TreeSink;
import dev.basalt.oci.api.Digest;
import dev.basalt.oci.api.MediaTypes;
import dev.basalt.oci.api.MediaTypes.Compression;
import dev.basalt.oci.compress.LayerStreams;
import dev.basalt.oci.tar.TarWriter;
import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.security.MessageDigest;
import java.util.Objects;

/**
 * Writes a tree as one deterministic layer blob: tar → gzip/zstd/none, computing in the same pass
 * the diffID (sha256 of the uncompressed tar) and the blob's digest and size.
 *
 * <p>Determinism is the caller's order plus ours: entries must arrive <b>sorted</b> in depth-first
 * order — path components compared by Unicode code point (= UTF-8 byte order), so a directory
 * comes right before its contents ({@code a}, {@code a/b}, {@code a-b}) — which is what a directory
 * walker that sorts each directory emits. Out-of-order input is a {@link TreeException}; only
 * metadata is buffered (the set of earlier paths, for hardlink checks). Hardlinks must name an
 * earlier (so smaller) path. Directories that never appear are not written: in a layer an absent
 * parent keeps the lower layer's metadata. Headers carry numeric owners only, and PAX only when
 * needed (see {@link TarWriter}). {@link #finish()} completes the blob and flushes; the output
 * stream is left open.
 */
public final class LayerWriter implements TreeSink {
  /** The finished layer. {@code mediaType} is the OCI layer type of the chosen compression. */
  public record Result(Digest diffId, Digest digest, long size, String mediaType) {}

  private final Compression compression;
  private final Counting counting;
  private final OutputStream compressor;
  private final MessageDigest diff = Digest.newSha256();
  private final TarWriter writer;
  private final TreeTar tar;
  private String previous;
  private Result result;

  private LayerWriter(OutputStream out, Compression compression, int level) throws IOException {
    this.compression = compression;
    this.counting = new Counting(out);
    this.compressor = LayerStreams.compress(counting, compression, level);
    this.writer = new TarWriter(new FilterOutputStream(compressor) {
      @Override public void write(int b) throws IOException { write(new byte[] {(byte) b}, 0, 1); }
      @Override public void write(byte[] b, int off, int len) throws IOException {
        diff.update(b, off, len);
        compressor.write(b, off, len);
      }
      @Override public void close() throws IOException { compressor.close(); }
    });
    this.tar = new TreeTar(writer);
  }

  /**
   * @param level gzip 1..9 or zstd 1..19 (ignored for {@link Compression#NONE})
   */
  public static LayerWriter create(OutputStream out, Compression compression, int level) throws IOException {
    Objects.requireNonNull(out, "out");
    Objects.requireNonNull(compression, "compression");
    return new LayerWriter(out, compression, level);
  }

  @Override
  public void add(TreeEntry entry, InputStream content) throws IOException {
    if (result != null) throw new IllegalStateException("layer already finished");
    String p = entry.path();
    if (previous != null && compare(previous, p) >= 0) {
      throw new TreeException(p, "LayerWriter needs entries sorted depth-first by path, but it came after '/" + previous + "'");
    }
    tar.add(entry, content);
    previous = p;
  }

  @Override
  public void finish() throws IOException {
    if (result != null) return;
    writer.close(); // end-of-archive marker, then the compressor's trailer
    String mediaType = switch (compression) {
      case NONE -> MediaTypes.OCI_LAYER_TAR;
      case GZIP -> MediaTypes.OCI_LAYER_GZIP;
      case ZSTD -> MediaTypes.OCI_LAYER_ZSTD;
    };
    result = new Result(Digest.ofSha256(diff.digest()), Digest.ofSha256(counting.md.digest()), counting.count, mediaType);
  }

  /** The digests and size; available after {@link #finish()}. */
  public Result result() {
    if (result == null) throw new IllegalStateException("layer not finished");
    return result;
  }

  /** Depth-first path order: component by component, each by code point. */
  static int compare(String a, String b) {
    int i = 0, j = 0;
    while (i < a.length() && j < b.length()) {
      int ca = a.codePointAt(i), cb = b.codePointAt(j);
      if (ca != cb) {
        if (ca == '/') return -1; // end of a's component: a's component is a prefix of b's
        if (cb == '/') return 1;
        return Integer.compare(ca, cb);
      }
      i += Character.charCount(ca);
      j += Character.charCount(cb);
    }
    return Integer.compare(a.length() - i, b.length() - j);
  }

  /** Hashes and counts the compressed bytes; closing does not close the caller's stream. */
  private static final class Counting extends FilterOutputStream {
    final MessageDigest md = Digest.newSha256();
    long count;

    Counting(OutputStream out) { super(out); }

    @Override public void write(int b) throws IOException { write(new byte[] {(byte) b}, 0, 1); }

    @Override public void write(byte[] b, int off, int len) throws IOException {
      out.write(b, off, len);
      md.update(b, off, len);
      count += len;
    }

    @Override public void close() throws IOException { out.flush(); }
  }
}

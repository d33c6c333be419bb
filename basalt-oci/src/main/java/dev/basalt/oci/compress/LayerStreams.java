package dev.basalt.oci.compress;

import com.github.luben.zstd.ZstdInputStreamNoFinalizer;
import com.github.luben.zstd.ZstdOutputStreamNoFinalizer;
import dev.basalt.oci.api.MediaTypes;
import dev.basalt.oci.api.MediaTypes.Compression;
import java.io.FilterInputStream;
import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PushbackInputStream;
import java.util.Objects;
import java.util.zip.CRC32;
import java.util.zip.Deflater;
import java.util.zip.DeflaterOutputStream;
import java.util.zip.GZIPInputStream;

/**
 * Opens layer blobs as uncompressed tar streams and compresses new layers deterministically.
 * gzip uses the JDK's zlib, zstd uses zstd-jni; tar headers are never touched here.
 */
public final class LayerStreams {
  private LayerStreams() {}

  static final int BUFFER = 128 * 1024;

  /** Opens {@code blob} per its layer media type; see {@link #open(InputStream, Compression, String, DecompressionLimits)}. */
  public static InputStream open(InputStream blob, String mediaType, String blobName, DecompressionLimits limits)
      throws IOException {
    Compression c;
    try {
      c = MediaTypes.compressionOf(mediaType);
    } catch (IllegalArgumentException e) {
      throw new CompressionException(blobName + ": " + e.getMessage());
    }
    return open(blob, c, blobName, limits);
  }

  /**
   * Returns the decompressed bytes of {@code blob}, after checking its first bytes against the
   * declared compression (a gzip blob declared as zstd or as plain tar is refused).
   *
   * @param blobName how errors name the blob, e.g. {@code "layer sha256:…"}
   * @throws CompressionException on a magic mismatch now, or while reading: truncated/corrupt
   *     data or a limit of {@code limits} exceeded
   */
  public static InputStream open(InputStream blob, Compression declared, String blobName, DecompressionLimits limits)
      throws IOException {
    Objects.requireNonNull(blob, "blob");
    Objects.requireNonNull(declared, "declared");
    Objects.requireNonNull(limits, "limits");
    Counting counted = new Counting(blob);
    PushbackInputStream head = new PushbackInputStream(counted, 4);
    byte[] magic = new byte[4];
    int n = 0;
    for (int k; n < 4 && (k = head.read(magic, n, 4 - n)) > 0; ) n += k;
    head.unread(magic, 0, n);
    Compression actual = sniff(magic, n);
    if (actual != declared) {
      throw new CompressionException(blobName + ": declared " + name(declared) + " but the data "
          + (actual == Compression.NONE ? "has no " + name(declared) + " magic" : "starts with " + name(actual) + " magic")
          + (n < 4 ? " (only " + n + " bytes)" : ""));
    }
    InputStream raw;
    try {
      raw = switch (declared) {
        case NONE -> head;
        case GZIP -> new GZIPInputStream(head, BUFFER);
        case ZSTD -> new ZstdInputStreamNoFinalizer(head);
      };
    } catch (IOException e) {
      throw new CompressionException(blobName + ": corrupt or truncated " + name(declared) + " header: " + e.getMessage(), e);
    }
    return new Guarded(raw, counted, declared, blobName, limits);
  }

  /**
   * Opens {@code blob} with the compression its first bytes show (gzip, zstd, else uncompressed),
   * for inputs without a media type such as a rootfs tar given on the command line.
   */
  public static InputStream openDetected(InputStream blob, String blobName, DecompressionLimits limits) throws IOException {
    PushbackInputStream head = new PushbackInputStream(Objects.requireNonNull(blob, "blob"), 4);
    byte[] magic = new byte[4];
    int n = 0;
    for (int k; n < 4 && (k = head.read(magic, n, 4 - n)) > 0; ) n += k;
    head.unread(magic, 0, n);
    return open(head, sniff(magic, n), blobName, limits);
  }

  /** The compression whose magic starts {@code head}; {@link Compression#NONE} when none matches. */
  public static Compression sniff(byte[] head, int length) {
    if (length >= 2 && (head[0] & 0xff) == 0x1f && (head[1] & 0xff) == 0x8b) return Compression.GZIP;
    if (length >= 4 && (head[0] & 0xff) == 0x28 && (head[1] & 0xff) == 0xb5 && (head[2] & 0xff) == 0x2f
        && (head[3] & 0xff) == 0xfd) {
      return Compression.ZSTD;
    }
    return Compression.NONE;
  }

  /**
   * A deterministic compressing stream: gzip with a fixed 10-byte header (mtime 0, no name, XFL 0,
   * OS 255) at {@code level} 1..9, zstd single-threaded at {@code level} 1..19 with a content
   * checksum, or the bytes unchanged. Closing it finishes the compressed data and closes {@code out}.
   * Same input, level and library versions give the same bytes.
   */
  public static OutputStream compress(OutputStream out, Compression c, int level) throws IOException {
    Objects.requireNonNull(out, "out");
    return switch (c) {
      case NONE -> out;
      case GZIP -> {
        if (level < 1 || level > 9) throw new IllegalArgumentException("gzip level must be 1..9, got " + level);
        yield new GzipOut(out, level);
      }
      case ZSTD -> {
        if (level < 1 || level > 19) throw new IllegalArgumentException("zstd level must be 1..19, got " + level);
        ZstdOutputStreamNoFinalizer z = new ZstdOutputStreamNoFinalizer(out, level);
        z.setChecksum(true);
        z.setWorkers(0);
        yield z;
      }
    };
  }

  static String name(Compression c) {
    return switch (c) {
      case NONE -> "uncompressed tar";
      case GZIP -> "gzip";
      case ZSTD -> "zstd";
    };
  }

  /** Counts compressed bytes read for the ratio check. */
  static final class Counting extends FilterInputStream {
    long count;

    Counting(InputStream in) { super(in); }

    @Override
    public int read() throws IOException {
      int b = in.read();
      if (b >= 0) count++;
      return b;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
      int n = in.read(b, off, len);
      if (n > 0) count += n;
      return n;
    }

    @Override
    public long skip(long n) throws IOException {
      long k = in.skip(n);
      count += Math.max(k, 0);
      return k;
    }
  }

  /** Applies the limits and turns decompressor failures into errors that name the blob. */
  static final class Guarded extends FilterInputStream {
    private final Counting compressed;
    private final Compression compression;
    private final String blobName;
    private final DecompressionLimits limits;
    private long produced;

    Guarded(InputStream in, Counting compressed, Compression compression, String blobName, DecompressionLimits limits) {
      super(in);
      this.compressed = compressed;
      this.compression = compression;
      this.blobName = blobName;
      this.limits = limits;
    }

    @Override
    public int read() throws IOException {
      byte[] one = new byte[1];
      int n = read(one, 0, 1);
      return n < 0 ? -1 : one[0] & 0xff;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
      int n;
      try {
        n = in.read(b, off, len);
      } catch (java.io.EOFException e) {
        throw new CompressionException(blobName + ": truncated " + name(compression) + " data after "
            + compressed.count + " compressed bytes (" + produced + " decompressed)", e);
      } catch (java.util.zip.ZipException | com.github.luben.zstd.ZstdIOException | RuntimeException e) {
        // zlib reports corruption as ZipException; zstd-jni as ZstdIOException ("Truncated source", ...)
        throw new CompressionException(blobName + ": corrupt or truncated " + name(compression) + " data after "
            + compressed.count + " compressed bytes: " + e.getMessage(), e);
      }
      if (n > 0) {
        produced += n;
        if (produced > limits.maxBytes()) {
          throw new CompressionException(blobName + ": decompresses to more than " + limits.maxBytes()
              + " bytes (decompression limit)");
        }
        if (produced > limits.ratioGraceBytes() && produced / Math.max(1, compressed.count) > limits.maxRatio()) {
          throw new CompressionException(blobName + ": compression ratio above " + limits.maxRatio() + ":1 ("
              + produced + " bytes from " + compressed.count + " compressed) — refused as a possible decompression bomb");
        }
      }
      return n;
    }

    @Override
    public long skip(long n) throws IOException {
      byte[] buf = new byte[(int) Math.min(n, 8192)];
      long done = 0;
      while (done < n) {
        int k = read(buf, 0, (int) Math.min(buf.length, n - done));
        if (k < 0) break;
        done += k;
      }
      return done;
    }
  }

  /** gzip with a header we control, so output does not depend on the JDK's GZIPOutputStream defaults. */
  static final class GzipOut extends FilterOutputStream {
    private final Deflater deflater;
    private final DeflaterOutputStream deflate;
    private final CRC32 crc = new CRC32();
    private long size;
    private boolean closed;

    GzipOut(OutputStream out, int level) throws IOException {
      super(out);
      out.write(new byte[] {0x1f, (byte) 0x8b, 8, 0, 0, 0, 0, 0, 0, (byte) 0xff});
      deflater = new Deflater(level, true);
      deflate = new DeflaterOutputStream(out, deflater, BUFFER);
    }

    @Override
    public void write(int b) throws IOException {
      write(new byte[] {(byte) b}, 0, 1);
    }

    @Override
    public void write(byte[] b, int off, int len) throws IOException {
      deflate.write(b, off, len);
      crc.update(b, off, len);
      size += len;
    }

    @Override
    public void flush() throws IOException {
      deflate.flush();
    }

    @Override
    public void close() throws IOException {
      if (closed) return;
      closed = true;
      try {
        deflate.finish();
        long c = crc.getValue();
        out.write(new byte[] {
            (byte) c, (byte) (c >> 8), (byte) (c >> 16), (byte) (c >> 24),
            (byte) size, (byte) (size >> 8), (byte) (size >> 16), (byte) (size >> 24)});
        out.flush();
      } finally {
        deflater.end();
        out.close();
      }
    }
  }
}

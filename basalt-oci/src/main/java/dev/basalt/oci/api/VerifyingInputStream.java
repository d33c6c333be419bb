package dev.basalt.oci.api;

import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.security.MessageDigest;

/**
 * Passes a blob through while hashing and counting it; at the end of the stream the size and the digest must
 * match the descriptor, else it throws an {@link ImageException} naming the blob and where it came from. Reading
 * past the declared size also fails, so a server cannot feed us endless data.
 */
public final class VerifyingInputStream extends FilterInputStream {
  private final Descriptor expected;
  private final String source;
  private final MessageDigest md;
  private long count;
  private boolean verified;

  public VerifyingInputStream(InputStream in, Descriptor expected, String source) {
    super(in);
    this.expected = expected;
    this.source = source;
    this.md = expected.digest().newMessageDigest();
  }

  @Override
  public int read() throws IOException {
    byte[] one = new byte[1];
    int n = read(one, 0, 1);
    return n < 0 ? -1 : one[0] & 0xff;
  }

  @Override
  public int read(byte[] b, int off, int len) throws IOException {
    if (len == 0) return 0;
    int n;
    try {
      n = super.read(b, off, len);
    } catch (ImageException e) {
      throw e;
    } catch (IOException e) {
      throw new ImageException("blob " + expected.digest() + " from " + source + ": read failed after " + count + " of "
          + expected.size() + " bytes: " + e.getMessage(), e);
    }
    if (n < 0) {
      verify();
      return -1;
    }
    md.update(b, off, n);
    count += n;
    if (count > expected.size()) {
      throw new ImageException("blob " + expected.digest() + " from " + source + " is larger than its declared size "
          + expected.size());
    }
    return n;
  }

  @Override
  public long skip(long n) throws IOException {
    byte[] buf = new byte[8192];
    long done = 0;
    while (done < n) {
      int r = read(buf, 0, (int) Math.min(buf.length, n - done));
      if (r < 0) break;
      done += r;
    }
    return done;
  }

  @Override
  public boolean markSupported() {
    return false;
  }

  @Override
  public synchronized void mark(int readlimit) {}

  @Override
  public synchronized void reset() throws IOException {
    throw new IOException("mark/reset not supported");
  }

  /** Whether this stream checks exactly {@code d}'s digest and size, so a consumer need not hash it again. */
  public boolean verifies(Descriptor d) {
    return expected.digest().equals(d.digest()) && expected.size() == d.size();
  }

  /** Bytes read so far. */
  public long count() {
    return count;
  }

  private void verify() throws ImageException {
    if (verified) return;
    if (count != expected.size()) {
      throw new ImageException("blob " + expected.digest() + " from " + source + " is truncated: got " + count
          + " of " + expected.size() + " bytes");
    }
    Digest actual = new Digest(expected.digest().algorithm(), java.util.HexFormat.of().formatHex(md.digest()));
    if (!actual.equals(expected.digest())) {
      throw new ImageException("blob " + expected.digest() + " from " + source + " failed verification: content has digest "
          + actual);
    }
    verified = true;
  }

  /** Reads to the end (verifying) — for callers that stop early but need the check. */
  public void drainAndVerify() throws IOException {
    byte[] buf = new byte[65536];
    while (read(buf, 0, buf.length) >= 0) {
      // drain
    }
  }
}

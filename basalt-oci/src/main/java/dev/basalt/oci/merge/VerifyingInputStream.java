package dev.basalt.oci.merge;

import dev.basalt.oci.api.Descriptor;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.security.MessageDigest;
import java.util.HexFormat;

/** Hashes and counts a blob while it is read; fails as soon as it grows past the descriptor's size. */
final class VerifyingInputStream extends FilterInputStream {
  private final Descriptor descriptor;
  private final String label;
  private final MessageDigest md;
  private long count;

  VerifyingInputStream(InputStream in, Descriptor descriptor, String label) {
    super(in);
    this.descriptor = descriptor;
    this.label = label;
    this.md = descriptor.digest().newMessageDigest();
  }

  @Override
  public int read() throws IOException {
    byte[] one = new byte[1];
    int n = read(one, 0, 1);
    return n < 0 ? -1 : one[0] & 0xff;
  }

  @Override
  public int read(byte[] b, int off, int len) throws IOException {
    int n = in.read(b, off, len);
    if (n > 0) {
      md.update(b, off, n);
      count += n;
      if (count > descriptor.size()) {
        throw new LayerMergeException(label, null, "blob is larger than the " + descriptor.size()
            + " bytes its descriptor declares");
      }
    }
    return n;
  }

  @Override
  public long skip(long n) throws IOException {
    byte[] buf = new byte[8192];
    long done = 0;
    while (done < n) {
      int k = read(buf, 0, (int) Math.min(buf.length, n - done));
      if (k < 0) break;
      done += k;
    }
    return done;
  }

  /** Reads what is left and checks size and digest against the descriptor. */
  void drainAndVerify() throws IOException {
    byte[] buf = new byte[64 * 1024];
    while (read(buf, 0, buf.length) >= 0) { /* drain */ }
    if (count != descriptor.size()) {
      throw new LayerMergeException(label, null, "blob has " + count + " bytes but its descriptor declares "
          + descriptor.size() + " (truncated download?)");
    }
    String actual = HexFormat.of().formatHex(md.digest());
    if (!actual.equals(descriptor.digest().hex())) {
      throw new LayerMergeException(label, null, "digest mismatch: the blob's content hashes to "
          + descriptor.digest().algorithm() + ":" + actual + ", not " + descriptor.digest()
          + " (entries already streamed from it must be discarded)");
    }
  }
}

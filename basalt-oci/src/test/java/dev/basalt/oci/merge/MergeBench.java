package dev.basalt.oci.merge;

import dev.basalt.oci.api.Descriptor;
import dev.basalt.oci.api.Digest;
import dev.basalt.oci.api.MediaTypes;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;

/**
 * Manual benchmark (not a test): {@code java -cp … dev.basalt.oci.merge.MergeBench LAYER.tar.gz [OUT.tar]}
 * merges one gzip layer into a TarTreeSink (to OUT or nowhere) and prints the throughput.
 */
public final class MergeBench {
  public static void main(String[] args) throws Exception {
    Path layer = Path.of(args[0]);
    long t0 = System.nanoTime();
    MessageDigest md = Digest.newSha256();
    try (InputStream in = Files.newInputStream(layer)) {
      byte[] b = new byte[1 << 20];
      for (int n; (n = in.read(b)) > 0; ) md.update(b, 0, n);
    }
    Descriptor d = new Descriptor(MediaTypes.OCI_LAYER_GZIP, Digest.ofSha256(md.digest()), Files.size(layer));
    System.out.printf("hash of %d bytes: %.1f s%n", d.size(), (System.nanoTime() - t0) / 1e9);
    for (int run = 0; run < 2; run++) {
      long start = System.nanoTime();
      long written;
      try (OutputStream out = args.length > 1 ? Files.newOutputStream(Path.of(args[1])) : OutputStream.nullOutputStream()) {
        TarTreeSink sink = new TarTreeSink(out);
        LayerMerge.Result r = LayerMerge.builder().layer(d, () -> Files.newInputStream(layer)).build().into(sink);
        sink.finish();
        written = sink.bytesWritten();
        double s = (System.nanoTime() - start) / 1e9;
        System.out.printf("run %d: %d entries, %d files, %.0f MB content, %.0f MB tar out in %.1f s: %.0f MB/s of tar (%.0f MB/s compressed in)%n",
            run, r.entries(), r.regularFiles(), r.contentBytes() / 1e6, written / 1e6, s, written / 1e6 / s, d.size() / 1e6 / s);
      }
    }
  }
}

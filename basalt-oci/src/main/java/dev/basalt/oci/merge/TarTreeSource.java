package dev.basalt.oci.merge;

import dev.basalt.fs.tree.TreeSink;
import dev.basalt.oci.compress.DecompressionLimits;
import dev.basalt.oci.compress.LayerStreams;
import dev.basalt.oci.tar.TarReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Objects;

/**
 * Reads a root filesystem tar ({@code basalt image import TAR}) into a {@link TreeSink}: plain,
 * gzip or zstd (told by magic bytes). The same rules as a one-layer {@link LayerMerge} apply
 * (normalized paths, {@code ..} refused, hardlinks to earlier entries, no writing through
 * symlinks, duplicates need prescan), except that whiteout names are refused: a rootfs has none.
 * The sink is not finished here.
 */
public final class TarTreeSource {
  private TarTreeSource() {}

  /** Reads the tar file at {@code tar} with default limits. */
  public static LayerMerge.Result read(Path tar, TreeSink sink) throws IOException {
    return read(() -> Files.newInputStream(tar), tar.toString(), sink, DecompressionLimits.DEFAULT, false);
  }

  /**
   * @param name how errors name the archive
   * @param prescan scan headers first so duplicate paths resolve last-wins (reads the archive twice)
   */
  public static LayerMerge.Result read(BlobOpener opener, String name, TreeSink sink, DecompressionLimits limits,
                                       boolean prescan) throws IOException {
    Objects.requireNonNull(opener, "opener");
    Objects.requireNonNull(sink, "sink");
    Objects.requireNonNull(limits, "limits");
    MergeEngine engine = new MergeEngine(sink, false, 1);
    engine.apply(0, name, () -> {
      InputStream raw = opener.open();
      try {
        InputStream tar = LayerStreams.openDetected(raw, name, limits);
        TarReader reader = new TarReader(tar, name);
        return new MergeEngine.Archive() {
          @Override public TarReader reader() { return reader; }
          @Override public void finishAndVerify() throws IOException { tar.transferTo(OutputStream.nullOutputStream()); }
          @Override public void close() throws IOException { reader.close(); }
        };
      } catch (IOException | RuntimeException e) {
        raw.close();
        throw e;
      }
    }, prescan);
    engine.finish();
    return new LayerMerge.Result(1, engine.entries, engine.files, engine.bytes, engine.skipped, engine.rereads);
  }
}

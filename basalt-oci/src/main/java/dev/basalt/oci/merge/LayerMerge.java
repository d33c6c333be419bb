package dev.basalt.oci.merge;

import dev.basalt.fs.tree.TreeSink;
import dev.basalt.oci.api.Descriptor;
import dev.basalt.oci.compress.DecompressionLimits;
import dev.basalt.oci.compress.LayerStreams;
import dev.basalt.oci.tar.TarReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * Streams an image's final root filesystem, merged from its layers, into a {@link TreeSink}.
 *
 * <p>Layers are applied <b>top-down</b> (ARCHITECTURE §7): the top layer first; a path an upper
 * layer defined, whited out ({@code .wh.NAME}), hid under an opaque directory
 * ({@code .wh..wh..opq}) or under a non-directory is skipped in lower layers. Each blob is read
 * once and each file's bytes are streamed once, straight from the decompressor to the sink.
 * Non-directories are emitted as they are met; directories are emitted at the end, sorted, with
 * the metadata of the highest layer that has an explicit entry for them. The output order depends
 * only on the layers, so the same layers always give the same stream.
 *
 * <p>Rules (OCI image-spec layer.md, plus what is undefined there):
 * <ul>
 * <li>Whiteouts and opaque markers apply to lower layers only, wherever they sit in the tar.
 *     Other {@code .wh..wh.*} names (aufs metadata) are ignored, like Docker does.
 * <li>Paths are normalized like tar: a leading "/" or "./" is stripped; any {@code ..} component
 *     is refused with an error naming the layer and entry, as is a whiteout of the root.
 * <li>Hardlinks must name an earlier non-directory entry of the <em>same</em> layer (the spec
 *     warns links outside the layer may fail; Docker never writes them); otherwise an error. A
 *     link whose original path was overridden by an upper layer keeps the original's content of
 *     its own layer: the first visible link becomes a regular file. Its bytes were skipped on the
 *     first pass, so that layer is read a second time after it is done (counted in
 *     {@link Result#rereads()}); only layers with such links pay for it.
 * <li>Writing through a symlink is refused: an entry below a non-directory of its own layer, or
 *     a layer that puts entries below a path without an explicit directory entry while a lower
 *     layer has a symlink or file there, is an error naming both entries. (containerd would
 *     follow the symlink inside the rootfs; a silent drop would lose files.) An explicit directory
 *     entry in an upper layer replaces a lower non-directory, as the spec says.
 * <li>A path that occurs twice in one layer: directories take the last entry's metadata; a
 *     non-directory already streamed cannot be taken back, so the merge fails with
 *     {@link LayerMergeException.DuplicateEntry} unless {@link Builder#prescan(boolean)} is on,
 *     which reads each layer's headers first (each layer is then read twice) and keeps the last.
 * <li>Every blob is hashed while it streams and checked against its descriptor's digest and
 *     size at its end: on a mismatch the merge fails naming the digest, after entries from that
 *     blob were already given to the sink — the caller must discard the sink's output.
 * </ul>
 * The sink is not finished here; call {@link TreeSink#finish()} after a successful merge.
 */
public final class LayerMerge {
  /** A layer blob: its descriptor (media type, digest, size) and how to read its stored bytes. */
  public record Layer(Descriptor descriptor, BlobOpener opener) {
    public Layer {
      Objects.requireNonNull(descriptor, "descriptor");
      Objects.requireNonNull(opener, "opener");
    }
  }

  /** What a merge did. {@code rereads} counts extra passes over a layer (hardlink recovery, prescan). */
  public record Result(int layers, long entries, long regularFiles, long contentBytes, long skippedEntries, int rereads) {}

  private final List<Layer> layers;
  private final DecompressionLimits limits;
  private final boolean prescan;

  private LayerMerge(Builder b) {
    this.layers = List.copyOf(b.layers);
    this.limits = b.limits;
    this.prescan = b.prescan;
  }

  public static Builder builder() {
    return new Builder();
  }

  /** Streams the merged tree into {@code sink} (without finishing it). */
  public Result into(TreeSink sink) throws IOException {
    Objects.requireNonNull(sink, "sink");
    MergeEngine engine = new MergeEngine(sink, true, layers.size());
    for (int i = layers.size() - 1; i >= 0; i--) {
      Layer l = layers.get(i);
      String label = "layer " + l.descriptor().digest();
      engine.apply(i, label, () -> open(l, label), prescan);
    }
    engine.finish();
    return new Result(layers.size(), engine.entries, engine.files, engine.bytes, engine.skipped, engine.rereads);
  }

  private MergeEngine.Archive open(Layer l, String label) throws IOException {
    InputStream raw = l.opener().open();
    try {
      // Sources hand out streams that already verify the blob: hashing it again would double the SHA-256 work.
      InputStream verified;
      Verification verification;
      if (raw instanceof dev.basalt.oci.api.VerifyingInputStream sourceChecked && sourceChecked.verifies(l.descriptor())) {
        verified = sourceChecked;
        verification = () -> {
          try {
            sourceChecked.drainAndVerify();
          } catch (dev.basalt.oci.api.ImageException e) {
            throw new LayerMergeException(label, null, e.getMessage());
          }
        };
      } else {
        VerifyingInputStream own = new VerifyingInputStream(raw, l.descriptor(), label);
        verified = own;
        verification = own::drainAndVerify;
      }
      InputStream tar = LayerStreams.open(verified, l.descriptor().mediaType(), label, limits);
      TarReader reader = new TarReader(tar, label);
      return new MergeEngine.Archive() {
        @Override public TarReader reader() { return reader; }

        @Override public void finishAndVerify() throws IOException {
          tar.transferTo(OutputStream.nullOutputStream()); // end-of-archive padding, compressor trailer
          verification.run();
        }

        @Override public void close() throws IOException { reader.close(); }
      };
    } catch (IOException | RuntimeException e) {
      raw.close();
      throw e;
    }
  }

  @FunctionalInterface
  private interface Verification {
    void run() throws IOException;
  }

  /** Configures a merge; layers are added bottom (base) first, as a manifest lists them. */
  public static final class Builder {
    private final List<Layer> layers = new ArrayList<>();
    private DecompressionLimits limits = DecompressionLimits.DEFAULT;
    private boolean prescan;

    private Builder() {}

    public Builder layer(Descriptor descriptor, BlobOpener opener) {
      layers.add(new Layer(descriptor, opener));
      return this;
    }

    public Builder layers(List<Layer> all) {
      all.forEach(l -> layers.add(Objects.requireNonNull(l, "layer")));
      return this;
    }

    /** Decompression-bomb limits per layer; default {@link DecompressionLimits#DEFAULT}. */
    public Builder limits(DecompressionLimits limits) {
      this.limits = Objects.requireNonNull(limits, "limits");
      return this;
    }

    /** Read each layer's headers first so duplicate paths within a layer resolve last-wins (reads layers twice). */
    public Builder prescan(boolean prescan) {
      this.prescan = prescan;
      return this;
    }

    public LayerMerge build() {
      if (layers.isEmpty()) throw new IllegalStateException("a merge needs at least one layer");
      return new LayerMerge(this);
    }
  }
}

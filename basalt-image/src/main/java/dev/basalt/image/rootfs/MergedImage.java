package dev.basalt.image.rootfs;

import dev.basalt.fs.tree.TreeSink;
import dev.basalt.oci.api.Descriptor;
import dev.basalt.oci.api.ImageException;
import dev.basalt.oci.api.ImageManifest;
import dev.basalt.oci.api.ImageSource;
import dev.basalt.oci.api.MediaTypes;
import dev.basalt.oci.api.Platform;
import dev.basalt.oci.api.RawManifest;
import dev.basalt.oci.merge.LayerMerge;
import dev.basalt.oci.merge.LayerMergeException;
import java.io.IOException;
import java.util.List;
import java.util.Objects;

/**
 * An image's final root filesystem: its manifest pinned by digest and its layers merged top-down
 * into any {@link TreeSink} (tar export, EROFS writer, lint view).
 */
public final class MergedImage {
  private final ImageSource source;
  private final RawManifest manifest;
  private final ImageManifest parsed;

  private MergedImage(ImageSource source, RawManifest manifest, ImageManifest parsed) {
    this.source = source;
    this.manifest = manifest;
    this.parsed = parsed;
  }

  /** Resolves {@code source} for {@code platform} and checks every layer's media type before any byte is read. */
  public static MergedImage resolve(ImageSource source, Platform platform) throws IOException {
    Objects.requireNonNull(platform, "platform");
    RawManifest m = source.resolve(platform);
    ImageManifest parsed = ImageManifest.parse(m);
    for (Descriptor layer : parsed.layers()) {
      if (!MediaTypes.LAYERS.contains(layer.mediaType())) {
        throw new ImageException("layer " + layer.digest() + " of " + source.name() + " has media type '"
            + layer.mediaType() + "', which is not a filesystem layer");
      }
    }
    return new MergedImage(source, m, parsed);
  }

  public RawManifest manifest() { return manifest; }

  public ImageManifest imageManifest() { return parsed; }

  public List<Descriptor> layers() { return parsed.layers(); }

  /** Sum of the compressed layer sizes. */
  public long compressedSize() {
    return parsed.layers().stream().mapToLong(Descriptor::size).sum();
  }

  /**
   * Streams the merged tree into {@code sink} and calls {@link TreeSink#finish()}. When a layer holds the same
   * file path twice (legal, rare), the merge is redone with a header prescan; the {@code sinkFactory} must
   * then give a fresh sink, because the first one has already received entries.
   */
  public LayerMerge.Result writeTo(SinkFactory sinkFactory) throws IOException {
    try {
      return run(sinkFactory.create(), false);
    } catch (LayerMergeException.DuplicateEntry dup) {
      return run(sinkFactory.create(), true);
    }
  }

  private LayerMerge.Result run(TreeSink sink, boolean prescan) throws IOException {
    LayerMerge.Builder b = LayerMerge.builder().prescan(prescan);
    for (Descriptor layer : parsed.layers()) b.layer(layer, () -> source.blob(layer));
    LayerMerge.Result r = b.build().into(sink);
    sink.finish();
    return r;
  }

  /** Creates the sink for one merge attempt, discarding whatever an earlier attempt wrote. */
  @FunctionalInterface
  public interface SinkFactory {
    TreeSink create() throws IOException;
  }
}

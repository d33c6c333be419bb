package dev.basalt.oci.copy;

import dev.basalt.oci.api.Descriptor;
import dev.basalt.oci.api.Digest;
import dev.basalt.oci.api.ImageDestination;
import dev.basalt.oci.api.ImageException;
import dev.basalt.oci.api.ImageIndex;
import dev.basalt.oci.api.ImageManifest;
import dev.basalt.oci.api.ImageSource;
import dev.basalt.oci.api.Platform;
import dev.basalt.oci.api.RawManifest;
import dev.basalt.oci.api.VerifyingInputStream;
import dev.basalt.oci.copy.ProgressListener.BlobAction;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.Semaphore;

/**
 * Copies an image between any two transports: blobs are reused by digest (skipped when present, mounted across
 * repositories of one registry), verified on the way, transferred in parallel on virtual threads (bounded);
 * manifests travel as raw bytes, so digests are preserved.
 */
public final class ImageCopier {
  private final Platform platform;
  private final boolean all;
  private final int parallelism;
  private final ProgressListener listener;

  private ImageCopier(Builder b) {
    this.platform = b.platform;
    this.all = b.all;
    this.parallelism = b.parallelism;
    this.listener = b.listener;
  }

  public static Builder builder() {
    return new Builder();
  }

  /** Builder; setters validate. */
  public static final class Builder {
    private Platform platform = Platform.LINUX_AMD64;
    private boolean all;
    private int parallelism = 4;
    private ProgressListener listener = ProgressListener.NONE;

    private Builder() {}

    /** The image picked from a multi-arch index; default {@code linux/amd64}. */
    public Builder platform(Platform p) {
      this.platform = Objects.requireNonNull(p, "platform");
      return this;
    }

    /** Copy a whole index with every image ({@code copy --all}) instead of one platform. */
    public Builder all(boolean a) {
      this.all = a;
      return this;
    }

    /** Blobs transferred at once, 1..64. */
    public Builder parallelism(int n) {
      if (n < 1 || n > 64) throw new IllegalArgumentException("parallelism must be 1..64, got " + n);
      this.parallelism = n;
      return this;
    }

    public Builder listener(ProgressListener l) {
      this.listener = Objects.requireNonNull(l, "listener");
      return this;
    }

    public ImageCopier build() {
      return new ImageCopier(this);
    }
  }

  /** Copies and commits; on failure nothing is committed (no tag moves). */
  public CopyResult copy(ImageSource src, ImageDestination dest) throws IOException {
    Map<Descriptor, BlobAction> outcome = new ConcurrentHashMap<>();
    RawManifest root = src.rootManifest();
    RawManifest written;
    if (root.isIndex() && all) {
      ImageIndex index = ImageIndex.parse(root);
      for (Descriptor child : index.manifests()) {
        RawManifest m = src.manifest(child);
        if (m.isIndex()) throw new ImageException("nested index " + child.digest() + " in " + src.name() + " is not supported");
        copyImage(src, dest, m, false, outcome);
      }
      dest.putManifest(root, true);
      listener.manifestWritten(root);
      written = root;
    } else {
      written = src.resolve(platform);
      copyImage(src, dest, written, true, outcome);
    }
    dest.commit();
    return new CopyResult(written, outcome);
  }

  private void copyImage(ImageSource src, ImageDestination dest, RawManifest m, boolean root,
      Map<Descriptor, BlobAction> outcome) throws IOException {
    ImageManifest parsed = ImageManifest.parse(m);
    List<Descriptor> blobs = new ArrayList<>();
    blobs.add(parsed.config());
    blobs.addAll(parsed.layers());
    copyBlobs(src, dest, blobs, outcome);
    dest.putManifest(m, root);
    listener.manifestWritten(m);
  }

  private void copyBlobs(ImageSource src, ImageDestination dest, List<Descriptor> blobs,
      Map<Descriptor, BlobAction> outcome) throws IOException {
    Map<Digest, Descriptor> unique = new LinkedHashMap<>();
    for (Descriptor d : blobs) unique.putIfAbsent(d.digest(), d);
    Semaphore permits = new Semaphore(parallelism);
    List<Future<BlobAction>> futures = new ArrayList<>();
    try (var pool = Executors.newVirtualThreadPerTaskExecutor()) {
      for (Descriptor d : unique.values()) {
        if (outcome.containsKey(d)) continue;
        futures.add(pool.submit(() -> {
          permits.acquire();
          try {
            BlobAction a = copyBlob(src, dest, d);
            outcome.put(d, a);
            return a;
          } finally {
            permits.release();
          }
        }));
      }
      IOException first = null;
      for (Future<BlobAction> f : futures) {
        try {
          f.get();
        } catch (ExecutionException e) {
          IOException io = e.getCause() instanceof IOException x ? x
              : new IOException("copying a blob failed: " + e.getCause(), e.getCause());
          if (first == null) first = io;
          else first.addSuppressed(io);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw new java.io.InterruptedIOException("copy interrupted");
        }
      }
      if (first != null) throw first;
    }
  }

  private BlobAction copyBlob(ImageSource src, ImageDestination dest, Descriptor d) throws IOException {
    listener.blobStarted(d);
    BlobAction action;
    if (dest.hasBlob(d)) {
      action = BlobAction.SKIPPED;
    } else if (dest.mountBlob(d, src)) {
      action = BlobAction.MOUNTED;
    } else {
      try (InputStream in = new VerifyingInputStream(counting(src.blob(d), d), d, src.name())) {
        dest.putBlob(d, in);
      }
      action = BlobAction.COPIED;
    }
    listener.blobDone(d, action);
    return action;
  }

  private InputStream counting(InputStream in, Descriptor d) {
    return new FilterInputStream(in) {
      @Override
      public int read(byte[] b, int off, int len) throws IOException {
        int n = super.read(b, off, len);
        if (n > 0) listener.blobProgress(d, n);
        return n;
      }
    };
  }
}

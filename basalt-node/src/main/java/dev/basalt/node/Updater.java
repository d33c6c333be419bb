package dev.basalt.node;

import dev.basalt.api.Deployment;
import dev.basalt.api.Health;
import dev.basalt.api.UpdatePhase;
import dev.basalt.fs.gpt.GptPartition;
import dev.basalt.fs.tree.TreeEntry;
import dev.basalt.fs.tree.TreeSink;
import dev.basalt.fs.verity.Verity;
import dev.basalt.fs.verity.VerityOptions;
import dev.basalt.fs.verity.VerityResult;
import dev.basalt.image.disk.DiskConfig;
import dev.basalt.image.disk.SlotImage;
import dev.basalt.image.disk.TreeProducer;
import dev.basalt.image.rootfs.MergedImage;
import dev.basalt.oci.api.Descriptor;
import dev.basalt.oci.api.ImageException;
import dev.basalt.oci.api.ImageSource;
import dev.basalt.oci.api.Platform;
import dev.basalt.oci.api.RawManifest;
import dev.basalt.oci.api.VerifyingInputStream;
import dev.basalt.oci.cache.BlobCache;
import dev.basalt.oci.ref.DockerReference;
import dev.basalt.oci.ref.ImageReference;
import dev.basalt.oci.registry.BlobResponse;
import dev.basalt.oci.registry.Credentials;
import dev.basalt.oci.registry.RegistryClient;
import dev.basalt.oci.registry.RegistryClientBuilder;
import dev.basalt.oci.transport.TransportOptions;
import dev.basalt.oci.transport.Transports;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * The update path into the inactive slot (ARCHITECTURE.md §7), in this order:
 * resolve the reference → signature policy → pin the manifest digest → refuse a digest that failed
 * here before (unless forced) → fetch missing layers into the blob cache ({@code <state>/cache},
 * digest-verified, resumable) → <i>from here the inactive slot is given up: its entries and
 * record are removed first</i> → merge the layers (+ node layer when missing, + the node's users
 * and host name from the ESP's {@code basalt/config.toml}, see {@link BootEntries#nodeConfig()})
 * into the EROFS of the inactive root partition → fsync → verity tree into its verity partition → fsync → its root hash
 * must be one the accepting signatures vouch for (when they carry one) → kernel and
 * initramfs to {@code basalt/<slot>/} on the ESP → {@code deployment.json} → the counted entry
 * {@code basalt-<serial>-<slot>+3.conf}, written last: the commit point → state.
 *
 * <p>A power cut anywhere leaves the booted slot, its entry and its kernel untouched, and at most
 * temp-named files on the ESP: the half-written slot has no entry, so nothing boots it. The next
 * command ({@link Node#reconcile()}) marks the update interrupted; running it again redoes it,
 * reusing the cached layers.
 */
public final class Updater {
  /** How long an update waits for a short-lived holder of the node lock (a status, a reconcile) before giving up. */
  static final java.time.Duration LOCK_PATIENCE = java.time.Duration.ofSeconds(15);

  private final Node node;
  private final Platform platform;
  private final boolean tlsVerify;
  private final Credentials credentials;
  private final TreeProducer nodeLayer;
  private final SignaturePolicy policy;
  private final UpdateListener listener;
  private final int tries;
  private final boolean force;
  private final Clock clock;

  private Updater(Builder b) {
    this.node = b.node;
    this.platform = b.platform;
    this.tlsVerify = b.tlsVerify;
    this.credentials = b.credentials;
    this.nodeLayer = b.nodeLayer;
    this.policy = b.policy;
    this.listener = b.listener;
    this.tries = b.tries;
    this.force = b.force;
    this.clock = b.clock;
  }

  public static Builder builder(Node node) {
    return new Builder(node);
  }

  /** The blob cache of this node: {@code <state dir>/cache}. */
  public BlobCache cache() throws IOException {
    return BlobCache.open(node.environment().stateDir().resolve("cache"));
  }

  /** {@code --check}: resolves {@code ref} and compares digests; downloads nothing, changes nothing on disk. */
  public CheckResult check(String ref) throws IOException {
    NodeState.Data d = node.reconcile();
    try (ImageSource src = Transports.openSource(parse(ref), transport())) {
      RawManifest m = src.resolve(platform);
      String digest = m.digest().toString();
      return new CheckResult(ref, digest, d.booted() == null ? null : d.booted().manifestDigest(),
          d.staged() == null ? null : d.staged().manifestDigest(), d.failedDigests().contains(digest));
    }
  }

  /** {@code --download-only}: everything up to the layers in the cache; no slot, entry or deployment changes. */
  public UpdateResult download(String ref) throws IOException {
    return run(ref, true);
  }

  /** Stages {@code ref} in the inactive slot (or finds it already booted or staged). */
  public UpdateResult stage(String ref) throws IOException {
    return run(ref, false);
  }

  private UpdateResult run(String ref, boolean downloadOnly) throws IOException {
    NodeState state = node.state();
    try (NodeState.Lock lock = state.lock(LOCK_PATIENCE)) {
      NodeState.Data d = node.reconcileLocked();
      UpdatePhase restPhase = d.staged() != null ? UpdatePhase.STAGED : UpdatePhase.IDLE;
      try {
        return runLocked(ref, downloadOnly, d, restPhase);
      } catch (IOException | RuntimeException e) {
        String msg = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
        NodeState.Data now = state.read();
        state.write(now.withPhase(now.staged() != null && !now.updatePhase().inProgress() ? now.updatePhase()
            : UpdatePhase.FAILED, msg));
        throw e;
      }
    }
  }

  private UpdateResult runLocked(String ref, boolean downloadOnly, NodeState.Data d, UpdatePhase restPhase)
      throws IOException {
    NodeState state = node.state();
    BootEntries entries = node.entries();
    Slot booted = Slot.of(d.booted().slot());
    Slot target = booted.other();
    ImageReference parsed = parse(ref);
    d = phase(d, UpdatePhase.RESOLVING, ref);
    try (ImageSource src = Transports.openSource(parsed, transport())) {
      RawManifest manifest = src.resolve(platform);
      // before anything is downloaded or written: a refusal leaves slots, entries and deployments as they are
      SignaturePolicy.Approval approval = policy.check(ref, src.rootManifest(), src);
      listener.info("signature policy: " + approval.reason());
      String digest = manifest.digest().toString();
      listener.info(ref + " is " + digest);
      if (d.failedDigests().contains(digest) && !force) {
        throw new NodeException(ref + " (" + digest + ") failed to boot on this machine before; "
            + "not staging it again (use --force to try anyway)");
      }
      MergedImage image = MergedImage.resolve(new PinnedSource(src.name(), manifest, null), platform);
      long imageBytes = image.compressedSize();
      int layers = image.layers().size();
      if (!downloadOnly && !force && digest.equals(d.booted().manifestDigest())) {
        state.write(d.withPhase(restPhase, null));
        listener.info("already booted: " + digest);
        return new UpdateResult(UpdateResult.Outcome.UP_TO_DATE, ref, digest, d.booted(), layers, 0, 0, imageBytes, 0);
      }
      if (!downloadOnly && !force && d.staged() != null && digest.equals(d.staged().manifestDigest())) {
        state.write(d.withPhase(restPhase, null));
        listener.info("already staged: " + digest);
        return new UpdateResult(UpdateResult.Outcome.ALREADY_STAGED, ref, digest, d.staged(), layers, 0, 0, imageBytes, 0);
      }

      // ---- layers into the cache
      BlobCache cache = cache();
      d = phase(d, UpdatePhase.DOWNLOADING, layers + " layers, " + imageBytes + " bytes");
      long downloaded = 0;
      int fetched = 0;
      try (RegistryClient client = parsed instanceof DockerReference dr ? registryClient(dr) : null) {
        for (Descriptor layer : image.layers()) {
          if (cache.contains(layer.digest())) continue;
          BlobCache.FetchResult r = cache.fetch(layer, src.name(), offset -> open(src, client, parsed, layer, offset));
          downloaded += r.bytesTransferred();
          if (!r.cached()) fetched++;
        }
      }
      listener.info("downloaded " + downloaded + " bytes in " + fetched + " of " + layers + " layers (image "
          + imageBytes + " bytes)");
      if (downloadOnly) {
        state.write(d.withPhase(restPhase, null));
        return new UpdateResult(UpdateResult.Outcome.DOWNLOADED, ref, digest, null, layers, fetched, downloaded, imageBytes, 0);
      }

      // ---- the inactive slot is given up: nothing may boot it while it is rewritten
      d = d.withDeployments(d.booted(), null, null).withBootIds(d.bootId(), null);
      d = phase(d, UpdatePhase.WRITING_ROOT, "slot " + target.id());
      entries.removeSlot(target);
      entries.removeSlotRecord(target);

      DiskLayout layout = node.layout();
      GptPartition root = layout.root(target);
      GptPartition verityPart = layout.verity(target).orElseThrow(() -> new NodeException("disk "
          + node.environment().disk() + " has no partition labelled '" + target.verityLabel() + "'"));
      MergedImage cached = MergedImage.resolve(new PinnedSource(src.name(), manifest, cache), platform);
      SlotImage writer = SlotImage.of(cached).tap(down -> new Progress(down, listener));
      if (nodeLayer != null) writer.nodeLayer(nodeLayer);
      Optional<DiskConfig> config = entries.nodeConfig();
      Path work = Files.createTempDirectory(state.directory(), "work-");
      try {
        boolean compareRootHash = !approval.signedRootHashes().isEmpty();
        if (config.isPresent()) {
          // the node's users and host name go into every slot; the signed root hash is of the image without them,
          // so it is checked on a scratch copy of the plain slot first (one more pass over the layers)
          writer.config(config.get());
          listener.info("applying the node's config (" + config.get().users().size() + " users"
              + config.get().hostname().map(h -> ", host name " + h).orElse("") + ")");
          if (compareRootHash) {
            SlotImage plain = SlotImage.of(cached);
            if (nodeLayer != null) plain.nodeLayer(nodeLayer);
            requireSigned(plain.rootHash(work), approval, target, ref, digest);
            compareRootHash = false;
          }
        }
        SlotImage.Result res;
        VerityResult verity;
        try (FileChannel ch = FileChannel.open(node.environment().disk(), StandardOpenOption.READ, StandardOpenOption.WRITE)) {
          res = writer.writeTo(ch, root.offsetBytes(), root.sizeBytes(), work);
          ch.force(true);
          d = phase(d, UpdatePhase.WRITING_VERITY, res.rootFs().imageBytes() + " bytes");
          verity = Verity.format(VerityOptions.fromSeed(writer.effectiveSeed()), ch, root.offsetBytes(),
              res.rootFs().imageBytes(), ch, verityPart.offsetBytes(), verityPart.sizeBytes());
          ch.force(true);
        }
        listener.progress("verity", res.rootFs().imageBytes(), res.rootFs().imageBytes());
        // the signature covers what boots: the slot must be the one the signer built (no entry points at it yet)
        if (compareRootHash) requireSigned(verity.rootHash(), approval, target, ref, digest);
        d = phase(d, UpdatePhase.INSTALLING_BOOT_FILES, "basalt/" + target.id());
        entries.installBootFiles(target, res.kernel(), res.initrd(), listener::progress);

        int serial = Math.max(d.serial(), entries.highestSerial()) + 1;
        if (serial > Deployment.MAX_SERIAL) throw new NodeException("deploy serials are exhausted");
        Deployment dep = new Deployment(ref, digest, verity.rootHash(), target.id(), serial, clock.instant(), Health.PENDING);
        entries.writeSlotRecord(new SlotRecord(dep, res.kargs()));
        d = phase(d, UpdatePhase.WRITING_ENTRY, BootEntry.fileName(serial, target, tries));
        List<String> options = options(root, res.kargs(), verity.rootHash(), booted);
        BootEntry entry = entries.write(target, serial, tries, res.title(), options);
        listener.info("staged " + digest + " in slot " + target.id() + " as " + entry.fileName());
        d = d.withDeployments(d.booted(), dep, null).withSerial(serial).withBootIds(d.bootId(), d.bootId())
            .withPhase(UpdatePhase.STAGED, null);
        state.write(d);
        listener.phase(UpdatePhase.STAGED, entry.fileName());
        return new UpdateResult(UpdateResult.Outcome.STAGED, ref, digest, dep, layers, fetched, downloaded, imageBytes,
            res.rootFs().imageBytes());
      } finally {
        deleteTree(work);
      }
    }
  }

  /**
   * The new entry's kernel command line: Basalt's own arguments, the image's kargs, then the local
   * ones of the booted entry (e.g. from the disk's config), then the verity root hash.
   */
  private List<String> options(GptPartition root, List<String> imageKargs, String rootHash, Slot booted) throws IOException {
    LinkedHashSet<String> out = new LinkedHashSet<>(List.of("root=PARTUUID=" + root.uuid(), "rootfstype=erofs", "ro",
        "init=/usr/lib/basalt/preinit", "panic=10"));
    out.addAll(imageKargs);
    var bootedEntry = node.entries().entry(booted);
    if (bootedEntry.isPresent()) {
      List<String> oldImage = node.entries().readSlotRecord(booted).map(SlotRecord::imageKargs).orElse(List.of());
      for (String a : KernelCmdline.parse(bootedEntry.get().options())
          .without(List.of("root", "rootfstype", "ro", "init", "panic", "basalt.verity"))) {
        if (!oldImage.contains(a)) out.add(a);
      }
    }
    List<String> list = new ArrayList<>(out);
    list.add("basalt.verity=" + rootHash);
    return list;
  }

  private static void requireSigned(String rootHash, SignaturePolicy.Approval approval, Slot target, String ref,
      String digest) throws NodeException {
    if (approval.signedRootHashes().contains(rootHash)) return;
    throw new NodeException("slot " + target.id() + " built from " + ref + " (" + digest + ") has verity root hash "
        + rootHash + ", but its signature vouches for " + String.join(" or ",
        new java.util.TreeSet<>(approval.signedRootHashes())) + "; not committing a boot entry for it");
  }

  private NodeState.Data phase(NodeState.Data d, UpdatePhase p, String detail) throws IOException {
    NodeState.Data next = d.withPhase(p, null);
    node.state().write(next);
    listener.phase(p, detail);
    return next;
  }

  private BlobCache.Ranged open(ImageSource src, RegistryClient client, ImageReference ref, Descriptor layer, long offset)
      throws IOException {
    String task = "layer " + layer.digest();
    if (client != null && ref instanceof DockerReference dr) {
      BlobResponse resp = client.fetchBlob(dr.repository(), layer.digest(), offset);
      return new BlobCache.Ranged(new Counting(resp.stream(), task, resp.offset(), layer.size(), listener), resp.offset());
    }
    return new BlobCache.Ranged(new Counting(src.blob(layer), task, 0, layer.size(), listener), 0);
  }

  private TransportOptions transport() {
    TransportOptions.Builder b = TransportOptions.builder().tlsVerify(tlsVerify);
    if (credentials != null) b.credentials(credentials);
    return b.build();
  }

  private RegistryClient registryClient(DockerReference ref) {
    RegistryClientBuilder b = RegistryClient.builder(ref.registry()).tlsVerify(tlsVerify);
    if (credentials != null) b.credentials(credentials);
    return b.build();
  }

  private static ImageReference parse(String ref) throws NodeException {
    Objects.requireNonNull(ref, "ref");
    try {
      return ImageReference.parse(ref);
    } catch (IllegalArgumentException e) {
      throw new NodeException("invalid image reference '" + ref + "': " + e.getMessage(), e);
    }
  }

  private static void deleteTree(Path dir) throws IOException {
    if (!Files.exists(dir)) return;
    try (Stream<Path> s = Files.walk(dir)) {
      for (Path p : s.sorted(Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
    }
  }

  /** The pinned manifest; blobs from the cache (verified again while read) or, before the download, not at all. */
  private record PinnedSource(String name, RawManifest manifest, BlobCache cache) implements ImageSource {
    @Override
    public RawManifest rootManifest() { return manifest; }

    @Override
    public RawManifest manifest(Descriptor descriptor) throws IOException {
      throw new ImageException("no index below the pinned manifest " + manifest.digest() + " of " + name);
    }

    @Override
    public InputStream blob(Descriptor d) throws IOException {
      if (cache == null) throw new ImageException("blob " + d.digest() + " of " + name + " is not downloaded yet");
      return new VerifyingInputStream(Files.newInputStream(cache.require(d.digest())), d, "cache " + cache.root());
    }

    @Override
    public void close() {}
  }

  /** Reports bytes read from a download. */
  private static final class Counting extends FilterInputStream {
    private final String task;
    private final long total;
    private final UpdateListener listener;
    private long done;

    Counting(InputStream in, String task, long start, long total, UpdateListener listener) {
      super(in);
      this.task = task;
      this.done = start;
      this.total = total;
      this.listener = listener;
    }

    @Override
    public int read() throws IOException {
      int b = super.read();
      if (b >= 0) listener.progress(task, ++done, total);
      return b;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
      int n = super.read(b, off, len);
      if (n > 0) listener.progress(task, done += n, total);
      return n;
    }
  }

  /** Reports the bytes of file content streamed into the slot, after each file and each MiB. */
  private static final class Progress implements TreeSink {
    private final TreeSink down;
    private final UpdateListener listener;
    private long done;
    private long files;

    Progress(TreeSink down, UpdateListener listener) {
      this.down = down;
      this.listener = listener;
    }

    @Override
    public void add(TreeEntry entry, InputStream content) throws IOException {
      if (content != null && entry instanceof TreeEntry.RegularFile) {
        content = new FilterInputStream(content) {
          long sinceReport;

          @Override
          public int read(byte[] b, int off, int len) throws IOException {
            int n = super.read(b, off, len);
            if (n > 0) {
              done += n;
              sinceReport += n;
              if (sinceReport >= 1 << 20) {
                sinceReport = 0;
                listener.progress("root", done, -1);
              }
            }
            return n;
          }
        };
      }
      down.add(entry, content);
      if (entry instanceof TreeEntry.RegularFile) {
        files++;
        listener.progress("root", done, -1);
      }
    }

    @Override
    public void finish() throws IOException {
      down.finish();
      listener.progress("root", done, done);
    }
  }

  /** Options of an {@link Updater}. */
  public static final class Builder {
    private final Node node;
    private Platform platform = Platform.LINUX_AMD64;
    private boolean tlsVerify = true;
    private Credentials credentials;
    private TreeProducer nodeLayer;
    private SignaturePolicy policy = SignaturePolicy.ACCEPT_ANY;
    private UpdateListener listener = UpdateListener.NONE;
    private int tries = BootEntries.DEFAULT_TRIES;
    private boolean force;
    private Clock clock = Clock.systemUTC();

    private Builder(Node node) {
      this.node = Objects.requireNonNull(node, "node");
    }

    public Builder platform(Platform p) {
      this.platform = Objects.requireNonNull(p, "platform");
      return this;
    }

    /** {@code --tls-verify=false} for registries on plain HTTP. */
    public Builder tlsVerify(boolean v) {
      this.tlsVerify = v;
      return this;
    }

    public Builder credentials(Credentials c) {
      this.credentials = Objects.requireNonNull(c, "credentials");
      return this;
    }

    /** Added on top of images without {@code /usr/lib/basalt/preinit}; without one such images are refused. */
    public Builder nodeLayer(TreeProducer layer) {
      this.nodeLayer = Objects.requireNonNull(layer, "nodeLayer");
      return this;
    }

    public Builder signaturePolicy(SignaturePolicy p) {
      this.policy = Objects.requireNonNull(p, "signaturePolicy");
      return this;
    }

    public Builder listener(UpdateListener l) {
      this.listener = Objects.requireNonNull(l, "listener");
      return this;
    }

    /** Boot tries of the new entry, 1..9 (default 3). */
    public Builder tries(int n) {
      if (n < 1 || n > 9) throw new IllegalArgumentException("tries must be 1..9, got " + n);
      this.tries = n;
      return this;
    }

    /** Stage even a digest that failed here before, or one already booted or staged. */
    public Builder force(boolean f) {
      this.force = f;
      return this;
    }

    Builder clock(Clock c) {
      this.clock = Objects.requireNonNull(c, "clock");
      return this;
    }

    public Updater build() {
      return new Updater(this);
    }
  }
}

package dev.basalt.image.disk;

import dev.basalt.fs.erofs.ErofsWriter;
import dev.basalt.fs.gpt.Guids;
import dev.basalt.fs.tree.TreeException;
import dev.basalt.fs.tree.TreeSink;
import dev.basalt.fs.verity.Verity;
import dev.basalt.fs.verity.VerityOptions;
import dev.basalt.image.lint.ImageLint;
import dev.basalt.image.lint.LintReport;
import dev.basalt.image.lint.RootFs;
import dev.basalt.image.lint.TreeRootFs;
import dev.basalt.image.rootfs.MergedImage;
import java.io.IOException;
import java.io.InputStream;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.UUID;
import java.util.function.UnaryOperator;

/**
 * Writes an image's root filesystem into one root slot, the way {@link DiskBuilder} writes root-a:
 * the layers merged top-down (plus the node layer when the image lacks it, plus a
 * {@link DiskConfig}) straight into an EROFS in a region of a disk or block device, while the
 * same pass feeds {@link ImageLint}; an image that is not bootable is refused, and its boot files
 * (kernel, initramfs, systemd-boot) are copied out for the ESP. Used by node updates, which write
 * the inactive slot of a running machine.
 *
 * <p>Deterministic: the EROFS UUID derives from the seed (default the manifest digest) and not
 * from the slot, so the same image gives the same bytes (and verity root hash) in either slot.
 */
public final class SlotImage {
  private final MergedImage image;
  private TreeProducer nodeLayer;
  private DiskConfig config = DiskConfig.EMPTY;
  private String seed;
  private String architecture = "x86_64";
  private UnaryOperator<TreeSink> tap = UnaryOperator.identity();

  private SlotImage(MergedImage image) {
    this.image = Objects.requireNonNull(image, "image");
  }

  /** A slot writer for {@code image}. */
  public static SlotImage of(MergedImage image) {
    return new SlotImage(image);
  }

  /** The node layer put on top when the image lacks {@code /usr/lib/basalt/preinit}; without one such an image is refused. */
  public SlotImage nodeLayer(TreeProducer layer) {
    this.nodeLayer = Objects.requireNonNull(layer, "nodeLayer");
    return this;
  }

  /** Users, hostname and kernel arguments to apply (default none). */
  public SlotImage config(DiskConfig config) {
    this.config = Objects.requireNonNull(config, "config");
    return this;
  }

  /** Seed of the EROFS UUID (default: the manifest digest). */
  public SlotImage seed(String seed) {
    Objects.requireNonNull(seed, "seed");
    if (seed.isEmpty()) throw new IllegalArgumentException("seed must not be empty");
    this.seed = seed;
    return this;
  }

  /**
   * Wraps the sink in front of the EROFS writer, e.g. to observe progress; the wrapper must pass
   * every entry and {@code finish()} on unchanged.
   */
  public SlotImage tap(UnaryOperator<TreeSink> tap) {
    this.tap = Objects.requireNonNull(tap, "tap");
    return this;
  }

  /** The seed used for identifiers: the one given, else the manifest digest. */
  public String effectiveSeed() {
    return seed != null ? seed : image.manifest().digest().toString();
  }

  /** The EROFS volume UUID for a seed (slot-independent). */
  public static UUID erofsUuid(String seed) {
    return Guids.derive(seed, "erofs/root");
  }

  /**
   * What was written.
   *
   * @param rootFs the EROFS figures ({@code imageBytes} is the length verity must cover)
   * @param lint the lint report of the final tree (warnings only)
   * @param kernel the kernel, copied into the work directory
   * @param initrd its initramfs, copied into the work directory
   * @param systemdBoot the image's systemd-boot EFI binary, copied into the work directory
   * @param title the os-release PRETTY_NAME (or "Linux")
   * @param nodeLayerAdded whether the node layer was added
   * @param userIds the uid each configured user other than root has in the slot
   */
  public record Result(ErofsWriter.Result rootFs, LintReport lint, Path kernel, Path initrd, Path systemdBoot,
      String title, boolean nodeLayerAdded, Map<String, Long> userIds) {
    public Result {
      userIds = Map.copyOf(userIds);
    }

    /** Kernel arguments of the image ({@code kargs.d}) followed by the config's. */
    public List<String> kargs() { return lint.kargs(); }
  }

  /**
   * The dm-verity root hash a node gets when it writes this image into a slot: the EROFS written
   * into a sparse scratch file in {@code workDir}, verity formatted with the salt derived from the
   * {@linkplain #effectiveSeed() seed}, as the node update does; the scratch files are removed.
   * What signers put into the signed {@code dev.basalt.verity.root-hash} claim.
   */
  public String rootHash(Path workDir) throws IOException {
    Path scratch = Files.createTempDirectory(workDir, "roothash-");
    try {
      Path fs = scratch.resolve("root.erofs");
      Path hash = scratch.resolve("root.verity");
      try (FileChannel ch = FileChannel.open(fs, StandardOpenOption.CREATE_NEW, StandardOpenOption.READ,
          StandardOpenOption.WRITE, StandardOpenOption.SPARSE);
          FileChannel hc = FileChannel.open(hash, StandardOpenOption.CREATE_NEW, StandardOpenOption.READ,
              StandardOpenOption.WRITE, StandardOpenOption.SPARSE)) {
        Result r = writeTo(ch, 0, Long.MAX_VALUE, scratch);
        long bytes = r.rootFs().imageBytes();
        return Verity.format(VerityOptions.fromSeed(effectiveSeed()), ch, 0, bytes, hc, 0,
            Verity.hashDeviceSize(bytes)).rootHash();
      }
    } finally {
      try (var s = Files.walk(scratch)) {
        for (Path p : s.sorted(java.util.Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
      }
    }
  }

  /**
   * Writes the EROFS into {@code [offset, offset + maxLength)} of {@code channel} (not forced to
   * disk: the caller fsyncs) and copies the boot files into {@code workDir} (which must exist).
   *
   * @throws DiskBuildException when the image is not bootable or does not fit
   */
  public Result writeTo(FileChannel channel, long offset, long maxLength, Path workDir) throws IOException {
    Objects.requireNonNull(channel, "channel");
    if (!Files.isDirectory(workDir)) throw new IllegalArgumentException("work directory does not exist: " + workDir);
    String s = effectiveSeed();
    Pipeline[] last = new Pipeline[1];
    try {
      image.writeTo(() -> {
        if (last[0] != null) last[0].close();
        return (last[0] = new Pipeline(channel, offset, maxLength, s, workDir)).head;
      });
    } catch (IOException | RuntimeException e) {
      if (last[0] != null) last[0].close();
      if (e instanceof TreeException && e.getMessage() != null && e.getMessage().contains("image needs at least")) {
        throw new DiskBuildException("the root filesystem of " + image.manifest().digest() + " does not fit in the "
            + maxLength / (1 << 20) + " MiB root slot (" + e.getMessage() + ")", null, e);
      }
      throw e;
    }
    Pipeline p = last[0];
    ErofsWriter.Result erofs = p.erofs.result();
    try (TreeRootFs fs = p.view.build()) {
      LintReport report = ImageLint.builder().architecture(architecture).build().check(fs);
      if (!report.ok()) {
        throw new DiskBuildException(image.manifest().digest() + " is not bootable:\n" + report.toText().stripTrailing(),
            report, null);
      }
      if (fs.resolve(NodeOverlay.PREINIT).isEmpty()) {
        throw new DiskBuildException("the image " + image.manifest().digest() + " has no Basalt node layer (/"
            + NodeOverlay.PREINIT + ") and no node layer was given to add", report, null);
      }
      LintReport.BootFiles bf = report.boot().orElseThrow(() -> new DiskBuildException("lint found no kernel"));
      if (bf.initramfs() == null) throw new DiskBuildException("no initramfs for kernel " + bf.kernel());
      Path kernel = extract(fs, bf.kernel().substring(1), workDir.resolve("vmlinuz"));
      Path initrd = extract(fs, bf.initramfs().substring(1), workDir.resolve("initrd.img"));
      Path sdboot = extract(fs, "usr/lib/systemd/boot/efi/systemd-bootx64.efi", workDir.resolve("BOOTX64.EFI"));
      return new Result(erofs, report, kernel, initrd, sdboot, title(fs), p.overlay != null && p.overlay.added(),
          p.config != null ? p.config.assignedUids() : Map.of());
    }
  }

  static Path extract(RootFs fs, String path, Path to) throws IOException {
    RootFs.Node n = fs.resolve(path).orElseThrow(() -> new DiskBuildException("/" + path + " vanished from the image"));
    Files.deleteIfExists(to);
    try (InputStream in = fs.open(n.path())) {
      Files.copy(in, to);
    }
    return to;
  }

  /** PRETTY_NAME of os-release, else "Linux". */
  static String title(RootFs fs) throws IOException {
    for (String p : List.of("etc/os-release", "usr/lib/os-release")) {
      var n = fs.resolve(p);
      if (n.isEmpty() || n.get().kind() != RootFs.Kind.REGULAR_FILE) continue;
      String text;
      try (InputStream in = fs.open(n.get().path())) {
        text = new String(in.readNBytes(64 * 1024), StandardCharsets.UTF_8);
      }
      for (String line : text.split("\n")) {
        if (line.startsWith("PRETTY_NAME=")) {
          String v = line.substring(12).strip();
          if (v.length() >= 2 && (v.startsWith("\"") || v.startsWith("'"))) v = v.substring(1, v.length() - 1);
          if (!v.isBlank()) return v;
        }
      }
    }
    return "Linux";
  }

  /** The sinks of one merge attempt: overlay -> config -> tee -> (tap -> EROFS writer, lint view). */
  private final class Pipeline implements AutoCloseable {
    final ErofsWriter erofs;
    final TreeRootFs.Sink view;
    final NodeOverlay overlay;
    final ConfigSink config;
    final TreeSink head;

    Pipeline(FileChannel ch, long offset, long region, String seed, Path work) throws IOException {
      erofs = ErofsWriter.builder().output(ch, offset, region).uuid(erofsUuid(seed)).volumeName("basalt-root").build();
      view = TreeRootFs.sink();
      TreeSink s = new LintTee(tap.apply(erofs), view, work);
      config = ConfigSink.isNoop(SlotImage.this.config) ? null : new ConfigSink(s, SlotImage.this.config);
      if (config != null) s = config;
      overlay = nodeLayer != null ? new NodeOverlay(s, nodeLayer) : null;
      head = overlay != null ? overlay : s;
    }

    @Override
    public void close() throws IOException {
      try {
        erofs.close();
      } finally {
        view.close();
      }
    }
  }
}

package dev.basalt.image.disk;

import dev.basalt.fs.diskimage.DiskImageFormat;
import dev.basalt.fs.diskimage.DiskImages;
import dev.basalt.fs.erofs.ErofsWriter;
import dev.basalt.fs.fat.Fat32Builder;
import dev.basalt.fs.gpt.GptPartition;
import dev.basalt.fs.gpt.GptTable;
import dev.basalt.fs.gpt.PartitionTypes;
import dev.basalt.fs.verity.Verity;
import dev.basalt.fs.verity.VerityOptions;
import dev.basalt.fs.verity.VerityResult;
import dev.basalt.image.lint.ImageLint;
import dev.basalt.image.rootfs.MergedImage;
import java.io.IOException;
import tools.jackson.databind.SerializationFeature;
import tools.jackson.databind.json.JsonMapper;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.stream.Stream;

/**
 * Turns an image into a bootable GPT disk (ARCHITECTURE.md §4) with file I/O only: no loop
 * devices, mounts or root.
 *
 * <pre>
 *  1 esp       FAT32 (512 MiB): EFI/BOOT/BOOTX64.EFI (the image's systemd-boot), loader/loader.conf,
 *              loader/entries/basalt-00000001-a+3.conf, basalt/a/{vmlinuz,initrd.img}
 *  2 root-a    EROFS of the image (+ node layer, + config), written straight from the layers
 *  3 root-b    empty, same size (the next update goes there)
 *  4 verity-a  dm-verity hash tree over root-a's EROFS
 *  5 verity-b  empty, sized for root-b
 *  6 var       empty, up to the end of the disk: preinit makes ext4 on it and grows it on first boot
 * </pre>
 *
 * <p>One pass: the layers are merged top-down straight into root-a's region of the disk file,
 * while the same stream feeds {@link ImageLint}'s view, which keeps the boot files. An image that
 * is not bootable is refused with lint's findings. Then the verity tree is computed over the
 * region, the ESP and the GPT are written, and the raw file is converted if another format is
 * asked for. The output appears atomically (temp file beside it, renamed); on any failure
 * nothing is left behind. {@link #writeOnto} writes the same disk in place onto a block device
 * ({@code basalt install to-disk}), invalidating its partition table first.
 *
 * <p>With a {@link DiskConfig} that has users or a host name, the ESP also gets
 * {@value #NODE_CONFIG}: that config with each user's uid fixed, which the node applies again to
 * every slot it writes, so that accounts and host name survive updates.
 *
 * <p><b>Slot size</b> ({@link #rootSize}): by default twice the EROFS size rounded up to 256
 * MiB, at least 1 GiB — headroom for later, larger images, since updates write into the other
 * slot of the same size. <b>Disk size</b> ({@link #size}): by default ESP + 2 slots + 2 verity
 * partitions + 1 GiB for var; at least {@value #MIN_VAR_MIB} MiB must remain for var.
 *
 * <p>The entry carries {@code basalt.verity=<root hash>} for the node to check; dm-verity is not
 * activated at boot yet (Debian's initramfs-tools has no veritysetup hook). The verity tree covers
 * the EROFS bytes only (its data block count is in the hash superblock); the partition is sized
 * for a tree over the whole slot, so a larger image fits later.
 *
 * <p>Deterministic: every identifier (disk and partition GUIDs, FAT serial, EROFS UUID, verity
 * salt and UUID) derives from the seed, by default the image's manifest digest, so the same
 * image and options give the same bytes.
 */
public final class DiskBuilder {
  /** Smallest var partition a disk may leave, in MiB (preinit copies the image's /var there). */
  public static final long MIN_VAR_MIB = 256;
  static final long MIB = 1L << 20;
  static final long SLOT_STEP = 256 * MIB;
  static final long MIN_DEFAULT_SLOT = 1L << 30;
  static final long DEFAULT_VAR = 1L << 30;
  static final int SERIAL = 1;
  static final String SLOT = "a";
  /** The node's config on the ESP: users and host name it applies again to every slot it writes. */
  public static final String NODE_CONFIG = "basalt/config.toml";

  private final MergedImage image;
  private Path output;
  private DiskImageFormat format = DiskImageFormat.RAW;
  private Long size;
  private Long rootSize;
  private long espSize = 512 * MIB;
  private String seed;
  private String imageRef;
  private DiskConfig config = DiskConfig.EMPTY;
  private TreeProducer nodeLayer;
  private int tries = 3;

  private DiskBuilder(MergedImage image) {
    this.image = Objects.requireNonNull(image, "image");
  }

  /** A disk of {@code image}. */
  public static DiskBuilder of(MergedImage image) {
    return new DiskBuilder(image);
  }

  /** The disk file to write (replaced atomically if it exists); its directory must exist. */
  public DiskBuilder output(Path file) {
    Objects.requireNonNull(file, "output");
    Path dir = file.toAbsolutePath().getParent();
    if (dir == null || !Files.isDirectory(dir)) throw new IllegalArgumentException("output directory does not exist: " + dir);
    if (Files.isDirectory(file)) throw new IllegalArgumentException("output " + file + " is a directory");
    this.output = file.toAbsolutePath();
    return this;
  }

  /**
   * The reference slot a was built from, recorded in {@code basalt/a/deployment.json} as the node's
   * update source (default none: then {@code basalt upgrade} needs a reference).
   */
  public DiskBuilder imageRef(String ref) {
    Objects.requireNonNull(ref, "imageRef");
    if (ref.isBlank()) throw new IllegalArgumentException("imageRef must not be blank");
    this.imageRef = ref;
    return this;
  }

  /** Container format (default raw, written sparse). */
  public DiskBuilder format(DiskImageFormat format) {
    this.format = Objects.requireNonNull(format, "format");
    return this;
  }

  /** The disk's (virtual) size in bytes, a multiple of 1 MiB; default: ESP + 2 slots + verity + 1 GiB var. */
  public DiskBuilder size(long bytes) {
    requireMiB(bytes, "disk size");
    this.size = bytes;
    return this;
  }

  /** Size of each root slot in bytes, a multiple of 1 MiB; default: 2 × the EROFS size rounded up to 256 MiB, at least 1 GiB. */
  public DiskBuilder rootSize(long bytes) {
    requireMiB(bytes, "root slot size");
    if (bytes < 8 * MIB) throw new IllegalArgumentException("root slot size must be at least 8 MiB, got " + bytes);
    this.rootSize = bytes;
    return this;
  }

  /** ESP size in bytes (default 512 MiB, at least 64 MiB for FAT32). */
  public DiskBuilder espSize(long bytes) {
    requireMiB(bytes, "ESP size");
    if (bytes < 64 * MIB) throw new IllegalArgumentException("ESP size must be at least 64 MiB (FAT32), got " + bytes);
    this.espSize = bytes;
    return this;
  }

  /** Seed of all identifiers (default: the manifest digest). */
  public DiskBuilder seed(String seed) {
    Objects.requireNonNull(seed, "seed");
    if (seed.isEmpty()) throw new IllegalArgumentException("seed must not be empty");
    this.seed = seed;
    return this;
  }

  /** Users, hostname, kernel arguments to apply. */
  public DiskBuilder config(DiskConfig config) {
    this.config = Objects.requireNonNull(config, "config");
    return this;
  }

  /**
   * The node layer put on top when the image lacks {@code /usr/lib/basalt/preinit} (e.g.
   * {@code NodeLayer.builder().build()::writeTo}). Without one, such an image is refused.
   */
  public DiskBuilder nodeLayer(TreeProducer layer) {
    this.nodeLayer = Objects.requireNonNull(layer, "nodeLayer");
    return this;
  }

  /** Boot tries of the first entry (default 3: {@code +3}); 0 writes an entry without a counter. */
  public DiskBuilder tries(int tries) {
    if (tries < 0 || tries > 9) throw new IllegalArgumentException("tries must be 0..9, got " + tries);
    this.tries = tries;
    return this;
  }

  private static void requireMiB(long bytes, String what) {
    if (bytes <= 0 || bytes % MIB != 0) {
      throw new IllegalArgumentException(what + " must be a positive multiple of 1 MiB, got " + bytes + " bytes");
    }
  }

  /** The default slot size for an EROFS of {@code erofsBytes}. */
  public static long defaultRootSize(long erofsBytes) {
    return Math.max(MIN_DEFAULT_SLOT, Math.ceilDiv(2 * erofsBytes, SLOT_STEP) * SLOT_STEP);
  }

  /** Verity partition size for a slot: the hash device for the whole slot, rounded up to 1 MiB. */
  static long veritySize(long slot) {
    return GptTable.alignUp(Verity.hashDeviceSize(slot));
  }

  /** Smallest disk for these ESP and slot sizes (1 MiB before the ESP and 1 MiB of GPT at the end). */
  static long minimumSize(long esp, long slot) {
    return MIB + esp + 2 * slot + 2 * veritySize(slot) + MIN_VAR_MIB * MIB + MIB;
  }

  /** Writes the disk file. */
  public DiskResult build() throws IOException {
    if (output == null) throw new IllegalStateException("no output: call output(Path)");
    checkSizes();
    String effectiveSeed = seed != null ? seed : image.manifest().digest().toString();
    Path work = Files.createTempDirectory(output.getParent(), "." + output.getFileName() + ".basalt-");
    try {
      Path raw = work.resolve("disk.raw");
      Written w;
      try (FileChannel ch = FileChannel.open(raw, StandardOpenOption.CREATE_NEW, StandardOpenOption.READ,
          StandardOpenOption.WRITE, StandardOpenOption.SPARSE)) {
        w = write(ch, work, effectiveSeed, false);
      }
      Path ready;
      if (format == DiskImageFormat.RAW) {
        ready = raw;
      } else {
        ready = work.resolve("disk.out");
        DiskImages.convert(raw, ready, format, effectiveSeed);
        Files.delete(raw);
      }
      Files.move(ready, output, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
      return w.result(output, format, Files.size(output), effectiveSeed);
    } finally {
      deleteTree(work);
    }
  }

  /**
   * Writes the disk in place onto {@code target}, an existing block device (or file) of
   * {@linkplain #size(long) size} bytes — its whole size: the GPT goes at its end. Same bytes as
   * {@link #build()} writes into a file of that size, wherever that file has data; the rest of the
   * target (unused slot b, var past its first MiB) keeps what it held, none of it reachable.
   *
   * <p>Order, so that a cut at any point leaves nothing that claims to be bootable: the first MiB
   * (protective MBR, primary GPT) and the last 2 MiB (backup GPT) are zeroed and flushed first;
   * then root-a, verity-a and the ESP are written, and the start of root-b, verity-b and var zeroed
   * (no stale filesystem signature: preinit makes ext4 on var only when it finds none); the GPT
   * last, then flushed. On failure the target is left without a partition table. Safety checks
   * (is it in use, does it hold data) are the caller's.
   *
   * @param workDir an existing directory for the boot files (a few MiB)
   */
  public DiskResult writeOnto(Path target, Path workDir) throws IOException {
    Objects.requireNonNull(target, "target");
    if (size == null) throw new IllegalStateException("no size: call size(long) with the size of " + target);
    if (!Files.isDirectory(workDir)) throw new IllegalArgumentException("work directory does not exist: " + workDir);
    if (format != DiskImageFormat.RAW) throw new IllegalStateException("a disk written onto a device is raw, not " + format);
    if (Files.isRegularFile(target) && Files.size(target) != size) {
      throw new IllegalArgumentException(target + " is " + Files.size(target) + " bytes, not the disk size " + size);
    }
    checkSizes();
    String effectiveSeed = seed != null ? seed : image.manifest().digest().toString();
    Path work = Files.createTempDirectory(workDir, "basalt-install-");
    try (FileChannel ch = FileChannel.open(target, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
      Written w = write(ch, work, effectiveSeed, true);
      return w.result(target.toAbsolutePath(), DiskImageFormat.RAW, size, effectiveSeed);
    } finally {
      deleteTree(work);
    }
  }

  private void checkSizes() throws DiskBuildException {
    if (size != null && rootSize != null && size < minimumSize(espSize, rootSize)) throw tooSmall(size, rootSize);
    // without a slot size the default is at least 1 GiB: a disk smaller than that is known to be too small now
    if (size != null && rootSize == null && size < minimumSize(espSize, MIN_DEFAULT_SLOT)) throw tooSmall(size, MIN_DEFAULT_SLOT);
  }

  private DiskBuildException tooSmall(long size, long slot) {
    long min = minimumSize(espSize, slot);
    return new DiskBuildException("disk size " + size + " bytes (" + size / MIB + " MiB) is too small: with a "
        + espSize / MIB + " MiB ESP and " + slot / MIB + " MiB root slots it must be at least " + min + " bytes ("
        + min / MIB + " MiB, leaving " + MIN_VAR_MIB + " MiB for var)");
  }

  /** What {@link #write} put on the disk, before the output file is known. */
  private record Written(GptTable table, SlotImage.Result slot, VerityResult verity, String entry, String options) {
    DiskResult result(Path output, DiskImageFormat format, long fileBytes, String seed) {
      return new DiskResult(output, format, fileBytes, table, slot.rootFs(), verity, slot.lint(), entry, options,
          slot.nodeLayerAdded(), seed);
    }
  }

  /**
   * The disk into {@code ch}: a new sparse file ({@code inPlace} false: holes read as zeros) or a
   * device written in place (old content: zeroed where {@link #build()} would have holes that matter).
   */
  private Written write(FileChannel ch, Path work, String seed, boolean inPlace) throws IOException {
    if (inPlace) {
      // no partition table while the disk is incomplete: a cut leaves nothing to boot
      zero(ch, 0, MIB);
      zero(ch, size - 2 * MIB, 2 * MIB);
      ch.force(true);
    }
    long rootOffset = MIB + espSize;
    long region = rootSize != null ? rootSize : size != null ? size - rootOffset - MIB : Long.MAX_VALUE - rootOffset;
    // ---- one pass: layers (+ node layer, + config) -> EROFS in root-a, and the lint view; the boot files copied out
    SlotImage writer = SlotImage.of(image).config(config).seed(seed);
    if (nodeLayer != null) writer.nodeLayer(nodeLayer);
    SlotImage.Result res;
    try {
      res = writer.writeTo(ch, rootOffset, region, work);
    } catch (DiskBuildException e) {
      if (rootSize != null && e.getMessage().contains("does not fit")) {
        throw new DiskBuildException(e.getMessage() + "; give a larger root slot size or leave it out (default: twice"
            + " the content)", e.lint().orElse(null), e);
      }
      throw e;
    }
    ErofsWriter.Result erofs = res.rootFs();
    long slot = rootSize != null ? rootSize : defaultRootSize(erofs.imageBytes());
    long verity = veritySize(slot);
    long total = size != null ? size : MIB + espSize + 2 * slot + 2 * verity + DEFAULT_VAR + MIB;
    if (total < minimumSize(espSize, slot)) throw tooSmall(total, slot);

    GptTable table = GptTable.builder(total).seed(seed)
        .add("esp", PartitionTypes.EFI_SYSTEM, espSize)
        .add("root-a", PartitionTypes.ROOT_X86_64, slot)
        .add("root-b", PartitionTypes.ROOT_X86_64, slot)
        .add("verity-a", PartitionTypes.ROOT_VERITY_X86_64, verity)
        .add("verity-b", PartitionTypes.ROOT_VERITY_X86_64, verity)
        .add("var", PartitionTypes.VAR, GptTable.Builder.REST)
        .build();
    GptPartition esp = table.partition(1).orElseThrow();
    GptPartition rootA = table.partition(2).orElseThrow();
    GptPartition verityA = table.partition(4).orElseThrow();
    if (rootA.offsetBytes() != rootOffset) throw new IllegalStateException("root-a moved to " + rootA.offsetBytes());

    // ---- verity over the EROFS just written
    if (inPlace) zero(ch, verityA.offsetBytes(), verityA.sizeBytes());
    VerityResult v = Verity.format(VerityOptions.fromSeed(seed), ch, rootOffset, erofs.imageBytes(),
        ch, verityA.offsetBytes(), verityA.sizeBytes());

    // ---- ESP
    String serial = String.format(Locale.ROOT, "%08d", SERIAL);
    String entryName = "basalt-" + serial + "-" + SLOT + (tries > 0 ? "+" + tries : "") + ".conf";
    List<String> options = new ArrayList<>(List.of("root=PARTUUID=" + rootA.uuid(), "rootfstype=erofs", "ro",
        "init=/" + NodeOverlay.PREINIT, "panic=10", "console=ttyS0,115200"));
    options.addAll(res.kargs());
    options.addAll(config.kernelAppend());
    options.add("basalt.verity=" + v.rootHash());
    String optionLine = String.join(" ", options);
    String entry = "title " + res.title() + " (Basalt " + serial + ", slot " + SLOT + ")\n"
        + "version " + serial + "\n"
        + "sort-key basalt\n"
        + "linux /basalt/" + SLOT + "/vmlinuz\n"
        + "initrd /basalt/" + SLOT + "/initrd.img\n"
        + "options " + optionLine + "\n";
    Fat32Builder fat = Fat32Builder.create().label("ESP").seed(seed).hiddenSectors(esp.firstLba())
        .file("EFI/BOOT/BOOTX64.EFI", res.systemdBoot())
        .file("loader/loader.conf", "timeout 0\neditor no\n".getBytes(StandardCharsets.UTF_8))
        .file("loader/entries/" + entryName, entry.getBytes(StandardCharsets.UTF_8))
        .file("basalt/" + SLOT + "/vmlinuz", res.kernel())
        .file("basalt/" + SLOT + "/initrd.img", res.initrd())
        .file("basalt/" + SLOT + "/deployment.json", deploymentRecord(v.rootHash(), res.kargs()));
    if (!ConfigSink.isNoop(config)) {
      // what the node applies again to every slot it writes (users keep their uids); read by basalt-node
      fat.file(NODE_CONFIG, config.forNode(res.userIds()).toToml().getBytes(StandardCharsets.UTF_8));
    }
    if (inPlace) zero(ch, esp.offsetBytes(), esp.sizeBytes());
    fat.writeTo(ch, esp.offsetBytes(), esp.sizeBytes());

    if (inPlace) {
      for (int n : new int[] {3, 5, 6}) {
        GptPartition p = table.partition(n).orElseThrow();
        zero(ch, p.offsetBytes(), Math.min(MIB, p.sizeBytes()));
      }
    }
    // ---- GPT last: a disk without a table is no disk
    if (!inPlace) {
      if (ch.size() > total) throw new IllegalStateException("disk file grew past " + total);
      if (ch.size() < total) ch.write(ByteBuffer.allocate(1), total - 1);
    }
    ch.force(true);
    table.writeTo(ch);
    ch.force(true);
    return new Written(table, res, v, entryName, optionLine);
  }

  private static void zero(FileChannel ch, long offset, long length) throws IOException {
    ByteBuffer zeros = ByteBuffer.allocate((int) Math.min(length, 4 * MIB));
    for (long at = offset, end = offset + length; at < end; ) {
      zeros.clear().limit((int) Math.min(zeros.capacity(), end - at));
      while (zeros.hasRemaining()) at += ch.write(zeros, at);
    }
  }

  /**
   * Slot a's record, {@code basalt/a/deployment.json}, in the node's SlotRecord form (basalt-node reads it):
   * lets {@code basalt upgrade} and {@code status} on a fresh disk know what the slot holds.
   * No deployedAt: the disk's bytes must not depend on the clock.
   */
  private byte[] deploymentRecord(String rootHash, List<String> imageKargs) {
    Map<String, Object> dep = new LinkedHashMap<>();
    dep.put("imageRef", imageRef);
    dep.put("manifestDigest", image.manifest().digest().toString());
    dep.put("verityRootHash", rootHash);
    dep.put("slot", SLOT);
    dep.put("serial", SERIAL);
    dep.put("deployedAt", null);
    dep.put("health", "unknown");
    Map<String, Object> rec = new LinkedHashMap<>();
    rec.put("deployment", dep);
    rec.put("imageKargs", imageKargs);
    return JsonMapper.builder().enable(SerializationFeature.INDENT_OUTPUT).build().writeValueAsBytes(rec);
  }

  private static void deleteTree(Path dir) throws IOException {
    if (!Files.exists(dir)) return;
    try (Stream<Path> s = Files.walk(dir)) {
      for (Path p : s.sorted(Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
    }
  }
}

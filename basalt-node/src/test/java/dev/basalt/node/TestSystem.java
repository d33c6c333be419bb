package dev.basalt.node;

import dev.basalt.fs.fat.Fat32Reader;
import dev.basalt.fs.gpt.GptPartition;
import dev.basalt.fs.gpt.GptTable;
import dev.basalt.fs.tree.DirectoryTreeReader;
import dev.basalt.image.disk.DiskBuilder;
import dev.basalt.image.disk.DiskResult;
import dev.basalt.image.rootfs.MergedImage;
import dev.basalt.oci.api.Descriptor;
import dev.basalt.oci.api.Digest;
import dev.basalt.oci.api.ImageDestination;
import dev.basalt.oci.api.ImageSource;
import dev.basalt.oci.api.MediaTypes;
import dev.basalt.oci.api.Platform;
import dev.basalt.oci.api.RawManifest;
import dev.basalt.oci.merge.LayerWriter;
import dev.basalt.oci.ref.ImageReference;
import dev.basalt.oci.transport.TransportOptions;
import dev.basalt.oci.transport.Transports;
import dev.basalt.testkit.Tools;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;

/**
 * A small synthetic Basalt machine on files: multi-layer bootable images in an OCI layout, a disk
 * image made by the real {@link DiskBuilder}, its ESP unpacked into a directory (the node's ESP
 * mount), and a sysroot with /proc/cmdline and a boot id. {@link #boot()} does what systemd-boot
 * 252 does (picks the entry, counts the try) so trial and fallback can be played offline.
 */
final class TestSystem {
  static final String KVER = "6.1.0-99-amd64";
  static final long MIB = 1 << 20;

  final Path dir;
  final Path layout;
  final Path disk;
  final Path esp;
  final Path sysroot;
  private int boots;

  TestSystem(Path dir) throws IOException {
    this.dir = dir;
    this.layout = dir.resolve("layout");
    this.disk = dir.resolve("disk.raw");
    this.esp = Files.createDirectories(dir.resolve("esp"));
    this.sysroot = Files.createDirectories(dir.resolve("sysroot"));
  }

  NodeEnvironment env() {
    return NodeEnvironment.sysroot(sysroot, disk, esp);
  }

  Node node() throws IOException {
    return Node.open(env());
  }

  // ------------------------------------------------------------------ images

  /** The shared base: a bootable Debian-like tree (kernel of {@code kernelBytes}, real gzip cpio initramfs). */
  static Path baseTree(Path root, int kernelBytes, int payloadBytes) throws IOException {
    dir(root, "usr/bin", "usr/sbin", "usr/lib", "boot", "etc", "var/lib", "usr/share/base");
    Files.createSymbolicLink(root.resolve("bin"), Path.of("usr/bin"));
    Files.createSymbolicLink(root.resolve("sbin"), Path.of("usr/sbin"));
    Files.createSymbolicLink(root.resolve("lib"), Path.of("usr/lib"));
    exe(root, "usr/bin/dash", "#!fake dash");
    Files.createSymbolicLink(root.resolve("usr/bin/sh"), Path.of("dash"));
    exe(root, "usr/lib/systemd/systemd", "fake systemd");
    Files.createSymbolicLink(root.resolve("usr/sbin/init"), Path.of("../lib/systemd/systemd"));
    byte[] kernel = random(kernelBytes, 7);
    kernel[0x1fe] = 0x55;
    kernel[0x1ff] = (byte) 0xaa;
    System.arraycopy("HdrS".getBytes(StandardCharsets.US_ASCII), 0, kernel, 0x202, 4);
    file(root, "boot/vmlinuz-" + KVER, kernel);
    file(root, "boot/initrd.img-" + KVER, initramfs(root.resolveSibling(root.getFileName() + "-initramfs")));
    file(root, "usr/lib/modules/" + KVER + "/kernel/fs/overlayfs/overlay.ko", "module".getBytes(StandardCharsets.UTF_8));
    file(root, "usr/lib/systemd/boot/efi/systemd-bootx64.efi", "MZ fake PE".getBytes(StandardCharsets.UTF_8));
    file(root, "usr/lib/bootc/kargs.d/10-console.toml", "kargs = [\"console=ttyS0,115200\"]\n".getBytes(StandardCharsets.UTF_8));
    exe(root, "usr/lib/basalt/preinit", "#!/bin/sh\nexec /sbin/init\n");
    for (int i = 0; i < 4; i++) file(root, "usr/share/base/blob" + i, random(payloadBytes / 4, 100 + i));
    return root;
  }

  /** The per-version top layer: os-release and a payload. */
  static Path topTree(Path root, String version, int payloadBytes, long seed) throws IOException {
    dir(root, "etc", "usr/share/app");
    file(root, "etc/os-release", ("ID=debian\nPRETTY_NAME=\"Test OS " + version + "\"\n").getBytes(StandardCharsets.UTF_8));
    file(root, "usr/share/app/version", version.getBytes(StandardCharsets.UTF_8));
    file(root, "usr/share/app/payload", random(payloadBytes, seed));
    return root;
  }

  /** A real initramfs: newc cpio (GNU cpio) with the erofs and overlay modules, gzip-compressed. */
  private static byte[] initramfs(Path work) throws IOException {
    String base = "usr/lib/modules/" + KVER;
    dir(work, base + "/kernel/fs/erofs", base + "/kernel/fs/overlayfs");
    file(work, base + "/kernel/fs/erofs/erofs.ko", "\u007fELF fake erofs".getBytes(StandardCharsets.UTF_8));
    file(work, base + "/kernel/fs/overlayfs/overlay.ko", "\u007fELF fake overlay".getBytes(StandardCharsets.UTF_8));
    file(work, base + "/modules.builtin", "kernel/fs/ext4/ext4.ko\n".getBytes(StandardCharsets.UTF_8));
    exe(work, "init", "#!/bin/sh\nexec /sbin/init\n");
    Path out = work.resolveSibling(work.getFileName() + ".img");
    Tools.check("bash", "-c", "set -euo pipefail; cd '" + work + "' && find . | LC_ALL=C sort | cpio -o -H newc --quiet | gzip -n > '" + out + "'");
    return Files.readAllBytes(out);
  }

  /** Writes an image of the given layer directories (bottom first) under {@code tag}; returns its reference. */
  String image(String tag, Path... layerDirs) throws IOException {
    String ref = "oci:" + layout + ":" + tag;
    List<Descriptor> layers = new ArrayList<>();
    List<String> diffIds = new ArrayList<>();
    try (ImageDestination dest = Transports.openDestination(ImageReference.parse(ref), TransportOptions.defaults())) {
      for (Path d : layerDirs) {
        Path blob = Files.createTempFile(dir, "layer", ".tar.gz");
        LayerWriter.Result r;
        try (OutputStream out = Files.newOutputStream(blob)) {
          LayerWriter w = LayerWriter.create(out, MediaTypes.Compression.GZIP, 1);
          DirectoryTreeReader.of(d).feed(w);
          w.finish();
          r = w.result();
        }
        Descriptor desc = new Descriptor(r.mediaType(), r.digest(), r.size());
        if (!dest.hasBlob(desc)) {
          try (InputStream in = Files.newInputStream(blob)) {
            dest.putBlob(desc, in);
          }
        }
        Files.delete(blob);
        layers.add(desc);
        diffIds.add(r.diffId().toString());
      }
      byte[] config = ("{\"architecture\":\"amd64\",\"os\":\"linux\",\"rootfs\":{\"type\":\"layers\",\"diff_ids\":["
          + String.join(",", diffIds.stream().map(s -> "\"" + s + "\"").toList()) + "]}}").getBytes(StandardCharsets.UTF_8);
      Descriptor cfg = new Descriptor(MediaTypes.OCI_CONFIG, Digest.sha256(config), config.length);
      if (!dest.hasBlob(cfg)) dest.putBlob(cfg, new ByteArrayInputStream(config));
      StringBuilder m = new StringBuilder("{\"schemaVersion\":2,\"mediaType\":\"" + MediaTypes.OCI_MANIFEST + "\",\"config\":"
          + desc(cfg) + ",\"layers\":[");
      for (int i = 0; i < layers.size(); i++) m.append(i > 0 ? "," : "").append(desc(layers.get(i)));
      m.append("]}");
      dest.putManifest(RawManifest.of(m.toString().getBytes(StandardCharsets.UTF_8), MediaTypes.OCI_MANIFEST), true);
      dest.commit();
    }
    return ref;
  }

  private static String desc(Descriptor d) {
    return "{\"mediaType\":\"" + d.mediaType() + "\",\"digest\":\"" + d.digest() + "\",\"size\":" + d.size() + "}";
  }

  static MergedImage merged(String ref) throws IOException {
    ImageSource src = Transports.openSource(ImageReference.parse(ref), TransportOptions.defaults());
    return MergedImage.resolve(src, Platform.LINUX_AMD64);
  }

  static String digestOf(String ref) throws IOException {
    return merged(ref).manifest().digest().toString();
  }

  // ------------------------------------------------------------------ disk

  /** A disk of {@code ref} in slot a (64 MiB ESP, 24 MiB slots), its ESP unpacked, booted into slot a. */
  DiskResult makeDisk(String ref) throws IOException {
    return makeDisk(DiskBuilder.of(merged(ref)));
  }

  /** Same, from a builder given further options (e.g. the image reference to record). */
  DiskResult makeDisk(DiskBuilder b) throws IOException {
    DiskResult r = b.output(disk).espSize(64 * MIB).rootSize(24 * MIB).size(400 * MIB).build();
    unpackEsp();
    boot();
    return r;
  }

  GptTable table() throws IOException {
    try (FileChannel ch = FileChannel.open(disk, StandardOpenOption.READ)) {
      return GptTable.read(ch);
    }
  }

  GptPartition partition(String label) throws IOException {
    return table().find(label).orElseThrow();
  }

  private void unpackEsp() throws IOException {
    GptPartition p = partition("esp");
    try (FileChannel ch = FileChannel.open(disk, StandardOpenOption.READ)) {
      Fat32Reader fat = Fat32Reader.open(ch, p.offsetBytes(), p.sizeBytes());
      copyDir(fat, "", esp);
    }
  }

  private static void copyDir(Fat32Reader fat, String path, Path to) throws IOException {
    for (Fat32Reader.Entry e : fat.list(path)) {
      if (e.name().equals(".") || e.name().equals("..")) continue;
      String child = path.isEmpty() ? e.name() : path + "/" + e.name();
      if (e.directory()) {
        copyDir(fat, child, Files.createDirectories(to.resolve(e.name())));
      } else {
        Files.write(to.resolve(e.name()), fat.readFile(child));
      }
    }
  }

  // ------------------------------------------------------------------ boots

  /**
   * A reboot as systemd-boot 252 does it: the preferred entry boots; a counted one with tries left
   * is renamed first ({@code +3} → {@code +2-1}). Writes its options as /proc/cmdline and a new boot id;
   * the health verdict of the last boot is gone (/run is a tmpfs).
   */
  BootEntry boot() throws IOException {
    BootEntries entries = BootEntries.at(esp);
    BootEntry e = entries.preferred().orElseThrow(() -> new AssertionError("no entry to boot"));
    if (e.counted() && e.triesLeft() > 0) {
      String name = String.format("basalt-%08d-%s+%d-%d.conf", e.serial(), e.slot().id(), e.triesLeft() - 1, e.triesDone() + 1);
      Path d = esp.resolve("loader/entries");
      Files.move(d.resolve(e.fileName()), d.resolve(name));
    }
    Files.createDirectories(sysroot.resolve("proc/sys/kernel/random"));
    Files.writeString(sysroot.resolve("proc/cmdline"), e.options() + "\n");
    Files.writeString(sysroot.resolve("proc/sys/kernel/random/boot_id"), "boot-" + (++boots) + "\n");
    Files.deleteIfExists(sysroot.resolve("run/basalt/health.status"));
    return e;
  }

  /** The health runner's verdict for this boot (and blessing on success, as basalt-bless does). */
  void health(boolean passed) throws IOException {
    Files.createDirectories(sysroot.resolve("run/basalt"));
    Files.writeString(sysroot.resolve("run/basalt/health.status"), passed ? "passed\n" : "failed required: 10-mounts\n");
    if (passed) {
      BootEntries entries = BootEntries.at(esp);
      String cmdline = Files.readString(sysroot.resolve("proc/cmdline")).strip();
      for (BootEntry e : entries.list()) if (e.options().equals(cmdline)) entries.bless(e);
    }
  }

  // ------------------------------------------------------------------ helpers

  static String sha256(Path file, long offset, long length) throws IOException {
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
      MessageDigest md = MessageDigest.getInstance("SHA-256");
      java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(1 << 20);
      long pos = offset;
      long end = offset + length;
      while (pos < end) {
        b.clear().limit((int) Math.min(b.capacity(), end - pos));
        int n = ch.read(b, pos);
        if (n < 0) break;
        md.update(b.flip());
        pos += n;
      }
      return HexFormat.of().formatHex(md.digest());
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  /** Copies a region of the disk into its own file (for fsck.erofs / veritysetup). */
  Path extract(String label, long length, String name) throws IOException {
    GptPartition p = partition(label);
    Path out = dir.resolve(name);
    try (FileChannel in = FileChannel.open(disk, StandardOpenOption.READ);
        FileChannel o = FileChannel.open(out, StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING)) {
      long n = length < 0 ? p.sizeBytes() : length;
      long done = 0;
      while (done < n) done += in.transferTo(p.offsetBytes() + done, n - done, o);
    }
    return out;
  }

  static List<String> listTree(Path root) throws IOException {
    try (Stream<Path> s = Files.walk(root)) {
      return s.filter(Files::isRegularFile).map(p -> root.relativize(p).toString()).sorted().toList();
    }
  }

  static byte[] random(int n, long seed) {
    byte[] b = new byte[n];
    new Random(seed).nextBytes(b);
    return b;
  }

  private static void dir(Path root, String... paths) throws IOException {
    for (String p : paths) Files.createDirectories(root.resolve(p));
  }

  private static void file(Path root, String path, byte[] content) throws IOException {
    Path p = root.resolve(path);
    Files.createDirectories(p.getParent());
    Files.write(p, content);
    Files.setPosixFilePermissions(p, PosixFilePermissions.fromString("rw-r--r--"));
    Files.setLastModifiedTime(p, FileTime.fromMillis(1_700_000_000_000L));
  }

  private static void exe(Path root, String path, String content) throws IOException {
    file(root, path, content.getBytes(StandardCharsets.UTF_8));
    Files.setPosixFilePermissions(root.resolve(path), PosixFilePermissions.fromString("rwxr-xr-x"));
  }
}

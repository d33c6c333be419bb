package dev.basalt.image.lint;

import dev.basalt.image.initramfs.Compression;
import dev.basalt.image.initramfs.Initramfs;
import dev.basalt.image.initramfs.InitramfsException;
import dev.basalt.image.lint.RootFs.Kind;
import dev.basalt.image.lint.RootFs.Node;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * Checks an image's root filesystem against the bootable-image contract (ARCHITECTURE §3) and
 * says, for each point that fails, what is wrong and how to fix it. Reads the kernel's header,
 * the initramfs, the systemd-boot binary's header and the kargs.d files; a {@link TreeRootFs}
 * must keep their content (its default, {@link TreeRootFs#LINT_CONTENT}, does).
 */
public final class ImageLint {
  private static final Map<String, String> EFI_SUFFIX = Map.of(
      "x86_64", "x64", "aarch64", "aa64", "x86", "ia32", "arm", "arm", "riscv64", "riscv64",
      "loongarch64", "loongarch64");
  private static final Map<String, String> DEBIAN_NAMES = Map.of(
      "amd64", "x86_64", "arm64", "aarch64", "i386", "x86", "armhf", "arm", "riscv64", "riscv64");
  private static final List<String> MODULE_SUFFIXES = List.of(".ko", ".ko.xz", ".ko.zst", ".ko.gz");
  private static final String PREINIT = "usr/lib/basalt/preinit";
  private static final String KARGS_DIR = "usr/lib/bootc/kargs.d";

  private final String architecture;

  private ImageLint(String architecture) { this.architecture = architecture; }

  /** A lint for x86_64 images. */
  public static ImageLint create() { return builder().build(); }

  public static Builder builder() { return new Builder(); }

  /** Options of a lint. */
  public static final class Builder {
    private String architecture = "x86_64";

    private Builder() {}

    /**
     * The image's architecture, in bootc's (Rust's) naming: x86_64 (default), aarch64, x86, arm,
     * riscv64, loongarch64. Selects the systemd-boot binary name and filters kargs.d files.
     */
    public Builder architecture(String architecture) {
      if (architecture == null || architecture.isBlank()) {
        throw new IllegalArgumentException("architecture must not be empty (use x86_64 or aarch64)");
      }
      if (DEBIAN_NAMES.containsKey(architecture) && !EFI_SUFFIX.containsKey(architecture)) {
        throw new IllegalArgumentException("architecture '" + architecture + "' is a Debian name; kargs.d uses"
            + " Rust names: use '" + DEBIAN_NAMES.get(architecture) + "'");
      }
      if (!EFI_SUFFIX.containsKey(architecture)) {
        throw new IllegalArgumentException("unknown architecture '" + architecture + "' (one of "
            + new java.util.TreeSet<>(EFI_SUFFIX.keySet()) + ")");
      }
      this.architecture = architecture;
      return this;
    }

    public ImageLint build() { return new ImageLint(architecture); }
  }

  /** Runs every check on {@code fs}. */
  public LintReport check(RootFs fs) throws IOException {
    Run run = new Run(fs);
    Map<String, String> kernels = run.kernels();
    Optional<LintReport.BootFiles> boot = Optional.empty();
    for (var k : kernels.entrySet()) {
      LintReport.BootFiles bf = run.initramfs(k.getKey(), k.getValue());
      if (kernels.size() == 1) boot = Optional.of(bf);
    }
    run.systemdBoot();
    run.shell();
    run.init();
    List<String> kargs = run.kargs();
    run.nodeLayer();
    return new LintReport(run.findings, boot, kargs);
  }

  /** One lint pass over one image. */
  private final class Run {
    private final RootFs fs;
    private final List<Finding> findings = new ArrayList<>();

    Run(RootFs fs) { this.fs = fs; }

    private void error(Check check, String path, String problem, String fix) {
      findings.add(new Finding(Severity.ERROR, check, path == null ? null : "/" + path, problem, fix));
    }

    private void warning(Check check, String path, String problem, String fix) {
      findings.add(new Finding(Severity.WARNING, check, path == null ? null : "/" + path, problem, fix));
    }

    private Optional<Node> file(String path) throws IOException {
      return fs.resolve(path).filter(n -> n.kind() == Kind.REGULAR_FILE);
    }

    private List<String> listDir(String path) throws IOException {
      Optional<Node> dir = fs.resolve(path).filter(n -> n.kind() == Kind.DIRECTORY);
      return dir.isPresent() ? fs.list(dir.get().path()) : List.of();
    }

    private byte[] head(Node file, int n) throws IOException {
      try (InputStream in = fs.open(file.path())) {
        return in.readNBytes(n);
      }
    }

    /** kver → kernel path (relative), the bootc location winning over /boot. */
    Map<String, String> kernels() throws IOException {
      Map<String, String> found = new TreeMap<>();
      for (String kver : listDir("usr/lib/modules")) {
        String p = "usr/lib/modules/" + kver + "/vmlinuz";
        if (file(p).isPresent()) found.put(kver, p);
      }
      for (String name : listDir("boot")) {
        if (name.startsWith("vmlinuz-") && name.length() > 8 && file("boot/" + name).isPresent()) {
          found.putIfAbsent(name.substring(8), "boot/" + name);
        }
      }
      if (found.isEmpty()) {
        error(Check.KERNEL, null, "no kernel: neither /usr/lib/modules/<kver>/vmlinuz nor /boot/vmlinuz-<kver> exists",
            "install a kernel in the image (Debian/Ubuntu: apt-get install linux-image-amd64;"
                + " Fedora/CentOS: dnf install kernel)");
      } else if (found.size() > 1) {
        error(Check.KERNEL, null, "found " + found.size() + " kernels, Basalt boots exactly one: "
                + String.join(", ", found.values().stream().map(p -> "/" + p).toList()),
            "remove all kernels but one (Debian: apt-get purge linux-image-<kver> for each old <kver>;"
                + " Fedora: dnf remove kernel-core-<version>)");
      }
      // The x86 boot protocol header; other architectures' images are not inspected.
      for (var k : architecture.startsWith("x86") ? found.entrySet() : Map.<String, String>of().entrySet()) {
        Node n = file(k.getValue()).orElseThrow();
        byte[] h = head(n, 0x206);
        if (h.length < 0x206 || h[0x202] != 'H' || h[0x203] != 'd' || h[0x204] != 'r' || h[0x205] != 'S') {
          error(Check.KERNEL, k.getValue(), "not a bootable x86 Linux kernel image (no 'HdrS' boot header at"
                  + " offset 0x202; " + n.size() + " bytes)",
              "reinstall the kernel package (Debian: apt-get install --reinstall linux-image-" + k.getKey() + ")");
        }
      }
      return found;
    }

    /** Checks the initramfs of one kernel; returns the boot files found. */
    LintReport.BootFiles initramfs(String kver, String kernel) throws IOException {
      String path = null;
      for (String p : List.of("usr/lib/modules/" + kver + "/initramfs.img", "boot/initrd.img-" + kver)) {
        if (file(p).isPresent()) {
          path = p;
          break;
        }
      }
      String regenerate = "update-initramfs -u -k " + kver + " (dracut: dracut --force --kver " + kver + ")";
      if (path == null) {
        error(Check.INITRAMFS, null, "kernel " + kver + " has no initramfs: neither /usr/lib/modules/" + kver
                + "/initramfs.img nor /boot/initrd.img-" + kver + " exists",
            "Debian/Ubuntu: apt-get install initramfs-tools, add erofs and overlay to /etc/initramfs-tools/modules,"
                + " then update-initramfs -c -k " + kver + "; dracut: dracut --add-drivers 'erofs overlay' --kver "
                + kver + " /usr/lib/modules/" + kver + "/initramfs.img");
        return new LintReport.BootFiles(kver, "/" + kernel, null, null);
      }
      Initramfs image;
      try (InputStream in = fs.open(file(path).orElseThrow().path())) {
        image = Initramfs.read(in, "/" + path);
      } catch (InitramfsException e) {
        error(Check.INITRAMFS, path, "cannot be read: " + e.getMessage(),
            "regenerate it with a supported compression (gzip, zstd or xz; COMPRESS= in"
                + " /etc/initramfs-tools/initramfs.conf): " + regenerate);
        return new LintReport.BootFiles(kver, "/" + kernel, "/" + path, null);
      }
      Compression compression = image.compression();
      if (!image.kernelVersions().isEmpty() && !image.kernelVersions().contains(kver)) {
        error(Check.INITRAMFS, path, "holds modules for kernel " + String.join(", ", image.kernelVersions())
            + ", not for " + kver, "regenerate it for this kernel: " + regenerate);
      }
      if (image.module("erofs", kver).isEmpty()) {
        error(Check.INITRAMFS_EROFS, path, "no erofs module (no erofs.ko under lib/modules/" + kver
                + "/ and not in modules.builtin), so it cannot mount Basalt's EROFS root",
            "add `erofs` to /etc/initramfs-tools/modules and run update-initramfs -u -k " + kver
                + " (dracut: add_drivers+=\" erofs \" in /etc/dracut.conf.d/basalt.conf, then dracut --force --kver "
                + kver + ")");
      }
      if (image.module("overlay", kver).isEmpty()) {
        String fix = "add `overlay` to /etc/initramfs-tools/modules and run update-initramfs -u -k " + kver
            + " (dracut: add_drivers+=\" overlay \")";
        if (rootHasModule(kver, "kernel/fs/overlayfs/overlay")) {
          // The kernel loads it from the root on demand (request_module → modprobe) when preinit mounts /etc.
          warning(Check.INITRAMFS_OVERLAY, path, "no overlay module; the root's copy will be loaded on demand"
              + " when preinit mounts the /etc overlay", fix);
        } else {
          error(Check.INITRAMFS_OVERLAY, path, "no overlay module, neither in the initramfs nor under /usr/lib/modules/"
              + kver + "/kernel/fs/overlayfs/: preinit cannot overlay /etc", "use a kernel with CONFIG_OVERLAY_FS and "
              + fix);
        }
      }
      return new LintReport.BootFiles(kver, "/" + kernel, "/" + path, compression);
    }

    private boolean rootHasModule(String kver, String stem) throws IOException {
      for (String suffix : MODULE_SUFFIXES) {
        if (file("usr/lib/modules/" + kver + "/" + stem + suffix).isPresent()) return true;
      }
      return false;
    }

    void systemdBoot() throws IOException {
      String name = "systemd-boot" + EFI_SUFFIX.get(architecture) + ".efi";
      String path = "usr/lib/systemd/boot/efi/" + name;
      Optional<Node> efi = file(path);
      if (efi.isEmpty()) {
        error(Check.SYSTEMD_BOOT, path, "missing: the disk's bootloader (EFI/BOOT/BOOT"
                + EFI_SUFFIX.get(architecture).toUpperCase(java.util.Locale.ROOT) + ".EFI) is taken from the image",
            "Debian/Ubuntu: apt-get install systemd-boot-efi; Fedora: dnf install systemd-boot-unsigned");
        return;
      }
      byte[] h = head(efi.get(), 2);
      if (h.length < 2 || h[0] != 'M' || h[1] != 'Z') {
        error(Check.SYSTEMD_BOOT, path, "not an EFI (PE) binary: no 'MZ' header",
            "reinstall it (Debian/Ubuntu: apt-get install --reinstall systemd-boot-efi)");
      }
    }

    void shell() throws IOException {
      Optional<Node> sh = file("bin/sh");
      if (sh.isEmpty()) {
        error(Check.SHELL, "bin/sh", "does not resolve to a file (missing, a dangling symlink or a symlink loop)",
            "install a POSIX shell that provides /bin/sh (Debian/Ubuntu: apt-get install dash;"
                + " Fedora: dnf install bash); usrmerged images also need the /bin -> usr/bin link");
      } else if ((sh.get().metadata().permissions() & 0111) == 0) {
        error(Check.SHELL, "bin/sh", "resolves to /" + sh.get().path() + ", which is not executable (mode 0"
            + Integer.toOctalString(sh.get().metadata().permissions()) + ")", "chmod 0755 /" + sh.get().path());
      }
    }

    void init() throws IOException {
      Optional<Node> init = file("sbin/init");
      Optional<Node> systemd = file("usr/lib/systemd/systemd");
      String install = "Debian/Ubuntu: apt-get install systemd-sysv (it links /sbin/init to systemd)";
      if (init.isPresent()) {
        String target = init.get().path();
        if (!target.endsWith("/systemd") && !target.equals("systemd")) {
          error(Check.INIT, "sbin/init", "resolves to /" + target + ", not to systemd; Basalt's boot assessment"
              + " and health checks need systemd as init", install);
        }
      } else if (systemd.isPresent()) {
        warning(Check.INIT, "sbin/init", "missing, although systemd is at /usr/lib/systemd/systemd;"
            + " preinit ends with exec /sbin/init", install);
      } else {
        error(Check.INIT, null, "systemd is not installed (neither /sbin/init nor /usr/lib/systemd/systemd)",
            "Debian/Ubuntu: apt-get install systemd systemd-sysv; Fedora: dnf install systemd");
      }
    }

    List<String> kargs() throws IOException {
      List<String> kargs = new ArrayList<>();
      for (String name : listDir(KARGS_DIR)) {
        if (!name.endsWith(".toml")) continue; // bootc reads only *.toml
        String path = KARGS_DIR + "/" + name;
        Optional<Node> f = file(path);
        if (f.isEmpty()) {
          error(Check.KARGS, path, "not a regular file (or a dangling symlink)", "make it a TOML file or remove it");
          continue;
        }
        byte[] content;
        try (InputStream in = fs.open(f.get().path())) {
          content = in.readAllBytes();
        }
        try {
          KargsFile k = KargsFile.parse(content);
          if (k.appliesTo(architecture)) kargs.addAll(k.kargs());
        } catch (KargsFile.KargsException e) {
          error(Check.KARGS, path, e.getMessage(), "write it in bootc's kargs.d format, e.g."
              + " kargs = [\"console=ttyS0,115200\", \"quiet\"] and optionally match-architectures = [\"x86_64\"]");
        }
      }
      return kargs;
    }

    void nodeLayer() throws IOException {
      if (file(PREINIT).isEmpty()) {
        warning(Check.NODE_LAYER, PREINIT, "missing: the image has no Basalt node layer yet",
            "nothing to do for a disk: `basalt disk` adds the node layer when it is missing;"
                + " `basalt image build` adds it when building the image");
      }
    }
  }

}

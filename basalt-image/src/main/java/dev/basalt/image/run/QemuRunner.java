package dev.basalt.image.run;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.concurrent.TimeUnit;

/**
 * {@code basalt run}: boots a disk image in QEMU the way a UEFI machine would boot it — OVMF
 * firmware with a variable store kept next to the disk (so boot entries and systemd-boot's
 * variables persist across runs, like NVRAM), the disk on virtio, user-mode networking with an
 * optional SSH port forward, and the serial console on the terminal ({@code -nographic}: Ctrl-A X
 * quits). KVM is used only when it really runs a guest here (see {@link #kvmWorks()}), else TCG.
 *
 * <pre>{@code
 * int status = QemuRunner.builder(Path.of("disk.qcow2")).memoryMiB(2048).cpus(2).sshPort(2222).build().run();
 * }</pre>
 */
public final class QemuRunner {

  /** How the virtual CPU runs. */
  public enum Accel {
    /** KVM when {@link #kvmWorks()}, else TCG. */
    AUTO,
    KVM,
    TCG
  }

  /** Disk image formats QEMU is told about explicitly (never left to its own probing). */
  public enum Format { RAW, QCOW2 }

  static final Path OVMF_CODE = Path.of("/usr/share/OVMF/OVMF_CODE_4M.fd");
  static final Path OVMF_VARS = Path.of("/usr/share/OVMF/OVMF_VARS_4M.fd");
  private static final byte[] QCOW2_MAGIC = {'Q', 'F', 'I', (byte) 0xfb};

  private final Path disk;
  private final Format format;
  private final int memoryMiB;
  private final int cpus;
  private final int sshPort;
  private final Accel accel;
  private final Path varsFile;
  private final Path ovmfCode;
  private final Path ovmfVarsTemplate;
  private final String qemu;
  private final boolean watchdog;

  private QemuRunner(Builder b, Format format) {
    this.disk = b.disk;
    this.format = format;
    this.memoryMiB = b.memoryMiB;
    this.cpus = b.cpus;
    this.sshPort = b.sshPort;
    this.accel = b.accel;
    this.varsFile = b.varsFile != null ? b.varsFile : b.disk.resolveSibling(b.disk.getFileName() + ".efivars");
    this.ovmfCode = b.ovmfCode;
    this.ovmfVarsTemplate = b.ovmfVars;
    this.qemu = b.qemu;
    this.watchdog = b.watchdog;
  }

  public static Builder builder(Path disk) {
    return new Builder(disk);
  }

  /** Options of a run; each setter checks its value, {@link #build()} checks the files. */
  public static final class Builder {
    private final Path disk;
    private Format format;
    private int memoryMiB = 2048;
    private int cpus = 2;
    private int sshPort;
    private Accel accel = Accel.AUTO;
    private Path varsFile;
    private Path ovmfCode = OVMF_CODE;
    private Path ovmfVars = OVMF_VARS;
    private String qemu = "qemu-system-x86_64";
    private boolean watchdog = true;

    private Builder(Path disk) {
      this.disk = Objects.requireNonNull(disk, "disk");
    }

    /** Forces the image format; by default it is probed (qcow2 magic) and checked against the extension. */
    public Builder format(Format f) {
      this.format = Objects.requireNonNull(f, "format");
      return this;
    }

    /** {@code --memory}, in MiB (256..1048576); default 2048. */
    public Builder memoryMiB(int mib) {
      if (mib < 256 || mib > 1 << 20) throw new IllegalArgumentException("--memory must be 256..1048576 MiB, got " + mib);
      this.memoryMiB = mib;
      return this;
    }

    /** {@code --cpus} (1..256); default 2. */
    public Builder cpus(int n) {
      if (n < 1 || n > 256) throw new IllegalArgumentException("--cpus must be 1..256, got " + n);
      this.cpus = n;
      return this;
    }

    /** {@code --ssh-port}: forwards 127.0.0.1:PORT to the guest's port 22; 0 (default) for none. */
    public Builder sshPort(int port) {
      if (port < 0 || port > 65535) throw new IllegalArgumentException("--ssh-port must be 1..65535, got " + port);
      this.sshPort = port;
      return this;
    }

    public Builder accel(Accel a) {
      this.accel = Objects.requireNonNull(a, "accel");
      return this;
    }

    /** The UEFI variable store; default {@code <disk>.efivars}, created from OVMF's template when missing. */
    public Builder varsFile(Path file) {
      this.varsFile = Objects.requireNonNull(file, "varsFile");
      return this;
    }

    public Builder ovmf(Path code, Path varsTemplate) {
      this.ovmfCode = Objects.requireNonNull(code, "code");
      this.ovmfVars = Objects.requireNonNull(varsTemplate, "varsTemplate");
      return this;
    }

    /** The QEMU binary (a name on PATH or a path); default {@code qemu-system-x86_64}. */
    public Builder qemu(String binary) {
      this.qemu = Objects.requireNonNull(binary, "binary");
      return this;
    }

    /** An i6300esb watchdog for systemd to drive (default on): a hung trial boot resets. */
    public Builder watchdog(boolean on) {
      this.watchdog = on;
      return this;
    }

    /**
     * @throws IOException when the disk or the firmware is missing, or the disk's content does
     *     not match its extension (a {@code .qcow2} that is not qcow2, a {@code .raw}/{@code .img}
     *     that is)
     */
    public QemuRunner build() throws IOException {
      if (!Files.isRegularFile(disk)) throw new IOException("disk image not found: " + disk);
      for (Path p : List.of(ovmfCode, ovmfVars)) {
        if (!Files.isRegularFile(p)) throw new IOException("UEFI firmware not found: " + p + " (Debian/Ubuntu: apt-get install ovmf)");
      }
      Format probed = probe(disk);
      String name = disk.getFileName().toString().toLowerCase(Locale.ROOT);
      if (format == null) {
        if (name.endsWith(".qcow2") && probed != Format.QCOW2) {
          throw new IOException(disk + " is named .qcow2 but is not a qcow2 image (no QFI\\xfb magic)");
        }
        if ((name.endsWith(".raw") || name.endsWith(".img")) && probed == Format.QCOW2) {
          throw new IOException(disk + " is named " + name.substring(name.lastIndexOf('.')) + " but holds a qcow2 image");
        }
      }
      return new QemuRunner(this, format != null ? format : probed);
    }
  }

  /** QCOW2 when the file starts with the qcow2 magic, else RAW. */
  public static Format probe(Path disk) throws IOException {
    try (InputStream in = Files.newInputStream(disk)) {
      return java.util.Arrays.equals(in.readNBytes(4), QCOW2_MAGIC) ? Format.QCOW2 : Format.RAW;
    }
  }

  public Format format() {
    return format;
  }

  public Path varsFile() {
    return varsFile;
  }

  /**
   * The QEMU command line for an accelerator (AUTO is resolved by the caller).
   *
   * @param console extra arguments for the console, e.g. {@code -nographic}
   */
  public List<String> command(Accel resolved, List<String> console) {
    if (resolved == Accel.AUTO) throw new IllegalArgumentException("resolve AUTO first (kvmWorks())");
    List<String> cmd = new ArrayList<>(List.of(qemu, "-machine", "q35", "-m", Integer.toString(memoryMiB),
        "-smp", Integer.toString(cpus)));
    if (resolved == Accel.KVM) {
      cmd.addAll(List.of("-accel", "kvm", "-cpu", "host"));
    } else {
      cmd.addAll(List.of("-accel", "tcg,thread=multi", "-cpu", "max"));
    }
    cmd.addAll(List.of(
        "-drive", "if=pflash,format=raw,unit=0,readonly=on,file=" + ovmfCode,
        "-drive", "if=pflash,format=raw,unit=1,file=" + varsFile,
        "-drive", "if=virtio,format=" + format.name().toLowerCase(Locale.ROOT) + ",file=" + disk,
        "-netdev", "user,id=net0" + (sshPort > 0 ? ",hostfwd=tcp:127.0.0.1:" + sshPort + "-:22" : ""),
        "-device", "virtio-net-pci,netdev=net0"));
    if (watchdog) cmd.addAll(List.of("-device", "i6300esb", "-action", "watchdog=reset"));
    cmd.addAll(console);
    return cmd;
  }

  /**
   * Boots the disk with the console on this terminal and returns QEMU's exit status (0 after
   * the guest powers off).
   */
  public int run() throws IOException {
    Accel resolved = accel == Accel.AUTO ? (kvmWorks() ? Accel.KVM : Accel.TCG) : accel;
    if (!Files.exists(varsFile)) Files.copy(ovmfVarsTemplate, varsFile);
    List<String> cmd = command(resolved, List.of("-nographic"));
    System.err.println("basalt run: " + disk + " (" + format.name().toLowerCase(Locale.ROOT) + ", "
        + (resolved == Accel.KVM ? "KVM" : "TCG, no usable KVM") + ", " + memoryMiB + " MiB, " + cpus + " CPUs"
        + (sshPort > 0 ? ", ssh -p " + sshPort + " root@127.0.0.1" : "") + "); Ctrl-A X quits");
    Process p = new ProcessBuilder(cmd).inheritIO().start();
    try {
      return p.waitFor();
    } catch (InterruptedException e) {
      p.destroy();
      Thread.currentThread().interrupt();
      throw new IOException("interrupted", e);
    }
  }

  /**
   * True when KVM really runs a guest here: {@code /dev/kvm} opens read-write and QEMU with
   * {@code -accel kvm -cpu host} (the CPU a KVM run uses) boots a one-sector guest that exits
   * through {@code isa-debug-exit} within 2 s. Nested setups where /dev/kvm exists but guests
   * fail or crawl get TCG. Measured on the CI machines: QEMU 7.2 aborts at once ("failed to set
   * MSR 0x10a") with {@code -cpu host}, which is also how a real boot fails there; with the default
   * CPU model the probe guest does run, but takes 3 s.
   */
  public boolean kvmWorks() {
    return kvmWorks(qemu, Path.of("/dev/kvm"), 2);
  }

  static boolean kvmWorks(String qemu, Path devKvm, long timeoutSeconds) {
    try (var ch = java.nio.channels.FileChannel.open(devKvm, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
      // openable
    } catch (IOException | UnsupportedOperationException | SecurityException e) {
      return false;
    }
    return probeBoots(qemu, "kvm", timeoutSeconds);
  }

  /** Whether QEMU with {@code accel} runs the probe sector to its exit within the timeout. */
  static boolean probeBoots(String qemu, String accel, long timeoutSeconds) {
    Path img = null;
    try {
      img = Files.createTempFile("basalt-kvm-probe", ".img");
      Files.write(img, probeSector());
      List<String> cpu = accel.equals("kvm") ? List.of("-cpu", "host") : List.of();
      List<String> cmd = new ArrayList<>(List.of(qemu, "-accel", accel));
      cmd.addAll(cpu);
      cmd.addAll(List.of("-machine", "pc", "-nodefaults", "-no-user-config",
          "-display", "none", "-m", "32", "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04",
          "-drive", "file=" + img + ",format=raw,if=ide"));
      Process p = new ProcessBuilder(cmd)
          .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
      if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        p.waitFor(5, TimeUnit.SECONDS);
        return false;
      }
      return p.exitValue() == 3; // isa-debug-exit: (1 << 1) | 1
    } catch (IOException e) {
      return false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    } finally {
      if (img != null) {
        try {
          Files.deleteIfExists(img);
        } catch (IOException ignored) {
          // temp file
        }
      }
    }
  }

  /** A BIOS boot sector: {@code mov al,1; out 0xf4,al; hlt; jmp $}, signature 0x55AA. */
  static byte[] probeSector() {
    byte[] b = new byte[512];
    byte[] code = {(byte) 0xB0, 0x01, (byte) 0xE6, (byte) 0xF4, (byte) 0xF4, (byte) 0xEB, (byte) 0xFE};
    System.arraycopy(code, 0, b, 0, code.length);
    b[510] = 0x55;
    b[511] = (byte) 0xAA;
    return b;
  }
}

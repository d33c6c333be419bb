package dev.basalt.image.lint;

/** The checks of the bootable-image contract (ARCHITECTURE §3), each with a stable id. */
public enum Check {
  KERNEL("kernel", "exactly one kernel: /usr/lib/modules/<kver>/vmlinuz or /boot/vmlinuz-<kver>"),
  INITRAMFS("initramfs", "the kernel's initramfs exists and can be read"),
  INITRAMFS_EROFS("initramfs-erofs", "the initramfs can mount an EROFS root (erofs module inside, or built in)"),
  INITRAMFS_OVERLAY("initramfs-overlay", "the overlay module is in the initramfs (or built in)"),
  SYSTEMD_BOOT("systemd-boot", "systemd-boot's EFI binary at /usr/lib/systemd/boot/efi/systemd-bootx64.efi"),
  SHELL("shell", "/bin/sh resolves to an executable file"),
  INIT("init", "systemd is init: /sbin/init resolves to systemd"),
  KARGS("kargs", "every /usr/lib/bootc/kargs.d/*.toml parses (bootc format)"),
  NODE_LAYER("node-layer", "the Basalt node layer: /usr/lib/basalt/preinit");

  private final String id;
  private final String description;

  Check(String id, String description) {
    this.id = id;
    this.description = description;
  }

  /** Stable id used in reports, e.g. {@code initramfs-erofs}. */
  public String id() { return id; }

  /** What the check requires, in one line. */
  public String description() { return description; }
}

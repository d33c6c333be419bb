package dev.basalt.fs.diskimage;

/** Output container formats. */
public enum DiskImageFormat {
  /** Raw bytes, written sparsely (all-zero 64 KiB chunks become holes). */
  RAW,
  /** qcow2 version 3, 64 KiB clusters, zero clusters unallocated (QEMU, OpenStack, libvirt). */
  QCOW2,
  /** Fixed VHD: the raw bytes plus a 512-byte footer; Azure needs a size that is a multiple of 1 MiB. */
  VHD,
  /** Stream-optimized VMDK: deflate-compressed 64 KiB grains with markers (VMware, AWS VM import). */
  VMDK
}

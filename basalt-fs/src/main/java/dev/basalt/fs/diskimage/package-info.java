/**
 * Disk image containers made from a raw disk image in one streaming pass, skipping all-zero
 * clusters: sparse raw, qcow2 v3, fixed VHD (Azure) and stream-optimized VMDK (VMware, AWS import).
 * Entry point: {@link dev.basalt.fs.diskimage.DiskImages#convert}.
 */
package dev.basalt.fs.diskimage;

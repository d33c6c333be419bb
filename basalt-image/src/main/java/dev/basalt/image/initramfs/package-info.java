/**
 * Reading initramfs images: concatenated cpio archives (newc, crc), uncompressed or compressed
 * with gzip, zstd or xz, as the kernel unpacks them. {@link dev.basalt.image.initramfs.Initramfs}
 * lists the members and answers whether a kernel module is inside or built in.
 */
package dev.basalt.image.initramfs;

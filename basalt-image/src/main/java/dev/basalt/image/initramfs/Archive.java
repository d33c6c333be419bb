package dev.basalt.image.initramfs;

/**
 * One cpio archive (up to its {@code TRAILER!!!}) inside an initramfs image.
 *
 * @param offset byte offset in the image where the archive starts; for a compressed archive,
 *     where its compressed stream starts (several archives may share one stream)
 * @param compression how it is stored
 * @param format {@code "newc"} (magic 070701) or {@code "crc"} (070702)
 * @param entries number of members, not counting the trailer
 */
public record Archive(long offset, Compression compression, String format, int entries) {}

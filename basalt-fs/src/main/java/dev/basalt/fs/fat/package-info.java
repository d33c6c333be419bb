/**
 * FAT32 file systems for EFI system partitions: {@link dev.basalt.fs.fat.Fat32Builder} lays out a
 * tree of directories and files (VFAT long names, unique {@code ~N} short names, contiguous
 * clusters, fixed timestamps and serial) and writes the whole volume into a file or a region of a
 * disk image; {@link dev.basalt.fs.fat.Fat32Reader} lists and reads such a volume back, so a node can
 * read its ESP, change files and rewrite the whole volume.
 */
package dev.basalt.fs.fat;

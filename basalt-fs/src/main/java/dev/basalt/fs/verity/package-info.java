/**
 * dm-verity hash trees in the format of {@code veritysetup format} (format version 1, sha256,
 * 4 KiB data and hash blocks, on-disk superblock). {@link dev.basalt.fs.verity.VerityHasher} takes
 * data blocks in order (fed while the data is being written, or read from a file region by
 * {@link dev.basalt.fs.verity.Verity#format}); {@link dev.basalt.fs.verity.Verity#hashDeviceSize}
 * sizes the hash partition before any data exists.
 */
package dev.basalt.fs.verity;

/**
 * The filesystem tree as a stream of entries: the contract between producers (the OCI layer
 * merge, a directory walker, a tar reader) and consumers (the EROFS writer, the tar writer).
 *
 * <p>Paths are relative, '/'-separated, normalized (no {@code .}, {@code ..}, empty or trailing
 * components); the root directory is the empty path {@code ""}. Each path appears at most once in
 * a stream. Entries may arrive in any order — a producer that merges layers top-down learns a
 * directory's metadata after its children — so consumers must not assume parents come first.
 * A directory that never appears explicitly is implied with {@link Metadata#IMPLIED_DIRECTORY}.
 * A {@link TreeEntry.Hardlink} names an entry that appeared <em>earlier</em> in the same stream.
 */
package dev.basalt.fs.tree;

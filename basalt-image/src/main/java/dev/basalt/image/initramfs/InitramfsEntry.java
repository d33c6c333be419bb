package dev.basalt.image.initramfs;

import java.util.Objects;

/**
 * One member of a cpio archive inside an initramfs.
 *
 * @param path normalized relative path ({@code ""} for the root, {@code "."} in cpio terms)
 * @param mode the full st_mode: file type bits and permissions
 * @param size data size in bytes from the header (0 for directories and devices; the target
 *     length for symlinks)
 * @param linkTarget the symlink target, or {@code null} for other kinds
 * @param archive index into {@link Initramfs#archives()} of the archive holding this entry
 */
public record InitramfsEntry(String path, int mode, long size, String linkTarget, int archive) {

  public InitramfsEntry {
    Objects.requireNonNull(path, "path");
    if (size < 0) throw new IllegalArgumentException("negative size for " + path);
  }

  /** The kind of file, from the type bits of {@link #mode()}. */
  public Kind kind() { return Kind.of(mode); }

  /** Permission bits (low 12 bits of the mode). */
  public int permissions() { return mode & 07777; }

  /** File types of cpio members. */
  public enum Kind {
    FIFO, CHARACTER_DEVICE, DIRECTORY, BLOCK_DEVICE, REGULAR_FILE, SYMLINK, SOCKET, UNKNOWN;

    static Kind of(int mode) {
      return switch (mode & 0170000) {
        case 0010000 -> FIFO;
        case 0020000 -> CHARACTER_DEVICE;
        case 0040000 -> DIRECTORY;
        case 0060000 -> BLOCK_DEVICE;
        case 0100000 -> REGULAR_FILE;
        case 0120000 -> SYMLINK;
        case 0140000 -> SOCKET;
        default -> UNKNOWN;
      };
    }
  }
}

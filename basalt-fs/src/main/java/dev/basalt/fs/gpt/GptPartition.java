package dev.basalt.fs.gpt;

import java.util.Objects;
import java.util.UUID;

/**
 * One used entry of a partition table.
 *
 * @param number 1-based entry number (the {@code N} in {@code /dev/sdaN})
 * @param type partition type GUID ({@link PartitionTypes})
 * @param uuid unique partition GUID ({@code PARTUUID})
 * @param firstLba first 512-byte sector
 * @param lastLba last sector, inclusive
 * @param attributes attribute bits ({@link #ATTR_READ_ONLY}, ...)
 * @param name partition label ({@code PARTLABEL}), at most 36 UTF-16 code units
 */
public record GptPartition(int number, UUID type, UUID uuid, long firstLba, long lastLba, long attributes, String name) {

  /** Bit 0: required by the platform. */
  public static final long ATTR_REQUIRED = 1L;
  /** Bit 2: legacy BIOS bootable. */
  public static final long ATTR_LEGACY_BIOS_BOOTABLE = 1L << 2;
  /** Bit 59 (Discoverable Partitions): grow the file system to the partition on first mount. */
  public static final long ATTR_GROWFS = 1L << 59;
  /** Bit 60 (Discoverable Partitions): mount read-only. */
  public static final long ATTR_READ_ONLY = 1L << 60;
  /** Bit 63 (Discoverable Partitions): do not mount automatically. */
  public static final long ATTR_NO_AUTO = 1L << 63;

  /** Longest label in UTF-16 code units. */
  public static final int MAX_NAME_CHARS = 36;

  public GptPartition {
    Objects.requireNonNull(type, "type");
    Objects.requireNonNull(uuid, "uuid");
    validateName(name);
    if (number < 1) throw new IllegalArgumentException("partition number must be >= 1, got " + number);
    if (firstLba < 1 || lastLba < firstLba) {
      throw new IllegalArgumentException("partition " + number + " '" + name + "': bad sector range "
          + firstLba + ".." + lastLba);
    }
  }

  /** Sector count. */
  public long sectors() { return lastLba - firstLba + 1; }

  /** Byte offset of the first sector. */
  public long offsetBytes() { return firstLba * GptTable.SECTOR_SIZE; }

  /** Size in bytes. */
  public long sizeBytes() { return sectors() * GptTable.SECTOR_SIZE; }

  /** Whether all bits of {@code attribute} are set. */
  public boolean has(long attribute) { return (attributes & attribute) == attribute; }

  static void validateName(String name) {
    if (name == null) throw new IllegalArgumentException("partition name is null");
    if (name.length() > MAX_NAME_CHARS) {
      throw new IllegalArgumentException("partition name '" + name + "' is " + name.length()
          + " UTF-16 units long, at most " + MAX_NAME_CHARS + " allowed");
    }
    for (int i = 0; i < name.length(); i++) {
      char c = name.charAt(i);
      if (c == 0) throw new IllegalArgumentException("partition name '" + name.replace('\0', '?') + "' contains NUL");
      if (Character.isSurrogate(c) && !(Character.isHighSurrogate(c) && i + 1 < name.length()
          && Character.isLowSurrogate(name.charAt(++i)))) {
        throw new IllegalArgumentException("partition name '" + name + "' contains a lone surrogate");
      }
    }
  }
}

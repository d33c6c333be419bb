package dev.basalt.fs.gpt;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.zip.CRC32;

/**
 * A GUID Partition Table for a disk of {@code sectors} 512-byte sectors, with the standard 128-entry
 * array (so the first usable sector is 34 and the last is {@code sectors - 34}).
 *
 * @param diskGuid disk GUID
 * @param sectors disk size in sectors
 * @param partitions used entries, ordered by number
 */
public record GptTable(UUID diskGuid, long sectors, List<GptPartition> partitions) {
  public static final int SECTOR_SIZE = 512;
  /** Partition alignment used by the builder: 1 MiB. */
  public static final long ALIGNMENT = 1 << 20;
  /** Entries in the array (the standard 128 × 128 bytes = 32 sectors). */
  public static final int MAX_PARTITIONS = 128;
  static final int ENTRY_SIZE = 128;
  static final int ENTRY_ARRAY_SECTORS = MAX_PARTITIONS * ENTRY_SIZE / SECTOR_SIZE;
  static final int HEADER_SIZE = 92;
  private static final byte[] SIGNATURE = "EFI PART".getBytes(StandardCharsets.US_ASCII);
  /** Smallest disk: MBR, 2 × (header + array) and 1 MiB for partitions. */
  public static final long MIN_DISK_SECTORS = 2 + 2L * (1 + ENTRY_ARRAY_SECTORS) + 2048;

  public GptTable {
    Objects.requireNonNull(diskGuid, "diskGuid");
    partitions = List.copyOf(partitions);
    validate(sectors, partitions);
  }

  /** First sector a partition may use. */
  public long firstUsableLba() { return 2 + ENTRY_ARRAY_SECTORS; }

  /** Last sector a partition may use. */
  public long lastUsableLba() { return sectors - 2 - ENTRY_ARRAY_SECTORS; }

  /** Disk size in bytes. */
  public long sizeBytes() { return sectors * SECTOR_SIZE; }

  /** The partition with this label ({@code PARTLABEL}), if exactly one has it. */
  public Optional<GptPartition> find(String name) {
    List<GptPartition> hits = partitions.stream().filter(p -> p.name().equals(name)).toList();
    if (hits.size() > 1) throw new IllegalStateException("partition label '" + name + "' is used " + hits.size() + " times");
    return hits.stream().findFirst();
  }

  /** The partition with this number. */
  public Optional<GptPartition> partition(int number) {
    return partitions.stream().filter(p -> p.number() == number).findFirst();
  }

  /** Rounds {@code bytes} up to the 1 MiB alignment. */
  public static long alignUp(long bytes) { return Math.ceilDiv(bytes, ALIGNMENT) * ALIGNMENT; }

  /** Rounds {@code bytes} down to the 1 MiB alignment. */
  public static long alignDown(long bytes) { return Math.floorDiv(bytes, ALIGNMENT) * ALIGNMENT; }

  private static void validate(long sectors, List<GptPartition> parts) {
    if (sectors < MIN_DISK_SECTORS) {
      throw new IllegalArgumentException("disk of " + sectors * SECTOR_SIZE + " bytes is too small for a GPT; need at least "
          + MIN_DISK_SECTORS * SECTOR_SIZE);
    }
    if (parts.size() > MAX_PARTITIONS) {
      throw new IllegalArgumentException("too many partitions: " + parts.size() + ", a GPT holds " + MAX_PARTITIONS);
    }
    long first = 2 + ENTRY_ARRAY_SECTORS;
    long last = sectors - 2 - ENTRY_ARRAY_SECTORS;
    Set<Integer> numbers = new HashSet<>();
    Set<UUID> uuids = new HashSet<>();
    for (GptPartition p : parts) {
      String what = "partition " + p.number() + " '" + p.name() + "'";
      if (p.number() > MAX_PARTITIONS) throw new IllegalArgumentException(what + ": number above " + MAX_PARTITIONS);
      if (!numbers.add(p.number())) throw new IllegalArgumentException(what + ": number used twice");
      if (!uuids.add(p.uuid())) throw new IllegalArgumentException(what + ": unique GUID " + p.uuid() + " used twice");
      if (p.firstLba() < first || p.lastLba() > last) {
        throw new IllegalArgumentException(what + ": sectors " + p.firstLba() + ".." + p.lastLba()
            + " lie outside the usable range " + first + ".." + last + " of a " + sectors * SECTOR_SIZE + "-byte disk");
      }
    }
    List<GptPartition> byStart = parts.stream().sorted(Comparator.comparingLong(GptPartition::firstLba)).toList();
    for (int i = 1; i < byStart.size(); i++) {
      GptPartition a = byStart.get(i - 1);
      GptPartition b = byStart.get(i);
      if (b.firstLba() <= a.lastLba()) {
        throw new IllegalArgumentException("partition " + b.number() + " '" + b.name() + "' (sectors " + b.firstLba() + ".."
            + b.lastLba() + ") overlaps partition " + a.number() + " '" + a.name() + "' (sectors " + a.firstLba() + ".."
            + a.lastLba() + ")");
      }
    }
  }

  // ---------------------------------------------------------------- writing

  /**
   * Writes the protective MBR, the primary header and entries (sectors 0..33) and the backup
   * entries and header (the last 33 sectors) into {@code disk}, which must be the whole disk
   * (it is extended to {@link #sizeBytes()} if shorter). Partition contents are not touched.
   */
  public void writeTo(FileChannel disk) throws IOException {
    long size = disk.size();
    if (size > sizeBytes()) {
      throw new IllegalArgumentException("disk file is " + size + " bytes but the GPT was built for " + sizeBytes());
    }
    ByteBuffer entries = entryArray();
    CRC32 crc = new CRC32();
    crc.update(entries.duplicate());
    int entriesCrc = (int) crc.getValue();
    long backupEntries = sectors - 1 - ENTRY_ARRAY_SECTORS;

    write(disk, protectiveMbr(), 0);
    write(disk, header(1, sectors - 1, 2, entriesCrc), SECTOR_SIZE);
    write(disk, entries.duplicate(), 2L * SECTOR_SIZE);
    write(disk, entries.duplicate(), backupEntries * SECTOR_SIZE);
    write(disk, header(sectors - 1, 1, backupEntries, entriesCrc), (sectors - 1) * SECTOR_SIZE);
  }

  private static void write(FileChannel ch, ByteBuffer b, long pos) throws IOException {
    while (b.hasRemaining()) pos += ch.write(b, pos);
  }

  private ByteBuffer protectiveMbr() {
    ByteBuffer b = ByteBuffer.allocate(SECTOR_SIZE).order(ByteOrder.LITTLE_ENDIAN);
    b.position(446);
    b.put((byte) 0).put((byte) 0x00).put((byte) 0x02).put((byte) 0x00); // status, CHS of LBA 1
    b.put((byte) 0xEE).put((byte) 0xFF).put((byte) 0xFF).put((byte) 0xFF); // type, CHS max
    b.putInt(1).putInt((int) Math.min(sectors - 1, 0xFFFF_FFFFL));
    b.putShort(510, (short) 0xAA55);
    return b.position(0);
  }

  private ByteBuffer header(long myLba, long alternateLba, long entriesLba, int entriesCrc) {
    ByteBuffer b = ByteBuffer.allocate(SECTOR_SIZE).order(ByteOrder.LITTLE_ENDIAN);
    b.put(SIGNATURE).putInt(0x0001_0000).putInt(HEADER_SIZE).putInt(0).putInt(0);
    b.putLong(myLba).putLong(alternateLba).putLong(firstUsableLba()).putLong(lastUsableLba());
    Guids.put(b, diskGuid);
    b.putLong(entriesLba).putInt(MAX_PARTITIONS).putInt(ENTRY_SIZE).putInt(entriesCrc);
    CRC32 crc = new CRC32();
    crc.update(b.array(), 0, HEADER_SIZE);
    b.putInt(16, (int) crc.getValue());
    return b.position(0);
  }

  private ByteBuffer entryArray() {
    ByteBuffer b = ByteBuffer.allocate(MAX_PARTITIONS * ENTRY_SIZE).order(ByteOrder.LITTLE_ENDIAN);
    for (GptPartition p : partitions) {
      b.position((p.number() - 1) * ENTRY_SIZE);
      Guids.put(b, p.type());
      Guids.put(b, p.uuid());
      b.putLong(p.firstLba()).putLong(p.lastLba()).putLong(p.attributes());
      b.put(p.name().getBytes(StandardCharsets.UTF_16LE));
    }
    return b.position(0);
  }

  // ---------------------------------------------------------------- reading

  /**
   * Reads the table of the disk in {@code disk} (512-byte sectors). The primary header and entries
   * are CRC-checked; when they are damaged the backup at the end of the disk is used.
   *
   * @throws GptException when neither copy is valid; the message says what is wrong with each
   */
  public static GptTable read(FileChannel disk) throws IOException {
    long diskSectors = disk.size() / SECTOR_SIZE;
    if (diskSectors < 3) throw new GptException("disk of " + disk.size() + " bytes is too small to hold a GPT");
    try {
      return readHeader(disk, 1, diskSectors);
    } catch (GptException primary) {
      try {
        return readHeader(disk, diskSectors - 1, diskSectors);
      } catch (GptException backup) {
        throw new GptException("no valid GPT: primary header: " + primary.getMessage() + "; backup header: "
            + backup.getMessage());
      }
    }
  }

  private static GptTable readHeader(FileChannel disk, long lba, long diskSectors) throws IOException {
    ByteBuffer h = readAt(disk, lba * SECTOR_SIZE, SECTOR_SIZE);
    byte[] sig = new byte[8];
    h.get(0, sig);
    if (!java.util.Arrays.equals(sig, SIGNATURE)) throw new GptException("no 'EFI PART' signature at sector " + lba);
    int headerSize = h.getInt(12);
    if (headerSize < HEADER_SIZE || headerSize > SECTOR_SIZE) {
      throw new GptException("header at sector " + lba + " has impossible size " + headerSize);
    }
    int storedCrc = h.getInt(16);
    byte[] raw = new byte[headerSize];
    h.get(0, raw);
    raw[16] = raw[17] = raw[18] = raw[19] = 0;
    CRC32 crc = new CRC32();
    crc.update(raw);
    if ((int) crc.getValue() != storedCrc) {
      throw new GptException(String.format("header CRC32 mismatch at sector %d (stored %08x, computed %08x)",
          lba, storedCrc, (int) crc.getValue()));
    }
    long myLba = h.getLong(24);
    long alternate = h.getLong(32);
    if (myLba != lba) throw new GptException("header at sector " + lba + " says it lives at sector " + myLba);
    long sectors = (lba == 1 ? alternate : myLba) + 1;
    if (sectors > diskSectors) {
      throw new GptException("header at sector " + lba + " describes a disk of " + sectors + " sectors, larger than the "
          + diskSectors + " present");
    }
    long firstUsable = h.getLong(40);
    long lastUsable = h.getLong(48);
    UUID diskGuid = Guids.fromBytes(h.array(), 56);
    long entriesLba = h.getLong(72);
    int count = h.getInt(80);
    int entrySize = h.getInt(84);
    int entriesCrc = h.getInt(88);
    if (entrySize < ENTRY_SIZE || entrySize % ENTRY_SIZE != 0 || entrySize > 4096) {
      throw new GptException("unsupported partition entry size " + entrySize);
    }
    if (count < 0 || count > 4096) throw new GptException("implausible partition entry count " + count);
    long arrayBytes = (long) count * entrySize;
    if (entriesLba < 2 || (entriesLba * SECTOR_SIZE + arrayBytes) > diskSectors * SECTOR_SIZE) {
      throw new GptException("partition entries at sector " + entriesLba + " lie outside the disk");
    }
    ByteBuffer entries = readAt(disk, entriesLba * SECTOR_SIZE, (int) arrayBytes);
    crc.reset();
    crc.update(entries.duplicate());
    if ((int) crc.getValue() != entriesCrc) {
      throw new GptException(String.format("partition entry array CRC32 mismatch at sector %d (stored %08x, computed %08x)",
          entriesLba, entriesCrc, (int) crc.getValue()));
    }
    List<GptPartition> parts = new ArrayList<>();
    byte[] e = new byte[entrySize];
    for (int i = 0; i < count; i++) {
      entries.get(i * entrySize, e);
      UUID type = Guids.fromBytes(e, 0);
      if (type.getMostSignificantBits() == 0 && type.getLeastSignificantBits() == 0) continue;
      ByteBuffer eb = ByteBuffer.wrap(e).order(ByteOrder.LITTLE_ENDIAN);
      String name = new String(e, 56, 72, StandardCharsets.UTF_16LE);
      int nul = name.indexOf('\0');
      if (nul >= 0) name = name.substring(0, nul);
      long first = eb.getLong(32);
      long last = eb.getLong(40);
      if (first < firstUsable || last > lastUsable || last < first) {
        throw new GptException("partition " + (i + 1) + " '" + name + "' has sectors " + first + ".." + last
            + " outside the usable range " + firstUsable + ".." + lastUsable);
      }
      if (i >= MAX_PARTITIONS) throw new GptException("partition " + (i + 1) + " is beyond the " + MAX_PARTITIONS + " supported");
      parts.add(new GptPartition(i + 1, type, Guids.fromBytes(e, 16), first, last, eb.getLong(48), name));
    }
    try {
      return new GptTable(diskGuid, sectors, parts);
    } catch (IllegalArgumentException ex) {
      throw new GptException("invalid partition table: " + ex.getMessage());
    }
  }

  private static ByteBuffer readAt(FileChannel ch, long pos, int len) throws IOException {
    ByteBuffer b = ByteBuffer.allocate(len).order(ByteOrder.LITTLE_ENDIAN);
    while (b.hasRemaining()) {
      int r = ch.read(b, pos + b.position());
      if (r < 0) throw new GptException("disk ends at byte " + (pos + b.position()) + ", inside the GPT");
    }
    return b.flip();
  }

  // ---------------------------------------------------------------- building

  /** Starts a table for a disk of {@code diskBytes} (a multiple of 512). */
  public static Builder builder(long diskBytes) { return new Builder(diskBytes); }

  /**
   * Places partitions one after the other at 1 MiB boundaries. GUIDs not given explicitly are
   * derived from the seed ({@link Guids#derive}), so the same builder calls give the same table.
   */
  public static final class Builder {
    /** Size value meaning "up to the end of the disk" (rounded down to 1 MiB). */
    public static final long REST = -1;
    private final long diskBytes;
    private UUID diskGuid;
    private String seed = "basalt";
    private final List<Spec> specs = new ArrayList<>();

    private record Spec(String name, UUID type, long sizeBytes, long attributes, UUID uuid, long firstLba) {}

    private Builder(long diskBytes) {
      if (diskBytes <= 0 || diskBytes % SECTOR_SIZE != 0) {
        throw new IllegalArgumentException("disk size must be a positive multiple of 512, got " + diskBytes);
      }
      this.diskBytes = diskBytes;
    }

    /** Seed for derived GUIDs (default {@code "basalt"}). */
    public Builder seed(String seed) {
      this.seed = Objects.requireNonNull(seed, "seed");
      return this;
    }

    /** Explicit disk GUID (default: derived from the seed). */
    public Builder diskGuid(UUID guid) {
      this.diskGuid = Objects.requireNonNull(guid, "diskGuid");
      return this;
    }

    /** Adds a partition after the previous one; {@code sizeBytes} a multiple of 512 or {@link #REST}. */
    public Builder add(String name, UUID type, long sizeBytes) { return add(name, type, sizeBytes, 0, null); }

    /**
     * Adds a partition after the previous one (at the next 1 MiB boundary).
     *
     * @param sizeBytes a positive multiple of 512, or {@link #REST} for the rest of the disk
     * @param uuid unique GUID, or {@code null} to derive it from the seed and the name
     */
    public Builder add(String name, UUID type, long sizeBytes, long attributes, UUID uuid) {
      return spec(name, type, sizeBytes, attributes, uuid, -1);
    }

    /** Adds a partition at an explicit first sector (no alignment applied). */
    public Builder addAt(String name, UUID type, long firstLba, long sizeBytes, long attributes, UUID uuid) {
      if (firstLba < 1) throw new IllegalArgumentException("partition '" + name + "': first sector must be >= 1, got " + firstLba);
      return spec(name, type, sizeBytes, attributes, uuid, firstLba);
    }

    private Builder spec(String name, UUID type, long sizeBytes, long attributes, UUID uuid, long firstLba) {
      GptPartition.validateName(name);
      Objects.requireNonNull(type, "type of partition '" + name + "'");
      if (sizeBytes != REST && (sizeBytes <= 0 || sizeBytes % SECTOR_SIZE != 0)) {
        throw new IllegalArgumentException("partition '" + name + "': size must be a positive multiple of 512, got " + sizeBytes);
      }
      if (specs.size() == MAX_PARTITIONS) {
        throw new IllegalArgumentException("partition '" + name + "': too many partitions, a GPT holds " + MAX_PARTITIONS);
      }
      specs.add(new Spec(name, type, sizeBytes, attributes, uuid, firstLba));
      return this;
    }

    /** Places and validates all partitions. */
    public GptTable build() {
      long sectors = diskBytes / SECTOR_SIZE;
      if (sectors < MIN_DISK_SECTORS) {
        throw new IllegalArgumentException("disk of " + diskBytes + " bytes is too small for a GPT; need at least "
            + MIN_DISK_SECTORS * SECTOR_SIZE);
      }
      long lastUsable = sectors - 2 - ENTRY_ARRAY_SECTORS;
      long alignSectors = ALIGNMENT / SECTOR_SIZE;
      long next = alignSectors; // first partition at 1 MiB
      List<GptPartition> parts = new ArrayList<>();
      for (int i = 0; i < specs.size(); i++) {
        Spec s = specs.get(i);
        long first = s.firstLba >= 0 ? s.firstLba : Math.ceilDiv(next, alignSectors) * alignSectors;
        long last;
        if (s.sizeBytes == REST) {
          last = Math.floorDiv(lastUsable + 1, alignSectors) * alignSectors - 1;
          if (last < first) last = lastUsable;
          if (last < first) {
            throw new IllegalArgumentException("partition " + (i + 1) + " '" + s.name + "': no space left on a "
                + diskBytes + "-byte disk (starts at sector " + first + ")");
          }
        } else {
          last = first + s.sizeBytes / SECTOR_SIZE - 1;
        }
        if (last > lastUsable) {
          throw new IllegalArgumentException("partition " + (i + 1) + " '" + s.name + "' of "
              + (s.sizeBytes == REST ? "the rest" : s.sizeBytes + " bytes") + " does not fit: it would end at sector "
              + last + " but the last usable sector of a " + diskBytes + "-byte disk is " + lastUsable);
        }
        UUID uuid = s.uuid != null ? s.uuid : Guids.derive(seed, "partition/" + (i + 1) + "/" + s.name);
        parts.add(new GptPartition(i + 1, s.type, uuid, first, last, s.attributes, s.name));
        next = last + 1;
      }
      return new GptTable(diskGuid != null ? diskGuid : Guids.derive(seed, "disk"), sectors, parts);
    }
  }
}

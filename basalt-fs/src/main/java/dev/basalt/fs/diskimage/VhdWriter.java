package dev.basalt.fs.diskimage;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;

/** Fixed VHD: the raw disk written sparsely, then the 512-byte big-endian footer. */
final class VhdWriter {
  private VhdWriter() {}

  static final long AZURE_ALIGNMENT = 1 << 20;

  static ConversionResult write(FileChannel raw, FileChannel out, byte[] uniqueId) throws IOException {
    long size = raw.size();
    if (size == 0 || size % AZURE_ALIGNMENT != 0) {
      throw new IllegalArgumentException("VHD virtual size must be a positive multiple of 1 MiB (Azure rejects others); the raw image is "
          + size + " bytes");
    }
    long[] zero = {0};
    long data = RawScanner.scan(raw, (index, c, isZero) -> {
      if (isZero) zero[0]++;
      else RawScanner.writeFully(out, c, index * RawScanner.CLUSTER);
    });
    RawScanner.writeFully(out, footer(size, uniqueId), size);
    return new ConversionResult(DiskImageFormat.VHD, size, out.size(), data, zero[0]);
  }

  static ByteBuffer footer(long size, byte[] uniqueId) {
    ByteBuffer f = ByteBuffer.allocate(512);
    f.put("conectix".getBytes(StandardCharsets.US_ASCII));
    f.putInt(2); // features: reserved bit always set
    f.putInt(0x0001_0000); // format version
    f.putLong(-1); // data offset: none for a fixed disk
    f.putInt(0); // timestamp (seconds since 2000-01-01): fixed for reproducible output
    // "win " makes QEMU (and Hyper-V) take the size from current_size, not from the CHS geometry
    f.put("win ".getBytes(StandardCharsets.US_ASCII));
    f.putInt(0x000A_0000); // creator version
    f.put("Wi2k".getBytes(StandardCharsets.US_ASCII));
    f.putLong(size).putLong(size);
    f.putInt(geometry(size / 512));
    f.putInt(2); // disk type: fixed
    f.putInt(0); // checksum, below
    f.put(uniqueId, 0, 16);
    int sum = 0;
    for (byte b : f.array()) sum += b & 0xff;
    f.putInt(64, ~sum);
    return f.position(0);
  }

  /** CHS geometry as the VHD specification computes it: cylinders u16, heads u8, sectors u8. */
  static int geometry(long totalSectors) {
    totalSectors = Math.min(totalSectors, 65535L * 16 * 255);
    long spt;
    long heads;
    long cth;
    if (totalSectors >= 65535L * 16 * 63) {
      spt = 255;
      heads = 16;
      cth = totalSectors / spt;
    } else {
      spt = 17;
      cth = totalSectors / spt;
      heads = Math.max(4, (cth + 1023) / 1024);
      if (cth >= heads * 1024 || heads > 16) {
        spt = 31;
        heads = 16;
        cth = totalSectors / spt;
      }
      if (cth >= heads * 1024) {
        spt = 63;
        heads = 16;
        cth = totalSectors / spt;
      }
    }
    long cyl = cth / heads;
    return (int) ((cyl << 16) | (heads << 8) | spt);
  }
}

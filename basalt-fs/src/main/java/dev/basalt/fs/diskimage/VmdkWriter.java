package dev.basalt.fs.diskimage;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.util.zip.Deflater;

/**
 * Stream-optimized VMDK (VMware "monolithicSparse" with compressed grains and markers, version 3):
 * header with the grain directory "at end", descriptor, then per 32 MiB the compressed non-zero
 * grains followed by their grain table, then the grain directory, footer and end-of-stream marker.
 * Every grain table is written, also empty ones, as VMware's own writers do.
 */
final class VmdkWriter {
  private static final int SECTOR = 512;
  private static final int GRAIN_SECTORS = 128; // 64 KiB, the scanner's cluster
  private static final int GT_ENTRIES = 512;
  private static final int GT_SECTORS = GT_ENTRIES * 4 / SECTOR;
  private static final long OVERHEAD_SECTORS = 128;
  private static final long GD_AT_END = -1;
  private static final int MARKER_EOS = 0;
  private static final int MARKER_GT = 1;
  private static final int MARKER_GD = 2;
  private static final int MARKER_FOOTER = 3;

  private final FileChannel out;
  private final Deflater deflater = new Deflater(Deflater.DEFAULT_COMPRESSION);
  private final byte[] input = new byte[RawScanner.CLUSTER];
  private final byte[] compressed = new byte[RawScanner.CLUSTER + 4096];
  private final ByteBuffer gt = ByteBuffer.allocate(GT_ENTRIES * 4).order(ByteOrder.LITTLE_ENDIAN);
  private final int[] gd;
  private final long capacitySectors;
  private long sector = OVERHEAD_SECTORS;
  private long currentGt;

  private VmdkWriter(FileChannel out, long capacitySectors) {
    this.out = out;
    this.capacitySectors = capacitySectors;
    this.gd = new int[(int) Math.ceilDiv(Math.ceilDiv(capacitySectors, GRAIN_SECTORS), GT_ENTRIES)];
  }

  static ConversionResult write(FileChannel raw, FileChannel out, String fileName, int cid) throws IOException {
    long size = raw.size();
    if (size == 0 || size % SECTOR != 0) {
      throw new IllegalArgumentException("VMDK virtual size must be a positive multiple of 512; the raw image is " + size + " bytes");
    }
    long capacity = size / SECTOR;
    if (Math.ceilDiv(capacity, (long) GRAIN_SECTORS * GT_ENTRIES) > Integer.MAX_VALUE / 4) {
      throw new IllegalArgumentException("raw image of " + size + " bytes is too large for a VMDK");
    }
    VmdkWriter w = new VmdkWriter(out, capacity);
    byte[] descriptor = descriptor(capacity, fileName, cid);
    long descSectors = Math.ceilDiv(descriptor.length, SECTOR);
    long[] zero = {0};
    long data;
    try {
      data = RawScanner.scan(raw, (index, c, isZero) -> {
        if (isZero) zero[0]++;
        w.grain(index, c, isZero);
      });
      w.finishGtsUpTo(w.gd.length);
    } finally {
      w.deflater.end();
    }
    // grain directory
    long gdSectors = Math.ceilDiv(w.gd.length * 4L, SECTOR);
    w.marker(gdSectors, MARKER_GD);
    long gdOffset = w.sector;
    ByteBuffer gdb = ByteBuffer.allocate((int) (gdSectors * SECTOR)).order(ByteOrder.LITTLE_ENDIAN);
    for (int e : w.gd) gdb.putInt(e);
    w.put(gdb.position(0));
    // footer and end of stream
    w.marker(1, MARKER_FOOTER);
    w.put(header(capacity, descSectors, gdOffset));
    w.put(ByteBuffer.allocate(SECTOR));
    RawScanner.writeFully(out, header(capacity, descSectors, GD_AT_END), 0);
    RawScanner.writeFully(out, ByteBuffer.wrap(descriptor), SECTOR);
    return new ConversionResult(DiskImageFormat.VMDK, size, out.size(), data, zero[0]);
  }

  private void grain(long index, ByteBuffer c, boolean zero) throws IOException {
    long gtIndex = index / GT_ENTRIES;
    if (gtIndex != currentGt) finishGtsUpTo(gtIndex);
    if (zero) return;
    int n = c.remaining();
    c.get(input, 0, n);
    if (n < input.length) java.util.Arrays.fill(input, n, input.length, (byte) 0);
    deflater.reset();
    deflater.setInput(input, 0, n);
    deflater.finish();
    int len = 0;
    while (!deflater.finished()) len += deflater.deflate(compressed, len, compressed.length - len);
    ByteBuffer g = ByteBuffer.allocate((int) Math.ceilDiv(12L + len, SECTOR) * SECTOR).order(ByteOrder.LITTLE_ENDIAN);
    g.putLong(index * GRAIN_SECTORS).putInt(len).put(compressed, 0, len);
    gt.putInt((int) (index % GT_ENTRIES) * 4, (int) sector);
    put(g.position(0));
  }

  /** Writes the grain tables of all groups before {@code gtIndex} not written yet. */
  private void finishGtsUpTo(long gtIndex) throws IOException {
    while (currentGt < gtIndex) {
      marker(GT_SECTORS, MARKER_GT);
      gd[(int) currentGt] = (int) sector;
      put(gt.position(0));
      java.util.Arrays.fill(gt.array(), (byte) 0);
      currentGt++;
    }
  }

  private void marker(long numSectors, int type) throws IOException {
    ByteBuffer m = ByteBuffer.allocate(SECTOR).order(ByteOrder.LITTLE_ENDIAN);
    m.putLong(numSectors).putInt(0).putInt(type);
    put(m.position(0));
  }

  private void put(ByteBuffer b) throws IOException {
    int n = b.remaining();
    RawScanner.writeFully(out, b, sector * SECTOR);
    sector += n / SECTOR;
  }

  private static ByteBuffer header(long capacity, long descSectors, long gdOffset) {
    ByteBuffer h = ByteBuffer.allocate(SECTOR).order(ByteOrder.LITTLE_ENDIAN);
    h.putInt(0x564d444b).putInt(3).putInt(0x0003_0001); // magic "KDMV", version 3, flags: NL test, compressed, markers
    h.putLong(capacity).putLong(GRAIN_SECTORS).putLong(1).putLong(descSectors).putInt(GT_ENTRIES);
    h.putLong(0).putLong(gdOffset).putLong(OVERHEAD_SECTORS);
    h.put((byte) 0).put((byte) '\n').put((byte) ' ').put((byte) '\r').put((byte) '\n');
    h.putShort((short) 1); // deflate
    return h.position(0);
  }

  private static byte[] descriptor(long capacity, String fileName, int cid) {
    long cylinders = Math.min(capacity / (16 * 63), 16383);
    String d = "# Disk DescriptorFile\n"
        + "version=1\n"
        + String.format("CID=%08x%n", cid)
        + "parentCID=ffffffff\n"
        + "createType=\"streamOptimized\"\n\n"
        + "# Extent description\n"
        + "RW " + capacity + " SPARSE \"" + fileName.replace("\"", "") + "\"\n\n"
        + "# The Disk Data Base\n"
        + "#DDB\n\n"
        + "ddb.virtualHWVersion = \"4\"\n"
        + "ddb.geometry.cylinders = \"" + cylinders + "\"\n"
        + "ddb.geometry.heads = \"16\"\n"
        + "ddb.geometry.sectors = \"63\"\n"
        + "ddb.adapterType = \"lsilogic\"\n";
    byte[] b = d.replace(System.lineSeparator(), "\n").getBytes(StandardCharsets.UTF_8);
    if (b.length > (OVERHEAD_SECTORS - 1) * SECTOR) throw new IllegalArgumentException("VMDK descriptor too long: " + fileName);
    return b;
  }
}

package dev.basalt.fs.diskimage;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Objects;

/**
 * Converts a raw disk image into a container format in one sequential read, storing only non-zero
 * 64 KiB clusters. Output is deterministic: the same raw image and seed give the same bytes.
 */
public final class DiskImages {
  private DiskImages() {}

  /** Same as {@link #convert(Path, Path, DiskImageFormat, String)} with seed {@code "basalt"}. */
  public static ConversionResult convert(Path raw, Path output, DiskImageFormat format) throws IOException {
    return convert(raw, output, format, "basalt");
  }

  /**
   * Writes {@code output} (replaced if present, removed on failure) from the raw image {@code raw}.
   *
   * @param seed source of the identifiers a format carries (VHD unique id, VMDK CID)
   * @throws IllegalArgumentException when the raw size does not suit the format (VHD: multiple of
   *     1 MiB; VMDK: multiple of 512)
   */
  public static ConversionResult convert(Path raw, Path output, DiskImageFormat format, String seed) throws IOException {
    Objects.requireNonNull(format, "format");
    Objects.requireNonNull(seed, "seed");
    if (Files.exists(output) && Files.isSameFile(raw, output)) {
      throw new IllegalArgumentException("output " + output + " is the raw input itself");
    }
    byte[] id = sha256("basalt-disk-id\0" + seed);
    try (FileChannel in = FileChannel.open(raw, StandardOpenOption.READ);
        FileChannel out = FileChannel.open(output, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
            StandardOpenOption.TRUNCATE_EXISTING)) {
      return switch (format) {
        case RAW -> sparseCopy(in, out);
        case QCOW2 -> Qcow2Writer.write(in, out);
        case VHD -> VhdWriter.write(in, out, id);
        case VMDK -> VmdkWriter.write(in, out, output.getFileName().toString(), ByteBuffer.wrap(id).getInt());
      };
    } catch (IOException | RuntimeException e) {
      Files.deleteIfExists(output);
      throw e;
    }
  }

  private static ConversionResult sparseCopy(FileChannel in, FileChannel out) throws IOException {
    long size = in.size();
    long[] zero = {0};
    long data = RawScanner.scan(in, (index, c, isZero) -> {
      if (isZero) zero[0]++;
      else RawScanner.writeFully(out, c, index * RawScanner.CLUSTER);
    });
    // the file must reach its full size even when it ends in zeros (a hole)
    if (out.size() < size) RawScanner.writeFully(out, ByteBuffer.allocate(1), size - 1);
    return new ConversionResult(DiskImageFormat.RAW, size, out.size(), data, zero[0]);
  }

  private static byte[] sha256(String s) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}

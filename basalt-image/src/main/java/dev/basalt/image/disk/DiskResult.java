package dev.basalt.image.disk;

import dev.basalt.fs.diskimage.DiskImageFormat;
import dev.basalt.fs.erofs.ErofsWriter;
import dev.basalt.fs.gpt.GptPartition;
import dev.basalt.fs.gpt.GptTable;
import dev.basalt.fs.verity.VerityResult;
import dev.basalt.image.lint.LintReport;
import java.nio.file.Path;
import java.util.Locale;

/**
 * What {@link DiskBuilder#build()} wrote.
 *
 * @param output the disk file
 * @param format its container format
 * @param fileBytes the file's length (a raw file is sparse: its holes take no space; qcow2 stores only data)
 * @param table the partition table (its size is the disk's virtual size)
 * @param rootFs the EROFS written into root-a
 * @param verity the hash tree in verity-a over root-a's EROFS (root hash, salt, data blocks)
 * @param lint the lint report of the final tree (warnings only: errors refuse the build)
 * @param entry the boot entry's file name in {@code loader/entries/}
 * @param options the entry's kernel command line
 * @param nodeLayerAdded whether Basalt's node layer was added (false: the image had its own)
 * @param seed the seed of every identifier on the disk
 */
public record DiskResult(Path output, DiskImageFormat format, long fileBytes, GptTable table,
    ErofsWriter.Result rootFs, VerityResult verity, LintReport lint, String entry, String options,
    boolean nodeLayerAdded, String seed) {

  /** The disk's virtual size in bytes. */
  public long sizeBytes() { return table.sizeBytes(); }

  /** A few lines for people: file, sizes, partitions, root hash. */
  public String summary() {
    StringBuilder b = new StringBuilder();
    b.append(output).append('\n');
    b.append(String.format(Locale.ROOT, "  %s, %s virtual, %s in the file%n", format.name().toLowerCase(Locale.ROOT),
        human(sizeBytes()), human(fileBytes)));
    b.append(String.format(Locale.ROOT, "  %-2s %-9s %12s %10s  %-36s %s%n", "#", "label", "start", "size", "partuuid", "content"));
    for (GptPartition p : table.partitions()) {
      String content = switch (p.name()) {
        case "esp" -> "FAT32: systemd-boot, " + entry;
        case "root-a" -> "EROFS " + human(rootFs.imageBytes()) + ", " + rootFs.inodes() + " inodes";
        case "verity-a" -> "dm-verity over root-a, " + verity.dataBlocks() + " blocks";
        case "var" -> "empty: ext4 made and grown on first boot";
        default -> "empty";
      };
      b.append(String.format(Locale.ROOT, "  %-2d %-9s %12d %10s  %-36s %s%n", p.number(), p.name(), p.offsetBytes(),
          human(p.sizeBytes()), p.uuid(), content));
    }
    b.append("  root hash ").append(verity.rootHash()).append('\n');
    return b.toString();
  }

  static String human(long bytes) {
    if (bytes >= 1L << 30 && bytes % (1L << 20) == 0 && bytes % (1L << 30) != 0) {
      return String.format(Locale.ROOT, "%.2f GiB", bytes / (double) (1L << 30));
    }
    if (bytes >= 1L << 30) return String.format(Locale.ROOT, "%.1f GiB", bytes / (double) (1L << 30));
    if (bytes >= 1L << 20) return String.format(Locale.ROOT, "%.1f MiB", bytes / (double) (1L << 20));
    if (bytes >= 1L << 10) return String.format(Locale.ROOT, "%.1f KiB", bytes / (double) (1L << 10));
    return bytes + " B";
  }
}

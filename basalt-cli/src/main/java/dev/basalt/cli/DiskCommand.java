package dev.basalt.cli;

import dev.basalt.fs.diskimage.DiskImageFormat;
import dev.basalt.image.disk.DiskBuilder;
import dev.basalt.image.disk.DiskConfig;
import dev.basalt.image.disk.DiskResult;
import dev.basalt.image.lint.Finding;
import dev.basalt.image.node.NodeLayer;
import dev.basalt.image.rootfs.MergedImage;
import dev.basalt.oci.api.ImageSource;
import dev.basalt.oci.transport.Transports;
import dev.basalt.node.NodePolicy;
import dev.basalt.oci.api.ImageException;
import dev.basalt.oci.policy.PolicyDecision;
import dev.basalt.oci.policy.SignaturePolicy;
import dev.basalt.oci.ref.ImageReference;
import dev.basalt.oci.registry.Credentials;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.UnaryOperator;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "disk", mixinStandardHelpOptions = true,
    description = {"Make a bootable UEFI disk from an image: GPT with esp (FAT32, systemd-boot), root-a (EROFS",
        "written straight from the layers), root-b, verity-a/-b, var (made and grown on first boot).",
        "The image is linted on the same pass and refused when it cannot boot; the Basalt node layer is",
        "added when the image lacks it. No root, loop devices or mounts needed. Same image -> same bytes."})
final class DiskCommand implements Callable<Integer> {
  private static final Pattern SIZE = Pattern.compile("(\\d+)\\s*([KMGT]?)(i?B)?", Pattern.CASE_INSENSITIVE);

  @Parameters(paramLabel = "REF", description = "docker://…, oci:…, oci-archive:…, docker-archive:…")
  String ref;
  @Option(names = {"-o", "--output"}, required = true, paramLabel = "FILE", description = "The disk file to write.")
  Path output;
  @Option(names = "--format", paramLabel = "FORMAT",
      description = "raw, qcow2, vhd or vmdk (default: from the file extension, else raw).")
  String format;
  @Option(names = "--size", paramLabel = "SIZE",
      description = "Disk size, e.g. 8G (default: ESP + 2 root slots + verity + 1 GiB var).")
  String size;
  @Mixin DiskOptions options;

  /** Where {@code $BASALT_POLICY} is read from (tests replace it). */
  static UnaryOperator<String> env = System::getenv;

  @Override
  public Integer call() throws Exception {
    DiskImageFormat fmt = format != null ? parseFormat(format) : fromExtension(output);
    long t0 = System.nanoTime();
    DiskResult r = options.write(ref, b -> {
      b.output(output).format(fmt);
      if (size != null) b.size(parseSize(size, "--size"));
      return b.build();
    }, () -> {
      Files.deleteIfExists(output);
      return "removed " + output;
    });
    double secs = (System.nanoTime() - t0) / 1e9;
    System.out.print(r.summary());
    System.err.printf(Locale.ROOT, "built in %.1f s%s%n", secs, r.nodeLayerAdded() ? " (node layer added)" : "");
    return 0;
  }

  static DiskImageFormat parseFormat(String f) {
    try {
      return DiskImageFormat.valueOf(f.toUpperCase(Locale.ROOT));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("--format must be raw, qcow2, vhd or vmdk, got '" + f + "'");
    }
  }

  static DiskImageFormat fromExtension(Path p) {
    String n = p.getFileName().toString().toLowerCase(Locale.ROOT);
    if (n.endsWith(".qcow2")) return DiskImageFormat.QCOW2;
    if (n.endsWith(".vhd")) return DiskImageFormat.VHD;
    if (n.endsWith(".vmdk")) return DiskImageFormat.VMDK;
    return DiskImageFormat.RAW;
  }

  /** Bytes of "8G", "512MiB", "1T", "1048576" (binary units). */
  static long parseSize(String s, String option) {
    Matcher m = SIZE.matcher(s.strip());
    if (!m.matches()) {
      throw new IllegalArgumentException(option + " must be a size such as 8G, 512M or 1048576 (bytes), got '" + s + "'");
    }
    int shift = switch (m.group(2).toUpperCase(Locale.ROOT)) {
      case "K" -> 10;
      case "M" -> 20;
      case "G" -> 30;
      case "T" -> 40;
      default -> 0;
    };
    try {
      long n = Long.parseLong(m.group(1));
      if (n > (Long.MAX_VALUE >> shift)) throw new NumberFormatException();
      return n << shift;
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(option + " is too large: '" + s + "'");
    }
  }
}

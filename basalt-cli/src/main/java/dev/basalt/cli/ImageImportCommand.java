package dev.basalt.cli;

import dev.basalt.image.rootfs.RootfsImporter;
import dev.basalt.oci.api.ImageDestination;
import dev.basalt.oci.api.MediaTypes.Compression;
import dev.basalt.oci.transport.Transports;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "import", mixinStandardHelpOptions = true,
    description = {"Import a root filesystem (a directory or a tar, plain/gzip/zstd) as a single-layer image.",
        "Reproducible: the same input gives the same manifest digest (SOURCE_DATE_EPOCH sets 'created')."})
final class ImageImportCommand implements Callable<Integer> {
  @Parameters(index = "0", paramLabel = "ROOTFS_DIR|TAR") Path rootfs;
  @Parameters(index = "1", paramLabel = "DST") String dst;
  @Mixin RegistryFlags flags;
  @Option(names = "--compression", defaultValue = "gzip", description = "Layer compression: gzip, zstd or none (default ${DEFAULT-VALUE}).")
  String compression;
  @Option(names = "--label", paramLabel = "KEY=VALUE", description = "Config label (repeatable).") Map<String, String> labels = Map.of();

  @Override
  public Integer call() throws Exception {
    Compression c = switch (compression) {
      case "gzip" -> Compression.GZIP;
      case "zstd" -> Compression.ZSTD;
      case "none" -> Compression.NONE;
      default -> throw new IllegalArgumentException("--compression must be gzip, zstd or none, got '" + compression + "'");
    };
    RootfsImporter.Builder b = RootfsImporter.builder().compression(c).platform(flags.platform());
    labels.forEach(b::label);
    try (ImageDestination d = Transports.openDestination(RegistryFlags.parse(dst), flags.options(false))) {
      RootfsImporter.Result r = b.build().importTo(rootfs, d);
      System.err.printf("layer %s (%d bytes), diffID %s%n", r.layer().digest(), r.layer().size(), r.diffId());
      System.out.println(r.manifest().digest());
    }
    return 0;
  }
}

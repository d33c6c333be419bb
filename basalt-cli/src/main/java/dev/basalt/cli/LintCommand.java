package dev.basalt.cli;

import dev.basalt.image.lint.DirectoryRootFs;
import dev.basalt.image.lint.ImageLint;
import dev.basalt.image.lint.LintReport;
import dev.basalt.image.lint.RootFs;
import dev.basalt.image.lint.TreeRootFs;
import dev.basalt.image.rootfs.MergedImage;
import dev.basalt.oci.api.ImageSource;
import dev.basalt.oci.transport.Transports;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "lint", mixinStandardHelpOptions = true,
    description = {"Check that an image can boot as a Basalt OS (ARCHITECTURE §3): one kernel, an initramfs that",
        "mounts EROFS and overlay, systemd-boot, /bin/sh, systemd as init, kargs.d, the node layer.",
        "Reads the merged layers without unpacking them. Exit status 1 when an error is found."})
final class LintCommand implements Callable<Integer> {
  @Parameters(paramLabel = "REF", description = "docker://…, oci:…, oci-archive:…, docker-archive:… or a root filesystem directory")
  String ref;
  @Option(names = "--format", defaultValue = "text", description = "text or json (default ${DEFAULT-VALUE}).")
  String format;
  @Mixin RegistryFlags flags;

  @Override
  public Integer call() throws Exception {
    if (!format.equals("text") && !format.equals("json")) {
      throw new IllegalArgumentException("--format must be text or json, got '" + format + "'");
    }
    LintReport report;
    Path dir = Path.of(ref);
    if (!ref.matches("^[a-z-]+:.*") && Files.isDirectory(dir)) {
      try (RootFs fs = new DirectoryRootFs(dir)) {
        report = ImageLint.create().check(fs);
      }
    } else {
      try (ImageSource s = Transports.openSource(RegistryFlags.parse(ref), flags.options(true))) {
        report = lint(s, flags.platform());
      }
    }
    System.out.print(format.equals("json") ? report.toJson() : report.toText());
    return report.ok() ? 0 : 1;
  }

  /** Lints an image's merged tree without unpacking it (also used by {@code image build --lint}). */
  static LintReport lint(ImageSource s, dev.basalt.oci.api.Platform platform) throws java.io.IOException {
    MergedImage image = MergedImage.resolve(s, platform);
    TreeRootFs.Sink[] last = new TreeRootFs.Sink[1];
    try {
      image.writeTo(() -> {
        if (last[0] != null) last[0].close();
        return last[0] = TreeRootFs.sink();
      });
      try (TreeRootFs fs = last[0].build()) {
        return ImageLint.create().check(fs);
      }
    } finally {
      if (last[0] != null) last[0].close();
    }
  }
}

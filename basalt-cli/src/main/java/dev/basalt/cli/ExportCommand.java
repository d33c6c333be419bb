package dev.basalt.cli;

import dev.basalt.image.rootfs.MergedImage;
import dev.basalt.oci.api.ImageSource;
import dev.basalt.oci.merge.LayerMerge;
import dev.basalt.oci.merge.TarTreeSink;
import dev.basalt.oci.transport.Transports;
import java.io.BufferedOutputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "export", mixinStandardHelpOptions = true,
    description = "Write an image's merged filesystem (whiteouts applied, layers merged top-down) as one tar.")
final class ExportCommand implements Callable<Integer> {
  @Parameters(index = "0", paramLabel = "REF") String ref;
  @Option(names = "--tar", required = true, paramLabel = "OUT", description = "The tar to write ('-' for stdout).") String out;
  @Mixin RegistryFlags flags;

  @Override
  public Integer call() throws Exception {
    try (ImageSource s = Transports.openSource(RegistryFlags.parse(ref), flags.options(true))) {
      MergedImage image = MergedImage.resolve(s, flags.platform());
      if (out.equals("-")) {
        OutputStream stdout = new BufferedOutputStream(System.out, 1 << 17);
        image.writeTo(() -> new TarTreeSink(stdout));
        stdout.flush();
        return 0;
      }
      try (AtomicFile file = new AtomicFile(Path.of(out))) {
        LayerMerge.Result r;
        try (OutputStream os = new BufferedOutputStream(Files.newOutputStream(file.temp()), 1 << 17)) {
          r = image.writeTo(() -> new TarTreeSink(os));
        }
        file.commit();
        System.err.printf("%s: %d entries, %d files, %d bytes of content from %d layers%n",
            image.manifest().digest(), r.entries(), r.regularFiles(), r.contentBytes(), r.layers());
      }
    }
    return 0;
  }
}

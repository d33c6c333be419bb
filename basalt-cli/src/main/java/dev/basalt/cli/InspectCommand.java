package dev.basalt.cli;

import dev.basalt.oci.api.ImageSource;
import dev.basalt.oci.copy.Inspector;
import dev.basalt.oci.ref.DockerReference;
import dev.basalt.oci.transport.Transports;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "inspect", mixinStandardHelpOptions = true,
    description = "Print an image's details as JSON, shaped like `skopeo inspect`.")
final class InspectCommand implements Callable<Integer> {
  @Parameters(index = "0", paramLabel = "REF") String ref;
  @Mixin RegistryFlags flags;
  @Option(names = "--raw", description = "The manifest or index exactly as stored.") boolean raw;
  @Option(names = "--config", description = "The image config blob.") boolean config;

  @Override
  public Integer call() throws Exception {
    var reference = RegistryFlags.parse(ref);
    String name = reference instanceof DockerReference d ? d.registry() + "/" + d.repository() : null;
    try (ImageSource s = Transports.openSource(reference, flags.options(false))) {
      if (raw) {
        System.out.write(Inspector.raw(s));
        System.out.flush();
      } else if (config) {
        System.out.write(Inspector.config(s, flags.platform()));
        System.out.flush();
      } else {
        System.out.println(Inspector.inspectJson(s, flags.platform(), name));
      }
    }
    return 0;
  }
}

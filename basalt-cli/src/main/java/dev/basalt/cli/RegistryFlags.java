package dev.basalt.cli;

import dev.basalt.oci.api.Platform;
import dev.basalt.oci.cache.BlobCache;
import dev.basalt.oci.ref.ImageReference;
import dev.basalt.oci.registry.Credentials;
import dev.basalt.oci.transport.TransportOptions;
import java.io.IOException;
import picocli.CommandLine.Option;

/** Flags shared by commands that read one image: {@code --tls-verify}, {@code --creds}, {@code --platform}. */
final class RegistryFlags {
  @Option(names = "--tls-verify", arity = "0..1", fallbackValue = "true", defaultValue = "true",
      description = "Require HTTPS and verify certificates (default true; false for local registries).")
  boolean tlsVerify = true;

  @Option(names = "--creds", paramLabel = "USER:PASS",
      description = "Registry credentials (default: ~/.docker/config.json, $XDG_RUNTIME_DIR/containers/auth.json).")
  String creds;

  @Option(names = "--platform", paramLabel = "OS/ARCH[/VARIANT]", defaultValue = "linux/amd64",
      description = "Platform to pick from a multi-arch index (default ${DEFAULT-VALUE}).")
  String platform;

  Platform platform() {
    return Platform.parse(platform);
  }

  TransportOptions options(boolean useCache) throws IOException {
    return build(tlsVerify, creds, useCache);
  }

  static TransportOptions build(boolean tlsVerify, String creds, boolean useCache) throws IOException {
    TransportOptions.Builder b = TransportOptions.builder().tlsVerify(tlsVerify);
    if (creds != null) b.credentials(Credentials.parse(creds));
    if (useCache) {
      java.nio.file.Path root = BlobCache.defaultRoot();
      try {
        b.cache(BlobCache.open(root));
      } catch (java.nio.file.FileSystemException e) {
        // e.g. a user without a writable home (nobody: /nonexistent); the bare exception names only a path
        throw new IOException("cannot create the blob cache " + root + " (" + (e.getReason() != null ? e.getReason()
            : e.getClass().getSimpleName().replace("Exception", "")) + " at " + e.getFile()
            + "); set BASALT_CACHE or XDG_CACHE_HOME to a writable directory", e);
      }
    }
    return b.build();
  }

  static ImageReference parse(String ref) {
    try {
      return ImageReference.parse(ref);
    } catch (IllegalArgumentException e) {
      throw new picocli.CommandLine.ParameterException(new picocli.CommandLine(new Main()), e.getMessage());
    }
  }
}

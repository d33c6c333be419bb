package dev.basalt.cli;

import dev.basalt.oci.api.ImageDestination;
import dev.basalt.oci.api.ImageSource;
import dev.basalt.oci.copy.CopyResult;
import dev.basalt.oci.copy.ImageCopier;
import dev.basalt.oci.copy.ProgressListener;
import dev.basalt.oci.api.Platform;
import dev.basalt.oci.transport.Transports;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "copy", mixinStandardHelpOptions = true,
    description = {"Copy an image between transports (docker://, oci:, oci-archive:, docker-archive:).",
        "Blobs the destination has are skipped; on the same registry they are mounted. Prints the manifest digest."})
final class CopyCommand implements Callable<Integer> {
  @Parameters(index = "0", paramLabel = "SRC") String src;
  @Parameters(index = "1", paramLabel = "DST") String dst;

  @Option(names = "--src-tls-verify", arity = "0..1", fallbackValue = "true", description = "Verify TLS of the source registry.")
  Boolean srcTls;
  @Option(names = "--dest-tls-verify", arity = "0..1", fallbackValue = "true", description = "Verify TLS of the destination registry.")
  Boolean destTls;
  @Option(names = "--tls-verify", arity = "0..1", fallbackValue = "true", description = "Both sides (default true).")
  Boolean tls;
  @Option(names = "--src-creds", paramLabel = "USER:PASS") String srcCreds;
  @Option(names = "--dest-creds", paramLabel = "USER:PASS") String destCreds;
  @Option(names = "--platform", paramLabel = "OS/ARCH[/VARIANT]", defaultValue = "linux/amd64",
      description = "Platform picked from a multi-arch source (default ${DEFAULT-VALUE}).")
  String platform;
  @Option(names = {"-a", "--all"}, description = "Copy the whole multi-arch index, not one platform.") boolean all;
  @Option(names = {"-q", "--quiet"}, description = "No progress output.") boolean quiet;
  @Option(names = "--digestfile", paramLabel = "FILE", description = "Also write the manifest digest to FILE.") Path digestFile;

  @Override
  public Integer call() throws Exception {
    boolean both = tls == null || tls;
    var srcOpts = RegistryFlags.build(srcTls != null ? srcTls : both, srcCreds, false);
    var dstOpts = RegistryFlags.build(destTls != null ? destTls : both, destCreds, false);
    ProgressListener progress = !quiet && System.console() != null ? new TerminalProgress() : ProgressListener.NONE;
    CopyResult r;
    try (ImageSource s = Transports.openSource(RegistryFlags.parse(src), srcOpts);
        ImageDestination d = Transports.openDestination(RegistryFlags.parse(dst), dstOpts)) {
      r = ImageCopier.builder().platform(Platform.parse(platform)).all(all).listener(progress).build().copy(s, d);
    } finally {
      if (progress instanceof TerminalProgress t) t.close();
    }
    if (!quiet) {
      System.err.printf("copied %d blobs, skipped %d, mounted %d%n",
          r.count(ProgressListener.BlobAction.COPIED), r.count(ProgressListener.BlobAction.SKIPPED),
          r.count(ProgressListener.BlobAction.MOUNTED));
    }
    System.out.println(r.manifest().digest());
    if (digestFile != null) Files.writeString(digestFile, r.manifest().digest().toString());
    return 0;
  }
}

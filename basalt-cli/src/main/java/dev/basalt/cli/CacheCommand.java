package dev.basalt.cli;

import dev.basalt.oci.cache.BlobCache;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "cache", mixinStandardHelpOptions = true, description = "The local blob cache ($BASALT_CACHE, else ~/.cache/basalt).",
    subcommands = {CacheCommand.Gc.class})
final class CacheCommand implements Runnable {
  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    throw new CommandLine.ParameterException(spec.commandLine(), "a subcommand is required");
  }

  @Command(name = "gc", mixinStandardHelpOptions = true, description = "Delete cached blobs unused for a while and stale partial downloads.")
  static final class Gc implements Callable<Integer> {
    @Option(names = "--min-age", defaultValue = "P1D", description = "Keep blobs used more recently than this ISO-8601 duration (default ${DEFAULT-VALUE}).")
    Duration minAge;
    @Option(names = "--partial-max-age", defaultValue = "P7D", description = "Delete partial downloads older than this (default ${DEFAULT-VALUE}).")
    Duration partialMaxAge;

    @Override
    public Integer call() throws Exception {
      BlobCache cache = BlobCache.open(BlobCache.defaultRoot());
      BlobCache.GcResult r = cache.gc(Set.of(), minAge, partialMaxAge);
      System.out.printf("deleted %d blobs and %d partial downloads, freed %d bytes%n", r.blobsDeleted(), r.partialsDeleted(), r.bytesFreed());
      return 0;
    }
  }
}

package dev.basalt.cli;

import dev.basalt.image.build.BuildLock;
import dev.basalt.image.build.BuildSpec;
import dev.basalt.image.build.ImageBuilder;
import dev.basalt.image.lint.LintReport;
import dev.basalt.oci.api.ImageDestination;
import dev.basalt.oci.api.ImageSource;
import dev.basalt.oci.api.MediaTypes.Compression;
import dev.basalt.oci.cache.BlobCache;
import dev.basalt.oci.ref.ImageReference;
import dev.basalt.oci.transport.TransportOptions;
import dev.basalt.oci.transport.Transports;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "build", mixinStandardHelpOptions = true,
    description = {"Build an OS image from a declarative spec (os.yaml, schema: examples/os.schema.json): the base",
        "and layers images reused by digest, one customization layer, the node layer. Reproducible: the same spec",
        "and pinned inputs (os.lock.yaml beside the spec) give the same manifest digest; SOURCE_DATE_EPOCH sets",
        "'created' (default: the base's). Built layers are cached by the digest of their content."})
final class ImageBuildCommand implements Callable<Integer> {
  @Option(names = {"-f", "--file"}, paramLabel = "SPEC", defaultValue = "os.yaml", description = "The spec (default ${DEFAULT-VALUE}).")
  Path specFile;
  @Option(names = {"-t", "--tag"}, paramLabel = "DST", required = true, description = "Where to write: docker://…, oci:…, oci-archive:…")
  String dst;
  @Option(names = "--update-lock", description = "Re-resolve base and layers and move their pins in the lock file.")
  boolean updateLock;
  @Option(names = "--check-reproducible", description = "Build a second time from scratch (no layer cache) and fail unless the digests match.")
  boolean checkReproducible;
  @Option(names = "--base-override", paramLabel = "REF", description = "Use REF instead of the spec's base (pinned under REF).")
  String baseOverride;
  @Option(names = "--lint", description = "Lint the result (as 'basalt image lint') and fail on errors.")
  boolean lint;
  @Option(names = "--no-node-layer", description = "Leave out the node layer.")
  boolean noNodeLayer;
  @Option(names = "--agent", description = "Ship the agent (jlinked runtime + jars) in the node layer; needs Basalt run from jars.")
  boolean agent;
  @Option(names = "--cache-dir", paramLabel = "DIR", description = "Layer cache (default: <blob cache>/build).")
  Path cacheDir;
  @Option(names = "--compression", defaultValue = "gzip", description = "Compression of built layers: gzip, zstd or none (default ${DEFAULT-VALUE}).")
  String compression;
  @Mixin RegistryFlags flags;
  private Path specDir;

  @Override
  public Integer call() throws Exception {
    Compression c = switch (compression) {
      case "gzip" -> Compression.GZIP;
      case "zstd" -> Compression.ZSTD;
      case "none" -> Compression.NONE;
      default -> throw new IllegalArgumentException("--compression must be gzip, zstd or none, got '" + compression + "'");
    };
    BuildSpec spec = BuildSpec.parse(specFile);
    specDir = specFile.toAbsolutePath().getParent();
    if (baseOverride != null) {
      // Relative paths on the command line are relative to the working directory.
      for (String t : new String[] {"oci:", "oci-archive:", "docker-archive:"}) {
        if (baseOverride.startsWith(t) && !baseOverride.startsWith(t + "/")) {
          baseOverride = t + Path.of(baseOverride.substring(t.length())).toAbsolutePath();
        }
      }
      spec = spec.withBase(baseOverride);
    }
    Path lockFile = BuildLock.besideSpec(specFile);
    BuildLock lock = BuildLock.read(lockFile);
    Path cache = cacheDir != null ? cacheDir : BlobCache.defaultRoot().resolve("build");
    TransportOptions in = flags.options(true);
    ImageReference dest = RegistryFlags.parse(dst);
    long start = System.nanoTime();
    ImageBuilder.Result r;
    TransportOptions out = RegistryFlags.build(flags.tlsVerify, flags.creds, false);
    r = builder(c, cache, in).build(spec, lock, updateLock, () -> Transports.openDestination(dest, out));
    for (ImageBuilder.Layer l : r.layers()) {
      System.err.printf("  %-14s %s %10d bytes%s%n", l.origin().length() > 14 ? "layers" : l.origin(),
          l.descriptor().digest(), l.descriptor().size(), l.cached() ? " (cached)" : "");
    }
    System.err.printf("built %s in %d ms%n", dst, (System.nanoTime() - start) / 1_000_000);
    if (!r.lock().equals(lock) || !Files.exists(lockFile)) {
      r.lock().write(lockFile);
      System.err.println("wrote " + lockFile);
    }
    if (checkReproducible) {
      Path tmp = Files.createTempDirectory("basalt-build-check");
      try {
        ImageBuilder.Result again;
        ImageReference check = ImageReference.parse("oci:" + tmp.resolve("out") + ":check");
        again = builder(c, tmp.resolve("cache"), in).build(spec, r.lock(), false,
            () -> Transports.openDestination(check, TransportOptions.defaults()));
        if (!again.manifest().digest().equals(r.manifest().digest())) {
          System.err.println("NOT reproducible: the second build gave " + again.manifest().digest());
          for (int i = 0; i < Math.min(r.layers().size(), again.layers().size()); i++) {
            if (!r.layers().get(i).descriptor().equals(again.layers().get(i).descriptor())) {
              System.err.println("  layer " + i + " (" + r.layers().get(i).origin() + ") differs");
            }
          }
          return 1;
        }
        System.err.println("reproducible: a clean rebuild gave the same digest");
      } finally {
        Tools.deleteTree(tmp);
      }
    }
    if (lint) {
      try (ImageSource s = Transports.openSource(dest, RegistryFlags.build(flags.tlsVerify, flags.creds, false))) {
        LintReport report = LintCommand.lint(s, flags.platform());
        System.err.print(report.toText());
        if (!report.ok()) return 1;
      }
    }
    System.out.println(r.manifest().digest());
    return 0;
  }

  private ImageBuilder builder(Compression c, Path cache, TransportOptions in) throws java.io.IOException {
    ImageBuilder.Builder b = ImageBuilder.builder().cacheDir(cache).specDir(specDir).compression(c).platform(flags.platform())
        .transportOptions(in);
    if (!noNodeLayer) b.nodeLayer(NodeLayers.forThisInstallation(agent));
    return b.build();
  }

  /** Small helper; no dependency for a recursive delete. */
  static final class Tools {
    static void deleteTree(Path p) throws java.io.IOException {
      if (!Files.exists(p)) return;
      try (var s = Files.walk(p)) {
        for (Path x : s.sorted(java.util.Comparator.reverseOrder()).toList()) Files.deleteIfExists(x);
      }
    }
  }
}

package dev.basalt.cli;

import dev.basalt.fs.erofs.ErofsWriter;
import dev.basalt.fs.tree.DirectoryTreeReader;
import dev.basalt.fs.verity.Verity;
import dev.basalt.fs.verity.VerityOptions;
import dev.basalt.fs.verity.VerityResult;
import dev.basalt.image.rootfs.MergedImage;
import dev.basalt.oci.api.ImageSource;
import dev.basalt.oci.transport.Transports;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.UUID;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "mkfs", mixinStandardHelpOptions = true, description = "Write filesystems.", subcommands = {MkfsCommand.Erofs.class})
final class MkfsCommand implements Runnable {
  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    throw new CommandLine.ParameterException(spec.commandLine(), "a filesystem type is required (erofs)");
  }

  @Command(name = "erofs", mixinStandardHelpOptions = true,
      description = {"Write an EROFS image from an image reference (merged straight from its layers, no extraction)",
          "or from a directory. With --verity, also a dm-verity hash tree; prints the root hash."})
  static final class Erofs implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "SRC", description = "docker://…, oci:…, oci-archive:…, docker-archive:… or a directory")
    String src;
    @Parameters(index = "1", paramLabel = "OUT") Path out;
    @Option(names = "--verity", paramLabel = "HASHFILE", description = "Write the dm-verity hash tree here.") Path verity;
    @Option(names = "--seed", description = "Seed for the filesystem UUID and verity salt (default: the manifest digest, or 'basalt' for a directory).")
    String seed;
    @Mixin RegistryFlags flags;

    @Override
    public Integer call() throws Exception {
      Path dir = Path.of(src);
      boolean fromDirectory = !src.matches("^[a-z-]+:.*") || Files.isDirectory(dir);
      try (AtomicFile file = new AtomicFile(out)) {
        String effectiveSeed;
        ErofsWriter.Result result;
        if (fromDirectory) {
          if (!Files.isDirectory(dir)) throw new IllegalArgumentException("not a directory or image reference: " + src);
          effectiveSeed = seed != null ? seed : "basalt";
          ErofsWriter w = writer(file.temp(), effectiveSeed);
          DirectoryTreeReader.of(dir).feed(w);
          w.finish();
          result = w.result();
        } else {
          try (ImageSource s = Transports.openSource(RegistryFlags.parse(src), flags.options(true))) {
            MergedImage image = MergedImage.resolve(s, flags.platform());
            effectiveSeed = seed != null ? seed : image.manifest().digest().toString();
            ErofsWriter[] last = new ErofsWriter[1];
            image.writeTo(() -> {
              if (last[0] != null) last[0].close();
              return last[0] = writer(file.temp(), effectiveSeed);
            });
            result = last[0].result();
          }
        }
        file.commit();
        System.err.printf("%s: %d bytes, %d blocks, %d inodes%n", out, result.imageBytes(), result.blocks(), result.inodes());
        if (verity != null) {
          try (AtomicFile hash = new AtomicFile(verity)) {
            VerityResult v = Verity.format(VerityOptions.fromSeed(effectiveSeed), out, hash.temp());
            hash.commit();
            System.err.printf("verity: %d data blocks, salt %s, hash tree %d bytes%n", v.dataBlocks(), v.saltHex(), v.hashDeviceSize());
            System.out.println(v.rootHash());
          }
        }
      }
      return 0;
    }

    private static ErofsWriter writer(Path file, String seed) throws java.io.IOException {
      return ErofsWriter.builder().output(file)
          .uuid(UUID.nameUUIDFromBytes(("erofs:" + seed).getBytes(java.nio.charset.StandardCharsets.UTF_8)))
          .build();
    }
  }
}

package dev.basalt.fs.erofs;

import dev.basalt.fs.tree.DirectoryTreeReader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Manual throughput comparison with mkfs.erofs (not a test): {@code java -cp ... ErofsBenchmark DIR WORKDIR [runs]}.
 * Prints MB/s of input content for both, best of the runs, page cache warm.
 */
public final class ErofsBenchmark {
  public static void main(String[] args) throws Exception {
    Path src = Path.of(args[0]);
    Path work = Path.of(args[1]);
    int runs = args.length > 2 ? Integer.parseInt(args[2]) : 3;
    Files.createDirectories(work);
    Path ours = work.resolve("ours.erofs");
    Path theirs = work.resolve("mkfs.erofs");
    long bytes = 0;
    double bestOurs = Double.MAX_VALUE;
    double bestMkfs = Double.MAX_VALUE;
    for (int i = 0; i < runs; i++) {
      long t0 = System.nanoTime();
      try (ErofsWriter w = ErofsWriter.builder().output(ours).build()) {
        bytes = DirectoryTreeReader.of(src).feed(w).bytes();
        w.finish();
      }
      bestOurs = Math.min(bestOurs, (System.nanoTime() - t0) / 1e9);
      Files.deleteIfExists(theirs);
      long t1 = System.nanoTime();
      Process p = new ProcessBuilder(List.of("mkfs.erofs", "--quiet", theirs.toString(), src.toString()))
          .inheritIO().start();
      if (p.waitFor() != 0) throw new IllegalStateException("mkfs.erofs failed");
      bestMkfs = Math.min(bestMkfs, (System.nanoTime() - t1) / 1e9);
    }
    System.out.printf("input %.1f MB; ours %.2f s = %.0f MB/s (image %d MB); mkfs.erofs %.2f s = %.0f MB/s (image %d MB)%n",
        bytes / 1e6, bestOurs, bytes / 1e6 / bestOurs, Files.size(ours) >> 20, bestMkfs, bytes / 1e6 / bestMkfs,
        Files.size(theirs) >> 20);
  }
}

package dev.basalt.image.disk;

import dev.basalt.fs.tree.TreeEntry;
import dev.basalt.fs.tree.TreeException;
import dev.basalt.fs.tree.TreeSink;
import dev.basalt.image.lint.TreeRootFs;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * Sends a tree to the filesystem writer and, on the same pass, into a {@link TreeRootFs} view that
 * keeps every entry's metadata and the content of the boot files ({@link TreeRootFs#LINT_CONTENT}:
 * kernel, initramfs, systemd-boot, kargs.d, os-release), so that the image can be linted and its
 * boot files copied to the ESP without reading the layers twice.
 */
final class LintTee implements TreeSink {
  private final TreeSink down;
  private final TreeRootFs.Sink view;
  private final Path scratch;

  LintTee(TreeSink down, TreeRootFs.Sink view, Path workDir) {
    this.down = down;
    this.view = view;
    this.scratch = workDir.resolve("tee.tmp");
  }

  @Override
  public void add(TreeEntry entry, InputStream content) throws IOException {
    if (entry instanceof TreeEntry.RegularFile f) {
      if (TreeRootFs.LINT_CONTENT.test(f.path())) {
        // Both consumers read the bytes: stage them once (a kernel or initramfs, tens of MiB).
        long n;
        try (OutputStream out = Files.newOutputStream(scratch)) {
          n = copy(content, out, f.size());
        }
        if (n != f.size()) throw new TreeException(f.path(), "content ended after " + n + " of " + f.size() + " bytes");
        try (InputStream in = Files.newInputStream(scratch, StandardOpenOption.READ)) {
          down.add(f, in);
        }
        try (InputStream in = Files.newInputStream(scratch, StandardOpenOption.READ)) {
          view.add(f, in);
        }
        Files.delete(scratch);
      } else {
        down.add(f, content);
        view.add(f, InputStream.nullInputStream());
      }
    } else {
      down.add(entry, content);
      view.add(entry, null);
    }
  }

  private static long copy(InputStream in, OutputStream out, long size) throws IOException {
    byte[] buf = new byte[1 << 16];
    long total = 0;
    while (total < size) {
      int r = in.read(buf, 0, (int) Math.min(buf.length, size - total));
      if (r < 0) break;
      out.write(buf, 0, r);
      total += r;
    }
    return total;
  }

  @Override
  public void finish() throws IOException {
    down.finish();
    view.finish();
  }
}

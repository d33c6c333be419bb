package dev.basalt.image.initramfs;

import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * The output of a filter process ({@code xz -dc}) fed from {@code source} by a virtual thread.
 * A non-zero exit becomes an IOException carrying the tool's stderr.
 */
final class ProcessInputStream extends InputStream {
  private final Process process;
  private final InputStream stdout;
  private final Thread pump;
  private final Thread errPump;
  private final ByteArrayOutputStream stderr = new ByteArrayOutputStream();
  private final String tool;
  private boolean done;

  private ProcessInputStream(Process process, InputStream source, String tool) {
    this.process = process;
    this.tool = tool;
    this.stdout = process.getInputStream();
    this.pump = Thread.ofVirtual().name(tool + "-stdin").start(() -> {
      try (OutputStream stdin = process.getOutputStream()) {
        source.transferTo(stdin);
      } catch (IOException ignored) {
        // The tool exited early (bad data); its exit code and stderr tell why.
      }
    });
    this.errPump = Thread.ofVirtual().name(tool + "-stderr").start(() -> {
      try (InputStream err = process.getErrorStream()) {
        err.transferTo(stderr);
      } catch (IOException ignored) {
        // stderr is only used for the error message
      }
    });
  }

  /** Starts {@code command} (its first element looked up on PATH); fails clearly when missing. */
  static ProcessInputStream start(List<String> command, InputStream source, String installHint)
      throws InitramfsException {
    String tool = command.get(0);
    Path exe = findOnPath(tool);
    if (exe == null) {
      throw new InitramfsException("reading " + tool + "-compressed data needs the '" + tool
          + "' tool, which is not installed (" + installHint + ")");
    }
    List<String> cmd = new java.util.ArrayList<>(command);
    cmd.set(0, exe.toString());
    try {
      Process p = new ProcessBuilder(cmd).start();
      return new ProcessInputStream(p, source, tool);
    } catch (IOException e) {
      throw new InitramfsException("cannot start " + tool + ": " + e.getMessage(), e);
    }
  }

  private static Path findOnPath(String tool) {
    String path = System.getenv().getOrDefault("PATH", "/usr/bin:/bin");
    for (String dir : (path + ":/usr/bin:/bin").split(File.pathSeparator)) {
      if (dir.isEmpty()) continue;
      Path p = Path.of(dir, tool);
      if (Files.isExecutable(p)) return p;
    }
    return null;
  }

  @Override
  public int read() throws IOException {
    byte[] one = new byte[1];
    int n = read(one, 0, 1);
    return n < 0 ? -1 : one[0] & 0xff;
  }

  @Override
  public int read(byte[] b, int off, int len) throws IOException {
    if (done) return -1;
    int n = stdout.read(b, off, len);
    if (n < 0) {
      done = true;
      finish();
    }
    return n;
  }

  private void finish() throws IOException {
    try {
      int exit = process.waitFor();
      errPump.join();
      if (exit != 0) {
        throw new IOException(tool + " failed (exit " + exit + "): "
            + stderr.toString(StandardCharsets.UTF_8).strip());
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted while waiting for " + tool, e);
    }
  }

  @Override
  public void close() throws IOException {
    if (process.isAlive()) process.destroyForcibly();
    stdout.close();
    try {
      pump.join();
      errPump.join();
      process.waitFor();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}

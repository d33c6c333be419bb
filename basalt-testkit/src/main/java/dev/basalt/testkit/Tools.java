package dev.basalt.testkit;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Runs the real external tools tests compare against. A missing tool fails the test; it never skips. */
public final class Tools {
  private Tools() {}

  /** Result of a finished process. */
  public record Result(int exitCode, String stdout, String stderr) {
    public Result requireSuccess(List<String> command) {
      if (exitCode != 0) {
        throw new AssertionError("command failed (exit " + exitCode + "): " + String.join(" ", command)
            + "\nstdout:\n" + stdout + "\nstderr:\n" + stderr);
      }
      return this;
    }
  }

  /** Absolute path of {@code tool} on PATH (or /usr/sbin, /sbin), or an AssertionError saying how to install it. */
  public static Path require(String tool) {
    List<String> dirs = new ArrayList<>(List.of(System.getenv().getOrDefault("PATH", "/usr/bin:/bin").split(":")));
    dirs.addAll(List.of("/usr/sbin", "/sbin", "/usr/bin"));
    for (String d : dirs) {
      Path p = Path.of(d, tool);
      if (Files.isExecutable(p)) return p;
    }
    throw new AssertionError("required tool '" + tool + "' is not installed; run .ci/setup (apt-get) first");
  }

  public static Result run(List<String> command) {
    return run(command, null, 600);
  }

  /** Runs a command with an optional working directory and a timeout in seconds; output is captured. */
  public static Result run(List<String> command, Path workDir, long timeoutSeconds) {
    try {
      Path out = Files.createTempFile("tool-out", ".txt");
      Path err = Files.createTempFile("tool-err", ".txt");
      try {
        ProcessBuilder pb = new ProcessBuilder(command).redirectOutput(out.toFile()).redirectError(err.toFile())
            .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
        if (workDir != null) pb.directory(workDir.toFile());
        Process p = pb.start();
        if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
          p.destroyForcibly();
          throw new AssertionError("timed out after " + timeoutSeconds + "s: " + String.join(" ", command));
        }
        return new Result(p.exitValue(), Files.readString(out, StandardCharsets.UTF_8), Files.readString(err, StandardCharsets.UTF_8));
      } finally {
        Files.deleteIfExists(out);
        Files.deleteIfExists(err);
      }
    } catch (IOException e) {
      throw new AssertionError("cannot run " + command + ": " + e, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    }
  }

  /** Runs and requires exit 0; returns stdout. */
  public static String check(String... command) {
    List<String> cmd = List.of(command);
    return run(cmd).requireSuccess(cmd).stdout();
  }

  /** True when running as root (loop mounts, device nodes, chown in fixtures). */
  public static boolean isRoot() {
    return "root".equals(System.getProperty("user.name"));
  }
}

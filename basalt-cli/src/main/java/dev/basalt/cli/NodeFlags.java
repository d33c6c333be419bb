package dev.basalt.cli;

import dev.basalt.api.UpdatePhase;
import dev.basalt.node.JsonLinesListener;
import dev.basalt.node.NodeEnvironment;
import dev.basalt.node.Rebooter;
import dev.basalt.node.UpdateListener;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import picocli.CommandLine;
import picocli.CommandLine.Option;

/**
 * Flags of the node commands: where the node is (the live system by default; {@code --sysroot}
 * with {@code --disk} and {@code --esp} for a disk image file and an ESP directory) and progress.
 */
final class NodeFlags {
  @Option(names = "--sysroot", paramLabel = "DIR",
      description = "Act on a system in DIR (DIR/proc/cmdline, DIR/var/lib/basalt, ...) instead of the running one; needs --disk and --esp.")
  Path sysroot;

  @Option(names = "--disk", paramLabel = "FILE", description = "With --sysroot: the disk image file (or block device).")
  Path disk;

  @Option(names = "--esp", paramLabel = "DIR", description = "With --sysroot: the ESP directory.")
  Path esp;

  @Option(names = "--reboot-command", paramLabel = "CMD", hidden = true,
      description = "Command --apply runs instead of 'systemctl reboot' (split on blanks).")
  String rebootCommand;

  @Option(names = "--progress-fd", paramLabel = "N",
      description = "Also write progress as JSON lines to file descriptor N (for tools).")
  Integer progressFd;

  NodeEnvironment environment(CommandLine cl) throws IOException {
    NodeEnvironment env;
    if (sysroot == null) {
      if (disk != null || esp != null) throw new CommandLine.ParameterException(cl, "--disk and --esp need --sysroot");
      env = NodeEnvironment.live();
    } else {
      if (disk == null || esp == null) throw new CommandLine.ParameterException(cl, "--sysroot needs --disk FILE and --esp DIR");
      env = NodeEnvironment.sysroot(sysroot, disk, esp);
    }
    if (rebootCommand != null) env = env.withRebooter(Rebooter.command(Arrays.asList(rebootCommand.strip().split("\\s+"))));
    return env;
  }

  /** Human progress on stderr, plus JSON lines on {@code --progress-fd}. */
  UpdateListener listener() throws IOException {
    UpdateListener human = new Human(System.err, System.console() != null);
    if (progressFd == null) return human;
    if (progressFd < 0) throw new IllegalArgumentException("--progress-fd must be >= 0, got " + progressFd);
    return human.and(new JsonLinesListener(new FileOutputStream("/proc/self/fd/" + progressFd)));
  }

  /** Phases and decisions as lines; on a terminal also percentages of downloads and copies. */
  static final class Human implements UpdateListener {
    private final PrintStream out;
    private final boolean terminal;
    private final Map<String, Long> shown = new HashMap<>();

    Human(PrintStream out, boolean terminal) {
      this.out = out;
      this.terminal = terminal;
    }

    @Override
    public void phase(UpdatePhase phase, String detail) {
      if (terminal) out.print("\r\033[K");
      out.println("==> " + phase.name().toLowerCase().replace('_', ' ') + (detail == null || detail.isEmpty() ? "" : ": " + detail));
    }

    @Override
    public void progress(String task, long done, long total) {
      if (!terminal || total <= 0) return;
      long pct = done * 100 / total;
      Long last = shown.put(task, pct);
      if (last != null && last == pct) return;
      String name = task.startsWith("layer sha256:") ? "layer " + task.substring(13, 25) : task;
      out.printf("\r\033[K    %s %3d%% (%d / %d bytes)", name, pct, done, total);
      if (done >= total) out.println();
      out.flush();
    }

    @Override
    public void info(String message) {
      if (terminal) out.print("\r\033[K");
      out.println("    " + message);
    }
  }
}

package dev.basalt.image.testing;

import dev.basalt.testkit.Tools;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The Debian test OS of fixtures/testos/build.sh (built once, then cached; the first build takes
 * about two minutes and needs the Debian mirror).
 */
public final class TestOs {
  private static Path dir;

  private TestOs() {}

  /** The fixture's cache directory (rootfs/, rootfs.tar, fixture.env), building it if missing. */
  public static synchronized Path dir() {
    if (dir == null) {
      Path script = script();
      List<String> cmd = List.of("bash", script.toString(), "--print-dir");
      Tools.Result r = Tools.run(cmd, null, 1800).requireSuccess(cmd);
      String out = r.stdout().strip();
      if (out.isEmpty() || out.contains("\n")) {
        throw new AssertionError("build.sh --print-dir must print exactly one line, got:\n" + r.stdout());
      }
      dir = Path.of(out);
    }
    return dir;
  }

  public static Path rootfs() { return dir().resolve("rootfs"); }

  /** KEY=value lines of fixture.env. */
  public static Map<String, String> env() {
    try {
      Map<String, String> m = new LinkedHashMap<>();
      for (String line : Files.readAllLines(dir().resolve("fixture.env"))) {
        int i = line.indexOf('=');
        if (i > 0) m.put(line.substring(0, i), line.substring(i + 1));
      }
      return m;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** fixtures/testos/build.sh, found from the working directory upwards. */
  public static Path script() {
    Path d = Path.of("").toAbsolutePath();
    while (d != null) {
      Path s = d.resolve("fixtures/testos/build.sh");
      if (Files.isRegularFile(s)) return s;
      d = d.getParent();
    }
    throw new AssertionError("fixtures/testos/build.sh not found above " + Path.of("").toAbsolutePath());
  }

  /**
   * Runs one of the fixture's own programs on the host, with the fixture's /usr/bin first on
   * PATH (lsinitramfs is a shell script calling cpio and the decompressors). The host runs the
   * same Debian release, so the binaries' libraries match.
   */
  public static Tools.Result runFixtureTool(String... command) {
    Path bin = rootfs().resolve("usr/bin");
    List<String> cmd = new java.util.ArrayList<>(List.of("env", "PATH=" + bin + ":/usr/bin:/bin:/usr/sbin:/sbin"));
    cmd.add(bin.resolve(command[0]).toString());
    cmd.addAll(List.of(command).subList(1, command.length));
    return Tools.run(cmd, null, 300).requireSuccess(cmd);
  }
}

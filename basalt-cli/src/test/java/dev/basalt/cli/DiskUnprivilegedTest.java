package dev.basalt.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.basalt.testkit.Tools;
import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 4: `basalt disk` needs no privileges (no loop devices, mounts or root). The CLI runs in a
 * child JVM as {@code nobody} (setpriv, no supplementary groups) in a directory that user owns, and
 * its disks must equal, byte for byte, the ones root builds from the same image.
 */
class DiskUnprivilegedTest {
  @TempDir Path tmp;

  @Test
  void nobodyBuildsTheSameDiskAsRoot() throws Exception {
    Path setpriv = Tools.require("setpriv");
    assertThat(Tools.check("id", "-u").strip()).as("this test drops root privileges, so it must start as root").isEqualTo("0");
    Path home = Files.createDirectories(tmp.resolve("nobody"));
    String ref = "oci:" + home.resolve("layout") + ":v1";
    Cli.run("image", "import", NodeCommandsTest.rootfs(tmp, "1").toString(), ref).ok();
    // The test classpath lives under /root (mode 700): give nobody a copy it can read.
    Path cp = Files.createDirectories(home.resolve("classpath"));
    List<String> entries = new ArrayList<>();
    int i = 0;
    for (String e : System.getProperty("java.class.path").split(File.pathSeparator)) {
      if (e.isEmpty() || !Files.exists(Path.of(e))) continue;
      Path to = cp.resolve(i++ + "-" + Path.of(e).getFileName());
      Tools.check("cp", "-a", e, to.toString());
      entries.add(to.toString());
    }
    Tools.check("chown", "-R", "nobody:nogroup", home.toString());
    Tools.check("chmod", "755", tmp.toString());

    String java = ProcessHandle.current().info().command().orElseThrow();
    for (String name : List.of("disk.raw", "disk.qcow2")) {
      List<String> disk = List.of("disk", "--no-agent", "--size", "600M", "--esp-size", "64M", "--root-size", "32M", ref);
      Path mine = tmp.resolve("root-" + name);
      List<String> asRoot = new ArrayList<>(disk);
      asRoot.addAll(List.of("-o", mine.toString()));
      Cli.run(asRoot.toArray(String[]::new)).ok();

      Path theirs = home.resolve(name);
      List<String> cmd = new ArrayList<>(List.of(setpriv.toString(), "--reuid=nobody", "--regid=nogroup", "--clear-groups",
          "env", "-i", "XDG_CACHE_HOME=" + home.resolve("cache"), "PATH=/usr/sbin:/usr/bin:/sbin:/bin",
          java, "--enable-native-access=ALL-UNNAMED", "-cp", String.join(File.pathSeparator, entries), Main.class.getName()));
      cmd.addAll(disk);
      cmd.addAll(List.of("-o", theirs.toString()));
      Tools.Result r = Tools.run(cmd, null, 300);
      assertThat(r.exitCode()).as("basalt disk as nobody:\n%s%s", r.stdout(), r.stderr()).isZero();
      assertThat(Tools.check("stat", "-c", "%U", theirs.toString()).strip()).isEqualTo("nobody");
      assertThat(Files.mismatch(mine, theirs)).as("%s built by nobody vs root", name).isEqualTo(-1L);
    }
    // nobody's home (/nonexistent) cannot hold the blob cache: the error says so and how to choose another
    List<String> noHome = List.of(setpriv.toString(), "--reuid=nobody", "--regid=nogroup", "--clear-groups",
        "env", "-i", java, "-cp", String.join(File.pathSeparator, entries), Main.class.getName(),
        "disk", "--no-agent", ref, "-o", home.resolve("x.raw").toString());
    Tools.Result nh = Tools.run(noHome, null, 300);
    assertThat(nh.exitCode()).isEqualTo(1);
    assertThat(nh.stderr()).contains("basalt disk: error: cannot create the blob cache /nonexistent/.cache/basalt",
        "set BASALT_CACHE or XDG_CACHE_HOME");
    assertThat(home.resolve("x.raw")).doesNotExist();
    // and nobody is refused where it may not write: a clear error, nothing left behind
    Path denied = tmp.resolve("denied");
    Files.createDirectories(denied);
    List<String> cmd = List.of(setpriv.toString(), "--reuid=nobody", "--regid=nogroup", "--clear-groups",
        "env", "-i", "XDG_CACHE_HOME=" + home.resolve("cache"), java, "-cp", String.join(File.pathSeparator, entries), Main.class.getName(),
        "disk", "--no-agent", ref, "-o", denied.resolve("x.raw").toString());
    Tools.Result r = Tools.run(cmd, null, 300);
    assertThat(r.exitCode()).isNotZero();
    assertThat(r.stderr()).contains(denied.toString());
    assertThat(denied).isEmptyDirectory();
  }
}

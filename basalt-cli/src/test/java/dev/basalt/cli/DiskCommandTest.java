package dev.basalt.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Bad input to `basalt disk` and `basalt image lint`: clear errors, exit status, no partial output. */
class DiskCommandTest {
  @TempDir Path tmp;
  private String ref;

  /** A tiny image with a shell and systemd but no kernel, initramfs or systemd-boot. */
  @BeforeEach
  void tinyImage() throws IOException {
    Path root = tmp.resolve("rootfs");
    Files.createDirectories(root.resolve("usr/bin"));
    Files.createDirectories(root.resolve("usr/lib/systemd"));
    Files.createDirectories(root.resolve("etc"));
    Files.writeString(root.resolve("usr/bin/sh"), "#!fake");
    root.resolve("usr/bin/sh").toFile().setExecutable(true);
    Files.writeString(root.resolve("usr/lib/systemd/systemd"), "fake");
    Files.createSymbolicLink(root.resolve("bin"), Path.of("usr/bin"));
    Files.writeString(root.resolve("etc/os-release"), "ID=tiny\n");
    ref = "oci:" + tmp.resolve("layout") + ":tiny";
    Cli.run("image", "import", "--compression", "none", root.toString(), ref).ok();
  }

  private List<String> files() throws IOException {
    try (Stream<Path> s = Files.list(tmp)) {
      return s.map(p -> p.getFileName().toString()).sorted().toList();
    }
  }

  @Test
  void lintListsTheFindingsAndExitsOne() {
    Cli.Run text = Cli.run("image", "lint", ref);
    assertThat(text.exitCode()).isEqualTo(1);
    assertThat(text.out()).contains("error: [kernel] no kernel", "error: [systemd-boot]", "fix: ", "not bootable: ");
    Cli.Run json = Cli.run("image", "lint", "--format", "json", ref);
    assertThat(json.exitCode()).isEqualTo(1);
    assertThat(json.out()).contains("\"ok\" : false", "\"check\" : \"kernel\"");
    assertThat(Cli.run("image", "lint", "--format", "yaml", ref).err()).contains("--format must be text or json, got 'yaml'");
  }

  @Test
  void aDiskOfAnUnbootableImageIsRefusedWithTheFindings() throws IOException {
    Cli.Run r = Cli.run("disk", ref, "-o", tmp.resolve("tiny.qcow2").toString());
    assertThat(r.exitCode()).isEqualTo(1);
    assertThat(r.err()).contains("basalt disk: error: ", "is not bootable", "[kernel] no kernel", "[systemd-boot]", "fix: ");
    assertThat(files()).containsExactly("layout", "rootfs");
  }

  @Test
  void aTooSmallDiskNamesTheMinimum() throws IOException {
    Cli.Run r = Cli.run("disk", ref, "-o", tmp.resolve("s.raw").toString(), "--size", "1G", "--root-size", "1G");
    assertThat(r.exitCode()).isEqualTo(1);
    assertThat(r.err()).contains("disk size 1073741824 bytes (1024 MiB) is too small", "must be at least 2973761536 bytes (2836 MiB, leaving 256 MiB for var)");
    assertThat(Cli.run("disk", ref, "-o", tmp.resolve("s.raw").toString(), "--size", "lots").err())
        .contains("--size must be a size such as 8G, 512M or 1048576 (bytes), got 'lots'");
    assertThat(files()).containsExactly("layout", "rootfs");
  }

  @Test
  void configErrorsNameTheKeyAndLine() throws IOException {
    Path unknown = tmp.resolve("unknown.toml");
    Files.writeString(unknown, "hostname = \"h\"\n[customizations.kernel]\nappend = \"quiet\"\nprepend = \"x\"\n");
    Cli.Run r = Cli.run("disk", ref, "-o", tmp.resolve("c.raw").toString(), "--config", unknown.toString());
    assertThat(r.exitCode()).isEqualTo(1);
    assertThat(r.err()).contains(unknown + " line 4: customizations.kernel.prepend: unknown key 'prepend'");

    Path noName = tmp.resolve("noname.toml");
    Files.writeString(noName, "[[customizations.user]]\npassword = \"$6$x$y\"\n");
    r = Cli.run("disk", ref, "-o", tmp.resolve("c.raw").toString(), "--config", noName.toString());
    assertThat(r.exitCode()).isEqualTo(1);
    assertThat(r.err()).contains(noName + " line 1: customizations.user: a [[customizations.user]] needs a name");
    assertThat(files()).containsExactly("layout", "noname.toml", "rootfs", "unknown.toml");
  }

  @Test
  void sizesAndFormats() {
    assertThat(DiskCommand.parseSize("8G", "--size")).isEqualTo(8L << 30);
    assertThat(DiskCommand.parseSize("512MiB", "--size")).isEqualTo(512L << 20);
    assertThat(DiskCommand.parseSize("1048576", "--size")).isEqualTo(1L << 20);
    assertThat(DiskCommand.fromExtension(Path.of("a.qcow2")).name()).isEqualTo("QCOW2");
    assertThat(DiskCommand.fromExtension(Path.of("a.img")).name()).isEqualTo("RAW");
  }
}

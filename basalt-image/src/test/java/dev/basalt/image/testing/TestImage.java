package dev.basalt.image.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;

/** A minimal image root that satisfies the bootable-image contract, in a directory, to break on purpose. */
public final class TestImage {
  public static final String KVER = "6.1.0-99-amd64";

  private final Path root;

  private TestImage(Path root) { this.root = root; }

  /** Writes a good, usrmerged Debian-style image into {@code root}. */
  public static TestImage good(Path root) {
    TestImage t = new TestImage(root);
    t.dir("usr/bin").dir("usr/sbin").dir("usr/lib").dir("boot").dir("etc");
    t.symlink("bin", "usr/bin").symlink("sbin", "usr/sbin").symlink("lib", "usr/lib");
    t.exe("usr/bin/dash", "#!fake dash").symlink("usr/bin/sh", "dash");
    t.exe("usr/lib/systemd/systemd", "fake systemd").symlink("usr/sbin/init", "../lib/systemd/systemd");
    t.file("boot/vmlinuz-" + KVER, kernel());
    t.file("boot/initrd.img-" + KVER, Cpio.zstd(Cpio.initramfsTree(KVER, "erofs/erofs", "overlayfs/overlay").bytes()));
    t.file("usr/lib/modules/" + KVER + "/kernel/fs/overlayfs/overlay.ko", "module");
    t.file("usr/lib/systemd/boot/efi/systemd-bootx64.efi", "MZ fake PE");
    t.file("usr/lib/bootc/kargs.d/10-console.toml", "# serial console\nkargs = [\"console=ttyS0,115200\"]\n");
    t.file("usr/lib/bootc/kargs.d/20-arm.toml", "kargs = [\"arm-only\"]\nmatch-architectures = [\"aarch64\"]\n");
    t.file("usr/lib/bootc/kargs.d/README", "not toml, ignored");
    t.exe("usr/lib/basalt/preinit", "#!/bin/sh\nexec /sbin/init\n");
    t.file("etc/os-release", "ID=debian\n");
    return t;
  }

  /** 1 KiB with the x86 boot protocol magic "HdrS" at 0x202. */
  public static byte[] kernel() {
    byte[] k = new byte[1024];
    k[0x1fe] = 0x55;
    k[0x1ff] = (byte) 0xaa;
    System.arraycopy("HdrS".getBytes(StandardCharsets.US_ASCII), 0, k, 0x202, 4);
    return k;
  }

  public Path root() { return root; }

  public TestImage dir(String path) {
    try {
      Files.createDirectories(root.resolve(path));
      return this;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  public TestImage file(String path, String content) { return file(path, content.getBytes(StandardCharsets.UTF_8)); }

  public TestImage file(String path, byte[] content) {
    try {
      Path p = root.resolve(path);
      Files.createDirectories(p.getParent());
      Files.deleteIfExists(p);
      Files.write(p, content);
      Files.setPosixFilePermissions(p, PosixFilePermissions.fromString("rw-r--r--"));
      return this;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  public TestImage exe(String path, String content) {
    file(path, content);
    try {
      Files.setPosixFilePermissions(root.resolve(path), PosixFilePermissions.fromString("rwxr-xr-x"));
      return this;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  public TestImage symlink(String path, String target) {
    try {
      Path p = root.resolve(path);
      Files.createDirectories(p.getParent());
      Files.deleteIfExists(p);
      Files.createSymbolicLink(p, Path.of(target));
      return this;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  public TestImage delete(String path) {
    try {
      Path p = root.resolve(path);
      if (!Files.exists(p, LinkOption.NOFOLLOW_LINKS)) throw new AssertionError("nothing to delete at " + p);
      Files.delete(p);
      return this;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}

package dev.basalt.image.testing;

import com.github.luben.zstd.ZstdOutputStream;
import dev.basalt.testkit.Tools;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.GZIPOutputStream;

/** Writes cpio archives (newc or crc) and initramfs images for tests, independently of the reader. */
public final class Cpio {
  /** One member: full st_mode, name, data. */
  public record Member(String name, int mode, byte[] data) {}

  private final List<Member> members = new ArrayList<>();
  private boolean crc;

  public static Cpio newc() { return new Cpio(); }

  public static Cpio crc() {
    Cpio c = new Cpio();
    c.crc = true;
    return c;
  }

  public Cpio dir(String name) { return add(name, 0040755, new byte[0]); }

  public Cpio file(String name, String content) { return file(name, content.getBytes(StandardCharsets.UTF_8)); }

  public Cpio file(String name, byte[] content) { return add(name, 0100644, content); }

  public Cpio symlink(String name, String target) {
    return add(name, 0120777, target.getBytes(StandardCharsets.UTF_8));
  }

  public Cpio add(String name, int mode, byte[] data) {
    members.add(new Member(name, mode, data));
    return this;
  }

  /** The archive including its TRAILER!!!, padded to a multiple of 4 (cpio -H newc pads to 512: {@link #bytes(int)}). */
  public byte[] bytes() { return bytes(4); }

  public byte[] bytes(int blockSize) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    int ino = 1;
    for (Member m : members) write(out, m, ino++);
    write(out, new Member("TRAILER!!!", 0, new byte[0]), 0);
    while (out.size() % blockSize != 0) out.write(0);
    return out.toByteArray();
  }

  private void write(ByteArrayOutputStream out, Member m, int ino) {
    byte[] name = (m.name() + "\0").getBytes(StandardCharsets.UTF_8);
    long sum = 0;
    if (crc) for (byte b : m.data()) sum += b & 0xff;
    String h = (crc ? "070702" : "070701") + hex(ino) + hex(m.mode()) + hex(0) + hex(0) + hex(1) + hex(1700000000)
        + hex(m.data().length) + hex(0) + hex(0) + hex(0) + hex(0) + hex(name.length) + hex(sum & 0xFFFFFFFFL);
    out.writeBytes(h.getBytes(StandardCharsets.US_ASCII));
    out.writeBytes(name);
    while (out.size() % 4 != 0) out.write(0);
    out.writeBytes(m.data());
    while (out.size() % 4 != 0) out.write(0);
  }

  private static String hex(long v) { return String.format("%08X", v); }

  public static byte[] gzip(byte[] data) {
    try {
      ByteArrayOutputStream b = new ByteArrayOutputStream();
      try (OutputStream o = new GZIPOutputStream(b)) {
        o.write(data);
      }
      return b.toByteArray();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  public static byte[] zstd(byte[] data) {
    try {
      ByteArrayOutputStream b = new ByteArrayOutputStream();
      try (OutputStream o = new ZstdOutputStream(b, 3)) {
        o.write(data);
      }
      return b.toByteArray();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** xz with the real tool and the kernel's preferred check (crc32), as mkinitramfs does. */
  public static byte[] xz(byte[] data) {
    Tools.require("xz");
    try {
      Path in = Files.createTempFile("cpio", ".bin");
      try {
        Files.write(in, data);
        Tools.check("xz", "--check=crc32", "-k", "-f", in.toString());
        Path out = Path.of(in + ".xz");
        byte[] b = Files.readAllBytes(out);
        Files.delete(out);
        return b;
      } finally {
        Files.deleteIfExists(in);
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Concatenation of byte arrays. */
  public static byte[] concat(byte[]... parts) {
    ByteArrayOutputStream b = new ByteArrayOutputStream();
    for (byte[] p : parts) b.writeBytes(p);
    return b.toByteArray();
  }

  /**
   * A small initramfs tree for kernel {@code kver}; each module is {@code dir/name} and lands at
   * {@code usr/lib/modules/<kver>/kernel/fs/dir/name.ko}. ext4 is listed as built in.
   */
  public static Cpio initramfsTree(String kver, String... modules) {
    String base = "usr/lib/modules/" + kver;
    Cpio c = newc().dir(".").dir("usr").dir("usr/lib").dir("usr/lib/modules").dir(base)
        .symlink("lib", "usr/lib").file("init", "#!/bin/sh\nexec /sbin/init\n")
        .file(base + "/modules.builtin", "kernel/fs/ext4/ext4.ko\n");
    for (String m : modules) {
      String dir = m.substring(0, m.indexOf('/'));
      c.dir(base + "/kernel/fs/" + dir).file(base + "/kernel/fs/" + m + ".ko", "\u007fELF fake module " + m);
    }
    return c;
  }
}

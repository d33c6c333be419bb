package dev.basalt.image.initramfs;

import java.util.Optional;

/** How one archive of an initramfs is stored; detected from its first bytes as the kernel does. */
public enum Compression {
  NONE("none", true),
  GZIP("gzip", true),
  ZSTD("zstd", true),
  /** Decompressed by the {@code xz} tool: ARCHITECTURE §9 allows no in-process xz library. */
  XZ("xz", true),
  LZMA("lzma", false),
  LZ4("lz4", false),
  BZIP2("bzip2", false),
  LZO("lzo", false);

  private final String id;
  private final boolean supported;

  Compression(String id, boolean supported) {
    this.id = id;
    this.supported = supported;
  }

  /** Lower-case name as initramfs-tools' {@code COMPRESS=} spells it. */
  public String id() { return id; }

  /** Whether {@link Initramfs} can read archives stored this way. */
  public boolean supported() { return supported; }

  /** The compression whose magic starts {@code head}, or empty; an uncompressed cpio is {@link #NONE}. */
  static Optional<Compression> detect(byte[] head, int length) {
    if (starts(head, length, 0x30, 0x37, 0x30, 0x37, 0x30)) return Optional.of(NONE); // "07070"
    if (starts(head, length, 0x1f, 0x8b) || starts(head, length, 0x1f, 0x9e)) return Optional.of(GZIP);
    if (starts(head, length, 0x28, 0xb5, 0x2f, 0xfd)) return Optional.of(ZSTD);
    if (starts(head, length, 0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00)) return Optional.of(XZ);
    if (starts(head, length, 0x5d, 0x00, 0x00)) return Optional.of(LZMA);
    if (starts(head, length, 0x02, 0x21, 0x4c, 0x18) || starts(head, length, 0x04, 0x22, 0x4d, 0x18)) {
      return Optional.of(LZ4);
    }
    if (starts(head, length, 0x42, 0x5a, 0x68)) return Optional.of(BZIP2); // "BZh"
    if (starts(head, length, 0x89, 0x4c, 0x5a, 0x4f)) return Optional.of(LZO);
    return Optional.empty();
  }

  private static boolean starts(byte[] head, int length, int... magic) {
    if (length < magic.length) return false;
    for (int i = 0; i < magic.length; i++) {
      if ((head[i] & 0xff) != magic[i]) return false;
    }
    return true;
  }

  @Override
  public String toString() { return id; }
}

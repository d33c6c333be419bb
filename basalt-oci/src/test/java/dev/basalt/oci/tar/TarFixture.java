package dev.basalt.oci.tar;

import dev.basalt.testkit.Tools;
import java.nio.file.Path;

/** Test helper: a real directory tree with every feature a layer can carry, made with the real tools (as root). */
public final class TarFixture {
  private TarFixture() {}

  public static final String LONG_DIR = "long/" + "a".repeat(60) + "/" + "b".repeat(80);
  public static final String LONG_COMPONENT = "c".repeat(150);
  public static final String LONG_TARGET = "t/".repeat(70) + "end";

  /**
   * Creates the tree under {@code root}. With {@code ustarSafe} it leaves out what plain ustar
   * cannot hold (a 150-byte component, a 143-byte link target, ids above 2097151).
   */
  public static void create(Path root, boolean ustarSafe) {
    Tools.require("setcap");
    Tools.require("setfattr");
    Tools.require("mknod");
    StringBuilder sh = new StringBuilder("set -e; cd '" + root + "'\n");
    sh.append("""
        mkdir -p d sticky sgdir "%1$s" empty-dir
        printf 'hello\\n' > d/file; chown 70000:70001 d/file; chmod 4755 d/file
        ln d/file hl
        printf x > sg; chmod 2750 sg
        chmod 1777 sticky; chmod 2775 sgdir
        head -c 3000000 /dev/urandom > big
        : > empty
        printf long > "%1$s/file.txt"
        ln -s d/file rel-link
        ln -s /etc/passwd abs-link
        touch cap; setcap cap_net_raw+ep cap
        touch xa; setfattr -n user.bin -v 0x00ff800a3d0a xa; setfattr -n user.empty xa
        setfattr -n trusted.t -v 0x0102 d
        mknod chr c 1 3; mknod blk b 7 0; mknod bigdev c 4000 1000000
        mkfifo fifo
        touch mid; chown 70000:65536 mid
        printf 'uni' > 'ünïcode-файл'
        touch -h -d '2020-01-02 03:04:05.123456789' d/file rel-link
        """.formatted(LONG_DIR));
    if (!ustarSafe) {
      sh.append("""
          printf y > "%1$s"
          ln -s "%2$s" longlink
          touch bigid; chown 3000000:3000001 bigid
          ln "%1$s" "long/hl-to-%1$s"
          """.formatted(LONG_COMPONENT, LONG_TARGET));
    }
    sh.append("find . -type d -exec touch -d @1600000000 {} +\n");
    Tools.check("sh", "-c", sh.toString());
  }
}

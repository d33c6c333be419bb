package dev.basalt.fs.tree;

import dev.basalt.testkit.Tools;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import java.util.Random;

/** Test helper: builds real directory trees with every kind of entry (needs root for devices and owners). */
public final class TestTrees {
  private TestTrees() {}

  /** 0x0200_0000 capability blob (VFS_CAP_REVISION_2, cap_net_bind_service), binary with NULs. */
  public static final String CAPABILITY_HEX = "0x0100000200040000000000000000000000000000";
  /** POSIX ACL xattr value: user::rwx, user:1234:r-x, group::r-x, mask::r-x, other::r-x. */
  public static final String ACL_HEX = "0x02000000" + "01000700ffffffff" + "02000500d2040000"
      + "04000500ffffffff" + "10000500ffffffff" + "20000500ffffffff";

  /** Every entry type plus the size/name/owner edge cases the EROFS writer must get right. */
  public static void edgeCases(Path root) throws IOException {
    Files.createDirectories(root);
    Random rnd = new Random(42);
    for (int size : new int[] {0, 1, 100, 4095, 4096, 4097, 8191, 8192, 12289, 65536 + 7, 1 << 20}) {
      write(root.resolve("size-" + size), random(rnd, size));
    }
    // All-zero 64 KiB chunks in the middle and at the end (with the tail): holes (chunk-based).
    byte[] sparse = random(rnd, 40 * 4096 + 123);
    java.util.Arrays.fill(sparse, 16 * 4096, 32 * 4096, (byte) 0);
    java.util.Arrays.fill(sparse, 33 * 4096, 34 * 4096, (byte) 0); // zero block inside a data chunk
    write(root.resolve("zero-blocks"), sparse);
    byte[] zeroEnd = random(rnd, 20 * 4096 + 5);
    java.util.Arrays.fill(zeroEnd, 16 * 4096, zeroEnd.length, (byte) 0);
    write(root.resolve("zero-end"), zeroEnd);
    write(root.resolve("all-zero"), new byte[5 * 4096]);
    write(root.resolve("n".repeat(255)), random(rnd, 10));
    write(root.resolve("ü".repeat(127) + "x"), random(rnd, 10)); // 255 bytes of UTF-8
    Path perms = Files.createDirectories(root.resolve("perms"));
    for (String m : new String[] {"4755", "2755", "6711", "0000", "0444", "1777"}) {
      Path f = perms.resolve("f" + m);
      write(f, m.getBytes());
      Tools.check("chmod", m, f.toString());
    }
    Path sticky = Files.createDirectories(root.resolve("sticky-dir"));
    Tools.check("chmod", "1777", sticky.toString());
    Path sgid = Files.createDirectories(root.resolve("setgid-dir"));
    Tools.check("chmod", "2775", sgid.toString());
    Path owners = Files.createDirectories(root.resolve("owners"));
    chown(write(owners.resolve("small"), new byte[] {1}), 1000, 1001);
    chown(write(owners.resolve("big-uid"), new byte[] {2}), 70000, 5);
    chown(write(owners.resolve("big-gid"), new byte[] {3}), 6, 4_000_000_000L);
    chown(owners, 65535, 65534);
    Path links = Files.createDirectories(root.resolve("links"));
    Files.createSymbolicLink(links.resolve("rel"), Path.of("../size-100"));
    Files.createSymbolicLink(links.resolve("abs"), Path.of("/etc/passwd"));
    Files.createSymbolicLink(links.resolve("dangling"), Path.of("no/such/thing"));
    Files.createSymbolicLink(links.resolve("long"), Path.of("x/".repeat(2000) + "end")); // 4003 bytes: not inline
    Path hard = links.resolve("hard-a");
    write(hard, random(rnd, 5000));
    Files.createLink(links.resolve("hard-b"), hard);
    Files.createLink(root.resolve("hard-c"), hard);
    Path dev = Files.createDirectories(root.resolve("dev"));
    Tools.check("mknod", dev.resolve("null").toString(), "c", "1", "3");
    Tools.check("mknod", dev.resolve("sda").toString(), "b", "8", "0");
    Tools.check("mknod", dev.resolve("big").toString(), "c", "511", "300000");
    Tools.check("mkfifo", dev.resolve("fifo").toString());
    try (ServerSocketChannel s = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
      s.bind(UnixDomainSocketAddress.of(dev.resolve("socket")));
    }
    Path x = Files.createDirectories(root.resolve("xattrs"));
    Path cap = write(x.resolve("ping"), new byte[] {9});
    setfattr(cap, "security.capability", CAPABILITY_HEX);
    setfattr(cap, "user.mime_type", "0x746578742f706c61696e");
    setfattr(cap, "trusted.overlay.opaque", "0x79");
    setfattr(cap, "user.empty", "0x");
    Path aclDir = Files.createDirectories(x.resolve("acl-dir"));
    setfattr(aclDir, "system.posix_acl_access", ACL_HEX);
    setfattr(aclDir, "system.posix_acl_default", ACL_HEX);
    // Big xattrs plus a tail that then no longer fits next to the inode: tail in a data block.
    Path bigx = write(x.resolve("big-xattr"), random(rnd, 4096 + 3000));
    setfattr(bigx, "user.big", "0x" + "ab".repeat(2000));
    Path wide = Files.createDirectories(root.resolve("wide"));
    FileTime common = FileTime.from(Instant.ofEpochSecond(1_234_567_890L, 500));
    for (int i = 0; i < 10_000; i++) Files.setLastModifiedTime(Files.createFile(wide.resolve("entry-" + i)), common);
    Path deep = root.resolve("deep");
    for (int i = 0; i < 200; i++) deep = deep.resolve("d" + i);
    Files.createDirectories(deep);
    write(deep.resolve("bottom"), "deep".getBytes());
    // Distinct mtimes (ns precision), also before the epoch, on every kind of entry.
    setMtime(root.resolve("size-1"), Instant.ofEpochSecond(1_700_000_000L, 123_456_789));
    setMtime(root.resolve("size-0"), Instant.ofEpochSecond(-86_400L * 365, 5));
    setMtime(links.resolve("rel"), Instant.ofEpochSecond(1_600_000_000L, 1));
    setMtime(dev.resolve("fifo"), Instant.ofEpochSecond(1_500_000_000L, 2));
    setMtime(perms, Instant.ofEpochSecond(1_400_000_000L, 999_999_999));
    setMtime(root, Instant.ofEpochSecond(1_300_000_000L));
  }

  public static Path write(Path p, byte[] content) throws IOException {
    Files.write(p, content);
    return p;
  }

  public static byte[] random(Random rnd, int size) {
    byte[] b = new byte[size];
    rnd.nextBytes(b);
    return b;
  }

  public static void chown(Path p, long uid, long gid) {
    Tools.check("chown", "-h", uid + ":" + gid, p.toString());
  }

  public static void setfattr(Path p, String name, String hexValue) {
    Tools.require("setfattr");
    Tools.check("setfattr", "-h", "-n", name, "-v", hexValue, p.toString());
  }

  public static void setMtime(Path p, Instant t) throws IOException {
    // touch, not Files.setTimes: the JDK opens the file for that, which blocks on a fifo.
    Tools.check("touch", "-h", "-m", "-d", "@" + t.getEpochSecond() + "." + String.format("%09d", t.getNano()),
        p.toString());
  }
}

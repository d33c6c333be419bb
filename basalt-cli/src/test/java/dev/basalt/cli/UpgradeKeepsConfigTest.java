package dev.basalt.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.basalt.fs.fat.Fat32Reader;
import dev.basalt.fs.gpt.GptPartition;
import dev.basalt.fs.gpt.GptTable;
import dev.basalt.testkit.Tools;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code basalt disk --config} users, keys and host name survive {@code basalt upgrade}: the disk
 * keeps the config on the ESP, the update applies it again to slot b (accounts merged into the new
 * image's files, uids kept), checked offline on a disk file with the node test hooks.
 */
class UpgradeKeepsConfigTest {
  @TempDir Path tmp;

  private Path image(String version, String passwdExtra) throws IOException {
    Path r = NodeCommandsTest.rootfs(tmp, version);
    Files.writeString(r.resolve("etc/passwd"), "root:x:0:0:root:/root:/bin/sh\n" + passwdExtra);
    Files.writeString(r.resolve("etc/group"), "root:x:0:\nsudo:x:27:\n");
    Files.writeString(r.resolve("etc/shadow"), "root:*:19000:0:99999:7:::\n");
    Files.writeString(r.resolve("etc/hostname"), "debian\n");
    Files.createDirectories(r.resolve("var/lib"));
    return r;
  }

  @Test
  void usersKeysAndHostnameOfTheDiskConfigAreInSlotB() throws Exception {
    Tools.require("fsck.erofs");
    String layout = tmp.resolve("layout").toString();
    String stable = "oci:" + layout + ":stable";
    Cli.run("image", "import", image("1", "").toString(), stable).ok();
    Path config = tmp.resolve("config.toml");
    Files.writeString(config, """
        hostname = "edge-01"
        [customizations.kernel]
        append = "quiet"
        [[customizations.user]]
        name = "alice"
        password = "$6$salt$alicehash"
        key = "ssh-ed25519 AAAAalice alice@laptop"
        groups = ["sudo"]
        [[customizations.user]]
        name = "root"
        password = "$6$r$roothash"
        key = "ssh-ed25519 AAAAroot admin"
        """);
    Path disk = tmp.resolve("disk.raw");
    Cli.run("disk", stable, "-o", disk.toString(), "--no-agent", "--config", config.toString(), "--image-ref", stable,
        "--esp-size", "64M", "--root-size", "16M", "--size", "400M").ok();

    // the ESP as the node sees it mounted; the booted system: slot a
    GptTable table;
    try (FileChannel ch = FileChannel.open(disk, StandardOpenOption.READ)) {
      table = GptTable.read(ch);
    }
    Path esp = unpackEsp(disk, table.find("esp").orElseThrow());
    assertThat(esp.resolve("basalt/config.toml")).exists();
    String entryA;
    try (var s = Files.list(esp.resolve("loader/entries"))) {
      entryA = Files.readString(s.findFirst().orElseThrow());
    }
    Path sys = tmp.resolve("sysroot");
    Files.createDirectories(sys.resolve("proc/sys/kernel/random"));
    Files.writeString(sys.resolve("proc/cmdline"), entryA.lines().filter(l -> l.startsWith("options ")).findFirst()
        .orElseThrow().substring(8) + "\n");
    Files.writeString(sys.resolve("proc/sys/kernel/random/boot_id"), "boot-1\n");

    // v2: the image gained a system user and changed its default host name
    Cli.run("image", "import", image("2", "_chrony:x:101:101::/run/chrony:/usr/sbin/nologin\n").toString(), stable).ok();
    Cli.Run up = Cli.run(args("upgrade", "--sysroot", sys.toString(), "--disk", disk.toString(), "--esp", esp.toString()));
    up.ok();
    assertThat(up.err()).contains("applying the node's config (2 users, host name edge-01)", "in slot b");

    Path a = extract(disk, table.find("root-a").orElseThrow());
    Path b = extract(disk, table.find("root-b").orElseThrow());
    assertThat(Files.readString(b.resolve("etc/os-release"))).contains("CLI OS 2");
    // accounts: the new image's (its new system user) plus the config's, alice with the uid she has on slot a
    assertThat(Files.readString(a.resolve("etc/passwd"))).contains("alice:x:1000:1000::/var/home/alice:/bin/sh\n");
    assertThat(Files.readString(b.resolve("etc/passwd"))).isEqualTo("root:x:0:0:root:/root:/bin/sh\n"
        + "_chrony:x:101:101::/run/chrony:/usr/sbin/nologin\nalice:x:1000:1000::/var/home/alice:/bin/sh\n");
    assertThat(Files.readString(b.resolve("etc/shadow"))).contains("root:$6$r$roothash:19000:", "alice:$6$salt$alicehash:");
    assertThat(Files.readString(b.resolve("etc/group"))).contains("sudo:x:27:alice\n", "alice:x:1000:\n");
    assertThat(Files.readString(b.resolve("etc/hostname"))).isEqualTo("edge-01\n");
    // keys: on a booted node /root and /home come from the var partition, seeded once from slot a's /root and /var
    // (preinit): the owner there is the uid slot b gives alice; slot b carries its own copies too
    Path keys = a.resolve("var/home/alice/.ssh/authorized_keys");
    assertThat(Files.readString(keys)).isEqualTo("ssh-ed25519 AAAAalice alice@laptop\n");
    assertThat(Files.readAttributes(keys, "unix:uid")).isEqualTo(Map.of("uid", 1000));
    assertThat(Files.readString(a.resolve("root/.ssh/authorized_keys"))).isEqualTo("ssh-ed25519 AAAAroot admin\n");
    assertThat(Files.readString(b.resolve("root/.ssh/authorized_keys"))).isEqualTo("ssh-ed25519 AAAAroot admin\n");
    // the kernel argument of the config is carried by the entry
    try (var s = Files.list(esp.resolve("loader/entries"))) {
      String entryB = Files.readString(s.filter(p -> p.getFileName().toString().contains("-b+")).findFirst().orElseThrow());
      assertThat(entryB).contains(" quiet ", "root=PARTUUID=" + table.find("root-b").orElseThrow().uuid());
    }
  }

  private Path unpackEsp(Path disk, GptPartition p) throws IOException {
    Path esp = Files.createDirectories(tmp.resolve("esp"));
    try (FileChannel ch = FileChannel.open(disk, StandardOpenOption.READ)) {
      Fat32Reader fat = Fat32Reader.open(ch, p.offsetBytes(), p.sizeBytes());
      copy(fat, "", esp);
    }
    return esp;
  }

  private static void copy(Fat32Reader fat, String dir, Path to) throws IOException {
    for (Fat32Reader.Entry e : fat.list(dir)) {
      if (e.name().equals(".") || e.name().equals("..")) continue;
      String path = dir.isEmpty() ? e.name() : dir + "/" + e.name();
      if (e.directory()) {
        Files.createDirectories(to.resolve(path));
        copy(fat, path, to);
      } else {
        Files.write(to.resolve(path), fat.readFile(path));
      }
    }
  }

  private Path extract(Path disk, GptPartition p) {
    Path img = tmp.resolve(p.name() + ".erofs");
    Path x = tmp.resolve(p.name());
    Tools.check("dd", "if=" + disk, "of=" + img, "bs=1M", "skip=" + p.offsetBytes() / (1 << 20),
        "count=" + p.sizeBytes() / (1 << 20), "status=none");
    Tools.check("fsck.erofs", "--extract=" + x, img.toString());
    return x;
  }

  private static String[] args(String... a) {
    return new ArrayList<>(List.of(a)).toArray(String[]::new);
  }
}

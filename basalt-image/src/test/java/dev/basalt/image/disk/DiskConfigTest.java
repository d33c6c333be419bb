package dev.basalt.image.disk;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.api.Test;

class DiskConfigTest {

  @Test
  void tomlRoundTripsAndFixesUidsForTheNode() throws Exception {
    DiskConfig c = DiskConfig.parse("""
        hostname = "edge-01"
        [customizations.kernel]
        append = "quiet"
        [[customizations.user]]
        name = "alice"
        password = "$6$s$h"
        key = "ssh-ed25519 AAAA \\"quoted\\" \\\\ x"
        groups = ["sudo"]
        [[customizations.user]]
        name = "bob"
        uid = 2000
        [[customizations.user]]
        name = "root"
        """, "c.toml");
    assertThat(c.users().get(0).key()).contains("ssh-ed25519 AAAA \"quoted\" \\ x");
    assertThat(c.users().get(1).uid()).hasValue(2000);
    assertThat(DiskConfig.parse(c.toToml(), "again.toml")).isEqualTo(c);
    DiskConfig node = c.forNode(java.util.Map.of("alice", 1001L, "bob", 2000L));
    assertThat(node.kernelAppend()).isEmpty();
    assertThat(node.users()).extracting(u -> u.uid().orElse(-1)).containsExactly(1001L, 2000L, -1L);
    assertThat(DiskConfig.parse(node.toToml(), "node.toml")).isEqualTo(node);
  }

  @ParameterizedTest
  @org.junit.jupiter.params.provider.ValueSource(strings = {"uid = 999", "uid = 60000", "uid = \"1000\""})
  void badUidsNameTheKeyAndLine(String line) {
    assertThatThrownBy(() -> DiskConfig.parse("[[customizations.user]]\nname = \"bob\"\n" + line + "\n", "c.toml"))
        .hasMessageStartingWith("c.toml line 3: customizations.user.uid: ");
    assertThatThrownBy(() -> DiskConfig.parse("[[customizations.user]]\nname = \"root\"\nuid = 1000\n", "c.toml"))
        .hasMessageContaining("none for root");
  }

  @Test
  void parsesEveryKey() throws Exception {
    DiskConfig c = DiskConfig.parse("""
        # a comment
        hostname = "node-7.example.org"

        [customizations.kernel]
        append = " quiet  loglevel=3 "

        [[customizations.user]]
        name = "alice"
        password = "$6$salt$hash"
        key = "ssh-ed25519 AAAA alice"
        groups = ["sudo", "sudo", "adm"]

        [[customizations.user]]
        name = "root"
        """, "c.toml");
    assertThat(c.hostname()).contains("node-7.example.org");
    assertThat(c.kernelAppend()).containsExactly("quiet", "loglevel=3");
    assertThat(c.users()).containsExactly(
        new DiskConfig.User("alice", Optional.of("$6$salt$hash"), Optional.of("ssh-ed25519 AAAA alice"), List.of("sudo", "adm")),
        new DiskConfig.User("root", Optional.empty(), Optional.empty(), List.of()));
    assertThat(DiskConfig.parse("", "empty.toml")).isEqualTo(DiskConfig.EMPTY);
  }

  static Stream<Arguments> bad() {
    return Stream.of(
        Arguments.of("hostname = \"h\"\nfoo = 1\n", "c.toml line 2: foo: unknown key 'foo'"),
        Arguments.of("[customizations]\n\n[customizations.kernel]\nappend = \"x\"\nprepend = \"y\"\n",
            "c.toml line 5: customizations.kernel.prepend: unknown key 'prepend' in [customizations.kernel]"),
        Arguments.of("[[customizations.user]]\nname = \"a\"\n[[customizations.user]]\nname = \"b\"\nshell = \"/bin/zsh\"\n",
            "c.toml line 5: customizations.user.shell: unknown key 'shell' in [customizations.user]"),
        Arguments.of("[customizations.filesystem]\nx = 1\n", "c.toml line 1: customizations.filesystem: unknown key 'filesystem'"),
        Arguments.of("[[customizations.user]]\nname = \"a\"\n\n[[customizations.user]]\npassword = \"$6$a$b\"\n",
            "c.toml line 4: customizations.user: a [[customizations.user]] needs a name"),
        Arguments.of("[[customizations.user]]\nname = \"a\"\npassword = \"hunter2\"\n",
            "c.toml line 2: customizations.user.name: password of user 'a' must be a crypt(3) hash"),
        Arguments.of("[[customizations.user]]\nname = \"Bad Name\"\n", "c.toml line 2: customizations.user.name: user name 'Bad Name'"),
        Arguments.of("[[customizations.user]]\nname = 7\n", "c.toml line 2: customizations.user.name: must be a string, got number"),
        Arguments.of("[[customizations.user]]\nname = \"a\"\ngroups = \"wheel\"\n", "c.toml line 3: customizations.user.groups: must be an array"),
        Arguments.of("hostname = \"-bad-\"\n", "c.toml line 1: hostname: '-bad-' is not a valid host name"),
        Arguments.of("[[customizations.user]]\nname = \"a\"\n[[customizations.user]]\nname = \"a\"\n", "user 'a' is configured twice"),
        Arguments.of("hostname = \n", "c.toml line 1: not valid TOML"));
  }

  @ParameterizedTest
  @MethodSource("bad")
  void errorsNameTheKeyAndLine(String toml, String message) {
    assertThatThrownBy(() -> DiskConfig.parse(toml, "c.toml"))
        .isInstanceOf(DiskConfig.ConfigException.class).hasMessageContaining(message);
  }
}

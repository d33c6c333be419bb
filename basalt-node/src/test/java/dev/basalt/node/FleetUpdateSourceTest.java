package dev.basalt.node;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The parts of the fleet source that need no server (the protocol is AgentFleetTest's and FleetBootTest's). */
class FleetUpdateSourceTest {
  @TempDir Path tmp;

  @Test
  void theDeviceNameIsTheKernelsHostNameEvenWhenEtcHostsDoesNotListIt() throws Exception {
    // a name no resolver knows: InetAddress.getLocalHost() would fail on a node whose image only set /etc/hostname
    Path f = Files.writeString(tmp.resolve("hostname"), "edge-node-unresolvable-7\n");
    assertThat(FleetUpdateSource.hostName(f)).isEqualTo("edge-node-unresolvable-7");
  }

  @Test
  void withoutProcfsTheResolverNamesTheHost() throws Exception {
    assertThat(FleetUpdateSource.hostName(tmp.resolve("missing"))).isEqualTo(InetAddress.getLocalHost().getHostName());
    assertThat(FleetUpdateSource.hostName(Files.writeString(tmp.resolve("none"), "(none)\n")))
        .isEqualTo(InetAddress.getLocalHost().getHostName());
  }

  @Test
  void registryTargetsArePulledByTheAssignedDigest() {
    String d = "sha256:" + "ab".repeat(32);
    assertThat(FleetUpdateSource.pinned("docker://10.0.2.2:5000/fleet/os:v2", d)).isEqualTo("docker://10.0.2.2:5000/fleet/os@" + d);
    assertThat(FleetUpdateSource.pinned("oci:/srv/os:v2", d)).isEqualTo("oci:/srv/os:v2");
  }
}

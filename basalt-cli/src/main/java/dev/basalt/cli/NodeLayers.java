package dev.basalt.cli;

import dev.basalt.image.node.AgentRuntime;
import dev.basalt.image.node.NodeLayer;
import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** The node layer this installation of Basalt adds to images: scripts and units, plus the agent when packaged. */
final class NodeLayers {
  private NodeLayers() {}

  /**
   * With {@code withAgent}, the layer carries a jlinked runtime and this CLI's own jars (the agent), which needs
   * Basalt to run from jars (as {@code ./basalt} does); from class directories (an IDE, a test run) the agent is
   * left out and the layer has the scripts and units only.
   */
  static NodeLayer forThisInstallation(boolean withAgent) throws IOException {
    NodeLayer.Builder b = NodeLayer.builder().mtime(sourceDateEpoch());
    if (!withAgent) return b.build();
    List<Path> jars = new ArrayList<>();
    for (String entry : System.getProperty("java.class.path", "").split(File.pathSeparator)) {
      if (entry.isEmpty()) continue;
      Path p = Path.of(entry);
      if (!entry.endsWith(".jar") || !Files.isRegularFile(p)) return NodeLayer.builder().mtime(sourceDateEpoch()).build();
      if (isServerOnly(p)) continue;
      jars.add(p);
    }
    if (jars.isEmpty()) return b.build();
    System.err.println("packaging the agent (jlinked runtime, cached after the first time)...");
    return b.agentJars(jars).runtime(AgentRuntime.builder().build().build()).build();
  }

  /**
   * On a node, the layer it runs from, rebuilt from its own installation (the agent's jars and the
   * jlinked runtime it runs on), so that an update keeps the node layer of the running agent: the
   * runtime cannot be jlinked there (no JDK). Empty when not running from a node's runtime.
   */
  static java.util.Optional<NodeLayer> ofRunningNode() throws IOException {
    Path home = Path.of(System.getProperty("java.home", "")).toAbsolutePath();
    if (!home.equals(Path.of("/", NodeLayer.RUNTIME_DIR))) return java.util.Optional.empty();
    List<Path> jars = new ArrayList<>();
    for (String entry : System.getProperty("java.class.path", "").split(File.pathSeparator)) {
      if (entry.isEmpty()) continue;
      Path p = Path.of(entry);
      if (entry.endsWith("*")) {
        try (var s = Files.list(p.getParent())) {
          s.filter(f -> f.toString().endsWith(".jar")).sorted().forEach(jars::add);
        }
      } else if (entry.endsWith(".jar") && Files.isRegularFile(p)) {
        jars.add(p);
      }
    }
    if (jars.isEmpty()) return java.util.Optional.empty();
    return java.util.Optional.of(NodeLayer.builder().mtime(sourceDateEpoch()).agentJars(jars).runtime(home).build());
  }

  /** The directory of the fleet server's jars (Helidon, JDBI, Flyway, databases): never shipped to nodes. */
  static final String SERVER_LIB = "server-lib";

  /** Whether {@code jar} belongs to the fleet server only (it sits in {@value #SERVER_LIB}, see basalt-cli's pom). */
  static boolean isServerOnly(Path jar) {
    Path dir = jar.toAbsolutePath().getParent();
    return dir != null && dir.getFileName() != null && dir.getFileName().toString().equals(SERVER_LIB);
  }

  static long sourceDateEpoch() {
    String sde = System.getenv("SOURCE_DATE_EPOCH");
    if (sde == null || sde.isBlank()) return 0;
    try {
      return Long.parseLong(sde.strip());
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("SOURCE_DATE_EPOCH must be whole seconds, got '" + sde + "'");
    }
  }
}

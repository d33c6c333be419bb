package dev.basalt.cli;

import dev.basalt.api.ApiJson;
import dev.basalt.api.Deployment;
import dev.basalt.api.NodeStatus;
import dev.basalt.node.Node;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import tools.jackson.dataformat.yaml.YAMLMapper;

@Command(name = "status", mixinStandardHelpOptions = true,
    description = {"Show the booted, staged and rollback deployments of this machine.",
        "JSON follows dev/basalt/api/node-status.schema.json."})
final class StatusCommand implements Callable<Integer> {
  enum Format { json, yaml, human }

  @Option(names = "--format", defaultValue = "human", description = "json, yaml or human (default ${DEFAULT-VALUE}).")
  Format format;

  @Option(names = "--json", description = "Same as --format json.") boolean json;

  @Mixin NodeFlags node;
  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() throws Exception {
    NodeStatus s = Node.open(node.environment(spec.commandLine())).status();
    Format f = json ? Format.json : format;
    switch (f) {
      case json -> System.out.println(ApiJson.write(s));
      case yaml -> System.out.print(YAMLMapper.builder().build().writeValueAsString(ApiJson.mapper().valueToTree(s)));
      case human -> System.out.print(human(s));
    }
    return 0;
  }

  static String human(NodeStatus s) {
    StringBuilder b = new StringBuilder();
    line(b, "Booted", s.booted());
    line(b, "Staged", s.staged());
    line(b, "Rollback", s.rollback());
    if (!s.failedDigests().isEmpty()) b.append("Failed here: ").append(String.join(", ", s.failedDigests())).append('\n');
    b.append("Update: ").append(s.updatePhase().name().toLowerCase(Locale.ROOT).replace('_', ' '));
    if (s.lastError() != null) b.append(" (").append(s.lastError()).append(')');
    return b.append('\n').toString();
  }

  private static void line(StringBuilder b, String what, Deployment d) {
    b.append(String.format(Locale.ROOT, "%-9s ", what + ":"));
    if (d == null) {
      b.append("none\n");
      return;
    }
    b.append(d.imageRef() != null ? d.imageRef() : "(image unknown)").append('\n');
    b.append(String.format(Locale.ROOT, "          slot %s, serial %08d, health %s%n", d.slot(), d.serial(),
        d.health().name().toLowerCase(Locale.ROOT)));
    if (d.manifestDigest() != null) b.append("          digest ").append(d.manifestDigest()).append('\n');
    if (d.verityRootHash() != null) b.append("          verity ").append(d.verityRootHash()).append('\n');
    if (d.deployedAt() != null) b.append("          deployed ").append(d.deployedAt()).append('\n');
  }
}

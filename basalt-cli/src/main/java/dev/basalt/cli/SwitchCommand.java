package dev.basalt.cli;

import dev.basalt.node.Node;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;

@Command(name = "switch", mixinStandardHelpOptions = true,
    description = {"Follow another image reference from now on: writes it into the inactive slot; it boots next, on trial.",
        "Prints the manifest digest."})
final class SwitchCommand implements Callable<Integer> {
  @Parameters(index = "0", paramLabel = "REF", description = "docker://…, oci:…, oci-archive:…, docker-archive:…") String ref;
  @Mixin UpdateFlags update;
  @Mixin NodeFlags node;
  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() throws Exception {
    RegistryFlags.parse(ref);
    return update.run(Node.open(node.environment(spec.commandLine())), node, ref);
  }
}

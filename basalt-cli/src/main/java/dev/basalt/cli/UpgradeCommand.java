package dev.basalt.cli;

import dev.basalt.api.Deployment;
import dev.basalt.node.CheckResult;
import dev.basalt.node.Node;
import dev.basalt.node.NodeException;
import dev.basalt.node.NodeState;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "upgrade", mixinStandardHelpOptions = true,
    description = {"Update to the newest image of the reference this machine follows (the staged or booted one),",
        "written into the inactive slot; it boots next, on trial. Prints the manifest digest."})
final class UpgradeCommand implements Callable<Integer> {
  @Option(names = "--check", description = "Only resolve the reference and say whether an update is available.") boolean check;
  @Mixin UpdateFlags update;
  @Mixin NodeFlags node;
  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() throws Exception {
    Node n = Node.open(node.environment(spec.commandLine()));
    NodeState.Data d = n.reconcile();
    Deployment follow = d.staged() != null && d.staged().imageRef() != null ? d.staged() : d.booted();
    if (follow == null || follow.imageRef() == null) {
      throw new NodeException("no image reference is recorded for the booted deployment (slot "
          + (d.booted() == null ? "?" : d.booted().slot()) + "): use 'basalt switch REF' once");
    }
    if (check) {
      CheckResult c = update.updater(n, node).check(follow.imageRef());
      System.err.println(c.updateAvailable() ? "update available: " + c.ref() + " is " + c.manifestDigest()
          : c.failedBefore() ? c.manifestDigest() + " failed to boot here before: not offered"
          : "up to date: " + c.ref() + " is " + c.manifestDigest());
      System.out.println(c.manifestDigest());
      return 0;
    }
    return update.run(n, node, follow.imageRef());
  }
}

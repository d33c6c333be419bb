package dev.basalt.cli;

import dev.basalt.node.Node;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "rollback", mixinStandardHelpOptions = true,
    description = {"Boot the other slot next: the previous deployment gets a new, higher entry serial (on trial),",
        "or a staged deployment that has not booted yet is discarded."})
final class RollbackCommand implements Callable<Integer> {
  @Option(names = "--apply", description = "Reboot right away.") boolean apply;
  @Mixin NodeFlags node;
  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() throws Exception {
    Node n = Node.open(node.environment(spec.commandLine()));
    Node.RollbackResult r = n.rollback();
    System.err.println(r.message());
    if (r.entry() != null) System.out.println(r.entry());
    if (apply && !r.discarded()) {
      System.err.println("rebooting");
      n.environment().rebooter().reboot();
    }
    return 0;
  }
}

package dev.basalt.cli;

import dev.basalt.node.Agent;
import dev.basalt.node.AgentPolicy;
import dev.basalt.node.FleetConfig;
import dev.basalt.node.FleetUpdateSource;
import dev.basalt.node.Node;
import dev.basalt.node.UpdateSource;
import dev.basalt.node.Updater;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.Random;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "agent", mixinStandardHelpOptions = true,
    description = {"The node agent (basalt-agent.service): reconciles the state after boot (health, blessing, a",
        "fallback's failed digest), then polls for updates on a jittered timer and downloads or applies them",
        "per /etc/basalt/agent.toml (mode = download-only | apply | window); with server = \"https://...\" it enrolls",
        "with the fleet server and follows the image it assigns (long poll), reporting its status after each pass."})
final class AgentCommand implements Callable<Integer> {
  @Option(names = "--config", paramLabel = "FILE", defaultValue = "/etc/basalt/agent.toml",
      description = "The policy file (default ${DEFAULT-VALUE}; missing = mode apply, hourly).")
  Path config;

  @Option(names = "--once", description = "Reconcile and poll once now, then exit (no timer).") boolean once;

  @Option(names = "--reconcile-only", description = "Reconcile after boot and exit.") boolean reconcileOnly;

  @Mixin NodeFlags node;
  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() throws Exception {
    if (once && reconcileOnly) throw new CommandLine.ParameterException(spec.commandLine(), "--once and --reconcile-only exclude each other");
    AgentPolicy policy = AgentPolicy.read(config);
    Node n = Node.open(node.environment(spec.commandLine()));
    Updater.Builder b = Updater.builder(n).tlsVerify(policy.tlsVerify()).listener(node.listener());
    if (node.sysroot == null) NodeLayers.ofRunningNode().ifPresent(l -> b.nodeLayer(l::writeTo));
    java.util.function.Consumer<String> log = m -> System.out.println("basalt-agent: " + m);
    UpdateSource source = FleetConfig.read(config)
        .<UpdateSource>map(f -> new FleetUpdateSource(f, n.environment().stateDir(), Duration.ofSeconds(once ? 0 : 30),
            Duration.ofSeconds(once ? 60 : 600), log))
        .orElse(UpdateSource.local(policy));
    Agent agent = new Agent(n, b.build(), policy, source, Clock.systemUTC(), new Random(), log);
    if (reconcileOnly) {
      agent.afterBoot();
      return 0;
    }
    if (once) {
      agent.afterBoot();
      System.out.println(agent.poll().name().toLowerCase(java.util.Locale.ROOT));
      return 0;
    }
    agent.run();
    return 0;
  }
}

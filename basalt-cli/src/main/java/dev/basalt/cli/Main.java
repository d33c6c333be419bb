package dev.basalt.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** Entry point of the {@code basalt} command. */
@Command(
    name = "basalt",
    mixinStandardHelpOptions = true,
    versionProvider = Main.Version.class,
    description = "Bootable containers: OCI images as the operating system.",
    subcommands = {
      CopyCommand.class,
      InspectCommand.class,
      ExportCommand.class,
      ImageCommand.class,
      MkfsCommand.class,
      DiskCommand.class,
      InstallCommand.class,
      CacheCommand.class,
      RunCommand.class,
      StatusCommand.class,
      UpgradeCommand.class,
      SwitchCommand.class,
      RollbackCommand.class,
      AgentCommand.class,
      ServerCommand.class,
      FleetCommand.class,
      SimulateCommand.class,
      CommandLine.HelpCommand.class
    })
public final class Main implements Runnable {

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    throw new CommandLine.ParameterException(spec.commandLine(), "a command is required");
  }

  public static void main(String[] args) {
    System.exit(execute(args));
  }

  /** Runs the command line and returns its exit code (0 ok, 1 failure, 2 usage error). */
  public static int execute(String... args) {
    CommandLine cl = new CommandLine(new Main());
    cl.setExecutionExceptionHandler(Main::handleFailure);
    return cl.execute(args);
  }

  private static int handleFailure(Exception e, CommandLine cl, CommandLine.ParseResult parsed) {
    String message = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
    // The full command path (e.g. "basalt fleet rollouts start"): leaf names such as "start" or "list" are ambiguous.
    cl.getErr().println(cl.getCommandSpec().qualifiedName(" ") + ": error: " + message);
    if (System.getenv("BASALT_DEBUG") != null) e.printStackTrace(cl.getErr());
    return 1;
  }

  static final class Version implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
      String v = Main.class.getPackage().getImplementationVersion();
      return new String[] {"basalt " + (v == null ? "dev" : v)};
    }
  }
}

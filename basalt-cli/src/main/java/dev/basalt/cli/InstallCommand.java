package dev.basalt.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

@Command(name = "install", mixinStandardHelpOptions = true,
    description = "Install an image onto this machine's storage (from a live medium or another disk).",
    subcommands = {InstallToDiskCommand.class})
final class InstallCommand implements Runnable {
  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    throw new CommandLine.ParameterException(spec.commandLine(), "a subcommand is required: to-disk");
  }
}

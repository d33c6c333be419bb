package dev.basalt.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

@Command(name = "image", mixinStandardHelpOptions = true, description = "Build-side image commands.",
    subcommands = {ImageBuildCommand.class, ImageImportCommand.class, LintCommand.class, ImageKeygenCommand.class, ImageSignCommand.class,
        ImageVerifyCommand.class})
final class ImageCommand implements Runnable {
  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    throw new CommandLine.ParameterException(spec.commandLine(), "a subcommand is required");
  }
}

package io.batchgen.cli;

import io.batchgen.engine.tools.CommandArgs;
import java.util.Set;

/** Command-line handling shared by the Spark tools: parse, or print usage and exit. */
final class ToolArgs {
  private ToolArgs() {
  }

  /**
   * The parsed options, or null after printing the usage for {@code --help}; on a bad command
   * line prints the problem and the usage and exits with status 2.
   */
  static CommandArgs parseOrExit(String[] args, Set<String> options, String name, String usage) {
    CommandArgs a;
    try {
      a = CommandArgs.parse(args, options, Set.of());
    } catch (CommandArgs.UsageException e) {
      System.err.println(name + ": " + e.getMessage());
      System.err.print(usage);
      System.exit(2);
      return null;
    }
    if (a.help()) {
      System.out.print(usage);
      return null;
    }
    return a;
  }
}

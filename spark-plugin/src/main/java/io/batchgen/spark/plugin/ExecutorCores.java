package io.batchgen.spark.plugin;

import java.util.Arrays;
import java.util.List;
import java.util.OptionalInt;
import org.apache.spark.api.plugin.PluginContext;

/**
 * The cores an executor was given, which its runtime computes on unless
 * {@code spark.batchgen.engine.threads} says otherwise, and where that figure came from.
 *
 * <p>{@code spark.executor.cores} when the application sets it. Otherwise the cluster manager's
 * grant: a standalone Worker (like YARN and Kubernetes) starts an executor as
 * {@code CoarseGrainedExecutorBackend ... --cores N}, but does not put N into the executor's
 * conf, and without it an executor's runtime took every core of its machine, so two executors
 * sharing a machine each ran as many threads as it has cores. Only in local mode, where the
 * executor is the driver JVM, is the whole machine the executor's. Never more than the
 * machine's cores.
 *
 * @param count   compute threads, at least 1
 * @param source  where {@code count} came from, for the log
 * @param guessed whether {@code count} is a guess: the machine's cores on a cluster executor
 *                that nothing told how many it was given
 */
record ExecutorCores(int count, String source, boolean guessed) {

  /** The entry point of the JVM of a cluster executor (YARN's subclass ends the same). */
  private static final String EXECUTOR_MAIN = "CoarseGrainedExecutorBackend";

  /** This executor's cores. */
  static ExecutorCores of(PluginContext ctx) {
    OptionalInt configured = ctx.conf().contains("spark.executor.cores")
        ? OptionalInt.of(ctx.conf().getInt("spark.executor.cores", 0)) : OptionalInt.empty();
    return resolve("driver".equals(ctx.executorID()), configured, launchArguments(),
        Runtime.getRuntime().availableProcessors());
  }

  /**
   * @param onDriver   the executor is the driver JVM (local mode)
   * @param configured {@code spark.executor.cores}, when set
   * @param launchArgs this JVM's command line after the {@code java} executable
   * @param machine    the machine's cores
   */
  static ExecutorCores resolve(boolean onDriver, OptionalInt configured, List<String> launchArgs,
      int machine) {
    if (onDriver) {
      return new ExecutorCores(machine, "all " + machine + " cores of the machine (local mode)",
          false);
    }
    if (configured.isPresent()) {
      return capped(configured.getAsInt(), "spark.executor.cores", machine);
    }
    OptionalInt granted = grantedCores(launchArgs);
    if (granted.isPresent()) {
      return capped(granted.getAsInt(), "the --cores its cluster manager started it with",
          machine);
    }
    return new ExecutorCores(machine, "all " + machine + " cores of the machine: neither "
        + "spark.executor.cores nor the executor's launch command says how many it was given; "
        + "set spark.executor.cores when a machine runs more than one executor", true);
  }

  /**
   * The {@code --cores N} among the arguments after the executor's main class; empty when the
   * JVM is not a cluster executor or N is missing or not a positive number.
   */
  static OptionalInt grantedCores(List<String> launchArgs) {
    int main = -1;
    for (int i = 0; i < launchArgs.size(); i++) {
      if (launchArgs.get(i).endsWith(EXECUTOR_MAIN)) {
        main = i;
        break;
      }
    }
    if (main < 0) {
      return OptionalInt.empty();
    }
    for (int i = main + 1; i + 1 < launchArgs.size(); i++) {
      if (launchArgs.get(i).equals("--cores")) {
        try {
          int n = Integer.parseInt(launchArgs.get(i + 1).trim());
          return n >= 1 ? OptionalInt.of(n) : OptionalInt.empty();
        } catch (NumberFormatException e) {
          return OptionalInt.empty();
        }
      }
    }
    return OptionalInt.empty();
  }

  private static ExecutorCores capped(int n, String source, int machine) {
    if (n > machine) {
      return new ExecutorCores(machine, source + " (" + n + "), capped at the machine's "
          + machine + " cores", false);
    }
    return new ExecutorCores(Math.max(1, n), source, false);
  }

  /**
   * This JVM's arguments: the OS's record of its command line, else the one the JVM keeps of its
   * main class and arguments ({@code sun.java.command}, split at spaces).
   */
  private static List<String> launchArguments() {
    String[] args = ProcessHandle.current().info().arguments().orElse(null);
    if (args != null) {
      return Arrays.asList(args);
    }
    String command = System.getProperty("sun.java.command", "");
    return command.isBlank() ? List.of() : Arrays.asList(command.trim().split("\\s+"));
  }
}

package io.batchgen.cli;

import java.io.PrintStream;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The one entry point behind {@code bin/batchgen}: dispatches a subcommand to the main class that
 * implements it. Each subcommand prints its own usage on {@code --help}.
 */
public final class BatchGenCli {

  /** A subcommand: the class whose {@code main} runs it, and one line for the overview. */
  record Command(String name, String mainClass, String summary) {
  }

  private static final Map<String, Command> COMMANDS = new LinkedHashMap<>();
  private static final Map<String, Command> BENCHES = new LinkedHashMap<>();

  static {
    add(COMMANDS, "demo", "io.batchgen.cli.DemoCommand",
        "make the default tiny MoE model and sample prompts, generate completions with Spark");
    add(COMMANDS, "generate", "io.batchgen.cli.GenerateCommand",
        "run the generation job over Parquet prompts in a local (or remote) Spark session");
    add(COMMANDS, "cluster", "io.batchgen.cli.ClusterCommand",
        "start, inspect or stop a local Spark standalone cluster from Spark's own jars; submit");
    add(COMMANDS, "make-model", "io.batchgen.engine.tools.MakeModelCommand",
        "write a deterministic random-weight MoE model (HF directory or GGUF) from a seed");
    add(COMMANDS, "tokenize", "io.batchgen.cli.TokenizeCommand",
        "show a prompt (text or chat messages) as the model sees it: rendered text and token ids");
    add(COMMANDS, "logits", "io.batchgen.engine.tools.LogitsCommand",
        "run a token prompt and write float32 logits for every position");
    add(BENCHES, "kernels", "io.batchgen.engine.tools.KernelBench",
        "GFLOP/s of a full expert FFN at several token batches, dtypes and thread counts");
    add(BENCHES, "runtime", "io.batchgen.engine.tools.RuntimeBench",
        "tokens/s and expert-batch size, coroutine scheduler vs lock-step baseline");
    add(BENCHES, "offload", "io.batchgen.engine.tools.OffloadBench",
        "weights larger than the budget: module-batched streaming vs layer-wise baseline");
    add(BENCHES, "spark", "io.batchgen.cli.SparkBench",
        "Spark job tokens/s vs engine-only tokens/s on the same prompts");
    add(BENCHES, "faults", "io.batchgen.cli.FaultsBench",
        "sink jobs with an executor JVM killed mid-write: ids written exactly once");
    add(BENCHES, "state", "io.batchgen.cli.StateBench",
        "sequence-state (snapshot) encode and decode MB/s vs a bulk copy of the same KV");
    add(BENCHES, "rebalance", "io.batchgen.cli.RebalanceBench",
        "skewed job: static / hash / fine partitions vs the rebalancer, simulated at scale");
    add(BENCHES, "transport", "io.batchgen.cli.TransportBench",
        "live migration between two executors: state MB/s and latency vs recomputing the KV");
    add(BENCHES, "progress", "io.batchgen.cli.ProgressBench",
        "ETA shown during a heavy-tailed generate job vs the time really left");
  }

  private static void add(Map<String, Command> into, String name, String mainClass, String summary) {
    into.put(name, new Command(name, mainClass, summary));
  }

  private BatchGenCli() {
  }

  public static void main(String[] args) throws Throwable {
    System.exit(run(args, System.out, System.err));
  }

  static int run(String[] args, PrintStream out, PrintStream err) throws Throwable {
    if (args.length == 0 || isHelp(args[0])) {
      printUsage(out);
      return args.length == 0 ? 2 : 0;
    }
    String name = args[0];
    String[] rest = Arrays.copyOfRange(args, 1, args.length);
    if (name.equals("bench")) {
      if (rest.length == 0 || isHelp(rest[0])) {
        printBenchUsage(out);
        return rest.length == 0 ? 2 : 0;
      }
      return dispatch(BENCHES.get(rest[0]), "bench " + rest[0],
          Arrays.copyOfRange(rest, 1, rest.length), err);
    }
    return dispatch(COMMANDS.get(name), name, rest, err);
  }

  private static int dispatch(Command command, String name, String[] args, PrintStream err)
      throws Throwable {
    if (command == null) {
      err.println("batchgen: unknown command '" + name + "'. Run 'bin/batchgen --help' for the list.");
      return 2;
    }
    Method main;
    try {
      main = Class.forName(command.mainClass()).getMethod("main", String[].class);
    } catch (ClassNotFoundException e) {
      err.println("batchgen: '" + name + "' is not part of this build yet ("
          + command.mainClass() + " is missing).");
      return 3;
    }
    try {
      main.invoke(null, (Object) args);
      return 0;
    } catch (InvocationTargetException e) {
      if (System.getenv("BATCHGEN_DEBUG") != null) {
        throw e.getCause();
      }
      // The root cause carries the message meant for the user (bad option, bad row, ...);
      // Spark wraps it in several layers of job/stage/task failures.
      err.println("batchgen " + name + ": failed: " + rootMessage(e.getCause()));
      err.println("(set BATCHGEN_DEBUG=1 for the full stack trace)");
      return 1;
    }
  }

  static String rootMessage(Throwable t) {
    Throwable root = t;
    while (root.getCause() != null && root.getCause() != root) {
      root = root.getCause();
    }
    return root.getMessage() != null ? root.getMessage() : root.toString();
  }

  private static boolean isHelp(String arg) {
    return arg.equals("--help") || arg.equals("-h") || arg.equals("help");
  }

  private static boolean available(Command c) {
    try {
      Class.forName(c.mainClass(), false, BatchGenCli.class.getClassLoader());
      return true;
    } catch (ClassNotFoundException e) {
      return false;
    }
  }

  private static void printUsage(PrintStream out) {
    out.println("Usage: bin/batchgen COMMAND [OPTIONS]   (each command takes --help)");
    out.println();
    out.println("Batch inference for Mixture-of-Experts LLMs on Apache Spark.");
    out.println();
    out.println("Commands:");
    for (Command c : COMMANDS.values()) {
      out.printf("  %-12s %s%s%n", c.name(), c.summary(), available(c) ? "" : " [not in this build]");
    }
    out.printf("  %-12s %s%n", "bench NAME", "benchmarks; 'bin/batchgen bench --help' lists them");
    out.println();
    out.println("Environment: JAVA_OPTS adds JVM options (e.g. -Xmx8g); JAVA_HOME picks the JDK.");
  }

  private static void printBenchUsage(PrintStream out) {
    out.println("Usage: bin/batchgen bench NAME [OPTIONS]   (each benchmark takes --help)");
    out.println();
    out.println("Every benchmark ends with one line 'bench NAME: ratio=X key=value ...'.");
    out.println();
    for (Command c : BENCHES.values()) {
      out.printf("  %-12s %s%s%n", c.name(), c.summary(), available(c) ? "" : " [not in this build]");
    }
  }
}

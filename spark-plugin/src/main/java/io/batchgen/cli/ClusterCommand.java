package io.batchgen.cli;

import io.batchgen.engine.tools.CommandArgs;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * {@code bin/batchgen cluster start|status|stop|submit}: a Spark standalone cluster on this
 * machine, started from Spark's own jars, so that the deployment recipe (the bundle submitted
 * with spark-submit, executors with nothing of ours on their classpath) runs without a Spark
 * install. The daemons outlive the command; their state is in the work folder.
 */
public final class ClusterCommand {
  static final String USAGE = """
      Usage: bin/batchgen cluster start  [--work DIR] [--workers N] [--cores C] [--memory 4g]
                                         [--port 7077] [--webuiPort 8080] [--sparkHome DIR]
             bin/batchgen cluster status [--work DIR]
             bin/batchgen cluster stop   [--work DIR]
             bin/batchgen cluster submit [--work DIR] SPARK_SUBMIT_ARGS...

      A Spark standalone cluster on 127.0.0.1: one Master and N Workers (default 1 with 2 cores
      and 4g), started from Spark's own jars (a SPARK_HOME under DIR linking spark-dist's jars,
      or --sparkHome of an unpacked Spark distribution), so executors see BatchGen only as the
      application jar you submit. DIR (default ./batchgen-cluster) holds the daemons' logs, the
      Workers' folders (executor and driver logs) and the cluster's state. Port 0 picks a free
      one.

      'submit' runs Spark's spark-submit (from the same jars) with SPARK_SUBMIT_ARGS, adding
      --master of the running cluster unless given, e.g.
        bin/batchgen cluster submit --class io.batchgen.spark.BatchGenJob \\
            spark-plugin/target/batchgen-spark-plugin-VERSION-bundle.jar \\
            --model M --input P --output O
      """;

  private static final Set<String> START_OPTIONS = Set.of("work", "workers", "cores", "memory",
      "port", "webuiPort", "sparkHome");

  private ClusterCommand() {
  }

  public static void main(String[] args) throws Exception {
    int status = run(args, System.out, System.err);
    if (status != 0) {
      System.exit(status);
    }
  }

  /** Runs the command; returns the process exit status. */
  public static int run(String[] args, PrintStream out, PrintStream err) throws Exception {
    if (args.length == 0 || args[0].equals("--help") || args[0].equals("-h")) {
      out.print(USAGE);
      return args.length == 0 ? 2 : 0;
    }
    String action = args[0];
    String[] rest = Arrays.copyOfRange(args, 1, args.length);
    if (action.equals("submit")) {
      return submit(rest, out, err);
    }
    CommandArgs a;
    try {
      a = CommandArgs.parse(rest, action.equals("start") ? START_OPTIONS : Set.of("work"),
          Set.of());
    } catch (CommandArgs.UsageException e) {
      err.println("batchgen cluster: " + e.getMessage());
      err.print(USAGE);
      return 2;
    }
    if (a.help()) {
      out.print(USAGE);
      return 0;
    }
    Path work = Path.of(a.get("work", "batchgen-cluster")).toAbsolutePath();
    switch (action) {
      case "start":
        return start(a, work, out, err);
      case "status":
        return status(work, out);
      case "stop":
        return stop(work, out);
      default:
        err.println("batchgen cluster: unknown action '" + action + "'; use start, status, stop "
            + "or submit");
        err.print(USAGE);
        return 2;
    }
  }

  private static int start(CommandArgs a, Path work, PrintStream out, PrintStream err) {
    Optional<StandaloneCluster> running = StandaloneCluster.attach(work);
    if (running.isPresent() && running.get().daemons().stream().anyMatch(
        StandaloneCluster.Daemon::alive)) {
      err.println("batchgen cluster: a cluster already runs from " + work + " ("
          + running.get().masterUrl() + "); stop it first with: bin/batchgen cluster stop"
          + (work.equals(Path.of("batchgen-cluster").toAbsolutePath()) ? "" : " --work " + work));
      return 1;
    }
    SparkHome home = sparkHome(a.get("sparkHome", null), work);
    int workers = (int) a.longValue("workers", 1);
    int cores = (int) a.longValue("cores", 2);
    String memory = a.get("memory", "4g");
    StandaloneCluster cluster = StandaloneCluster.start(new StandaloneCluster.Spec(home, work,
        "127.0.0.1", workers, cores, memory, (int) a.longValue("port", 7077),
        (int) a.longValue("webuiPort", 8080), Duration.ofMinutes(2), true));
    out.printf("cluster: started %d worker%s with %d cores and %s each, from %s%n", workers,
        workers == 1 ? "" : "s", cores, memory, home.jars());
    out.println("cluster: master " + cluster.masterUrl() + ", web UI " + cluster.webUiUrl());
    out.println("cluster: logs in " + work + "; stop it with: bin/batchgen cluster stop"
        + (work.equals(Path.of("batchgen-cluster").toAbsolutePath()) ? "" : " --work " + work));
    out.println("cluster: submit the bundle (see docs/deployment.md) with Spark's spark-submit "
        + "or with:");
    out.println("  bin/batchgen cluster submit --class io.batchgen.spark.BatchGenJob "
        + System.getProperty("batchgen.bundleJar", "BUNDLE.jar")
        + " --model MODEL --input PROMPTS.parquet --output OUT");
    return 0;
  }

  private static int status(Path work, PrintStream out) {
    Optional<StandaloneCluster> cluster = StandaloneCluster.attach(work);
    if (cluster.isEmpty()) {
      out.println("cluster: none recorded in " + work);
      return 3;
    }
    StandaloneCluster c = cluster.get();
    boolean allAlive = true;
    for (StandaloneCluster.Daemon d : c.daemons()) {
      boolean alive = d.alive();
      allAlive &= alive;
      out.printf("cluster: %-9s pid %-8d %s  log %s%n", d.name(), d.pid(),
          alive ? "running" : "DEAD   ", d.log());
    }
    out.println("cluster: master " + c.masterUrl() + ", web UI " + c.webUiUrl() + ", "
        + (c.aliveWorkers() < 0 ? "Master not answering" : c.aliveWorkers() + " alive workers"));
    return allAlive ? 0 : 1;
  }

  private static int stop(Path work, PrintStream out) {
    Optional<StandaloneCluster> cluster = StandaloneCluster.attach(work);
    if (cluster.isEmpty()) {
      out.println("cluster: none recorded in " + work + "; nothing to stop");
      return 0;
    }
    cluster.get().close();
    out.println("cluster: stopped " + cluster.get().masterUrl());
    return 0;
  }

  /** spark-submit from Spark's jars, output to this terminal; the running cluster's master. */
  private static int submit(String[] args, PrintStream out, PrintStream err)
      throws IOException, InterruptedException {
    List<String> rest = new ArrayList<>(Arrays.asList(args));
    Path work = Path.of("batchgen-cluster").toAbsolutePath();
    if (rest.size() >= 2 && rest.get(0).equals("--work")) {
      work = Path.of(rest.get(1)).toAbsolutePath();
      rest = new ArrayList<>(rest.subList(2, rest.size()));
    }
    Optional<StandaloneCluster> cluster = StandaloneCluster.attach(work);
    if (!rest.contains("--master")) {
      if (cluster.isEmpty()) {
        err.println("batchgen cluster submit: no cluster runs from " + work + "; start one with "
            + "'bin/batchgen cluster start' or pass --master");
        return 2;
      }
      rest.add(0, cluster.get().masterUrl());
      rest.add(0, "--master");
    }
    SparkHome home = cluster.isPresent() ? cluster.get().sparkHome() : sparkHome(null, work);
    List<String> command = home.command("org.apache.spark.deploy.SparkSubmit", rest,
        Map.of("SPARK_LOCAL_IP", "127.0.0.1"));
    ProcessBuilder pb = new ProcessBuilder(command).inheritIO();
    pb.environment().putAll(home.environment());
    pb.environment().put("SPARK_LOCAL_IP", "127.0.0.1");
    out.flush();
    return pb.start().waitFor();
  }

  /** The given Spark home, or one under {@code work} linking spark-dist's jars. */
  private static SparkHome sparkHome(String given, Path work) {
    if (given != null) {
      return SparkHome.existing(Path.of(given));
    }
    String jarsList = System.getProperty("batchgen.sparkJars");
    if (jarsList == null) {
      throw new CommandArgs.UsageException("Spark's jars are unknown: run through bin/batchgen "
          + "(it builds spark-dist and passes -Dbatchgen.sparkJars), or pass --sparkHome of an "
          + "unpacked Spark distribution of the version this build uses (spark.version in "
          + "pom.xml)");
    }
    return SparkHome.withJars(work.resolve("spark-home"),
        SparkHome.readClasspathFile(Path.of(jarsList)));
  }
}

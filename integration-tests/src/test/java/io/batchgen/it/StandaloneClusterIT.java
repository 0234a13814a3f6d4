package io.batchgen.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.batchgen.io.GenerationResult;
import io.batchgen.io.IdType;
import io.batchgen.io.ParquetPromptWriter;
import io.batchgen.io.ParquetResultReader;
import io.batchgen.io.PromptRequest;
import io.batchgen.cli.ClusterCommand;
import io.batchgen.cli.SparkHome;
import io.batchgen.cli.SparkProcesses;
import io.batchgen.cli.StandaloneCluster;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The deployment users have: a standalone Spark cluster started from Spark's own jars (a Master
 * and a Worker whose SPARK_HOME/jars holds nothing of ours, started and stopped as
 * {@code bin/batchgen cluster} does), the bundle jar submitted with {@code spark-submit} as the
 * application jar, in client and in cluster mode, with no JVM flags of ours, over a Parquet
 * prompt table and a generated tiny model. The executors get BatchGen only through Spark's
 * user class loader, which is what a local-cluster test (executors started with the test
 * classpath) cannot show.
 */
class StandaloneClusterIT {
  private static final int ROWS = 24;
  private static final int MAX_NEW_TOKENS = 6;
  /** Two executors of one core each (the Worker has 4). */
  private static final String EXECUTOR_CORES = "spark.executor.cores=1";
  private static final String CORES_MAX = "spark.cores.max=2";

  private static Path work;
  private static Path model;
  private static Path prompts;
  private static SparkHome home;
  private static StandaloneCluster cluster;

  @BeforeAll
  static void startCluster() throws Exception {
    work = Path.of(System.getProperty("batchgen.it.workDir"));
    deleteTree(work);
    Files.createDirectories(work);
    model = ClusterData.tinyModel(work);
    prompts = work.resolve("prompts.parquet");
    try (ParquetPromptWriter w = ParquetPromptWriter.create(
        new org.apache.hadoop.fs.Path(prompts.toUri()), new Configuration(), IdType.LONG)) {
      for (Row r : ClusterData.promptRows(ROWS)) {
        w.write(PromptRequest.ofText(Long.toString(r.getLong(0)), r.getString(1)));
      }
    }
    // The cluster a user starts with 'bin/batchgen cluster start' (detached daemons).
    System.setProperty("batchgen.sparkJars", System.getProperty("batchgen.it.sparkJars"));
    Path clusterDir = work.resolve("cluster");
    assertThat(cli("start", "--work", clusterDir.toString(), "--workers", "1", "--cores", "4",
        "--memory", "4g", "--port", "0", "--webuiPort", "0")).contains("cluster: master spark://");
    cluster = StandaloneCluster.attach(clusterDir).orElseThrow();
    Runtime.getRuntime().addShutdownHook(new Thread(cluster::close)); // even if the JVM dies
    home = cluster.sparkHome();
    assertThat(cli("status", "--work", clusterDir.toString())).contains("1 alive workers");
  }

  @AfterAll
  static void stopCluster() throws Exception {
    if (cluster != null) {
      assertThat(cli("stop", "--work", cluster.workDir().toString())).contains("stopped");
      assertThat(cluster.daemons()).noneMatch(StandaloneCluster.Daemon::alive);
    }
  }

  /** Runs {@code bin/batchgen cluster ARGS} in this JVM; its output, or a failure with it. */
  private static String cli(String... args) throws Exception {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    PrintStream print = new PrintStream(out, true, StandardCharsets.UTF_8);
    int status = ClusterCommand.run(args, print, print);
    String text = out.toString(StandardCharsets.UTF_8);
    assertThat(status).as("bin/batchgen cluster %s:%n%s", String.join(" ", args), text).isZero();
    return text;
  }

  @Test
  void bundleRunsInClientMode() throws Exception {
    // As most standalone users submit: no spark.executor.cores, so the Worker gives the one
    // executor spark.cores.max of its 4 cores and says so only in the executor's launch command.
    Path out = work.resolve("out-client");
    Submission s = submit("client", out, List.of("spark.cores.max=1"));
    s.awaitSuccess(Duration.ofMinutes(4));
    assertEveryIdOnceAndAsTheEngineAlone(out);
    assertExecutorsHadOnlySparksJars();
    assertThat(s.logText()).as("the executor's runtime computes on the one core it was given")
        .containsPattern("Executor \\S+ registered: host \\S+, pid \\d+, cores 1,");
  }

  @Test
  void bundleRunsInClusterMode() throws Exception {
    Path out = work.resolve("out-cluster");
    Submission s = submit("cluster", out, List.of(EXECUTOR_CORES, CORES_MAX,
        "spark.standalone.submit.waitAppCompletion=true"));
    s.awaitSuccess(Duration.ofMinutes(4));
    assertThat(s.logText()).contains("is FINISHED");
    assertEveryIdOnceAndAsTheEngineAlone(out);
  }

  @Test
  void executorsThatCannotReachTheDriverPluginFailTheJobWithTheCauseWithinAMinute()
      throws Exception {
    // Executors whose plugin cannot register with the driver plugin in time (here: a timeout
    // no executor can meet). Each executor's plugin start fails, the Worker keeps relaunching
    // executors, and the driver plugin fails the job with the cause once
    // spark.batchgen.plugin.maxStartFailures (2) executors failed, instead of forever.
    long start = System.nanoTime();
    Submission s = submit("client", work.resolve("out-failing"), List.of(EXECUTOR_CORES,
        CORES_MAX, "spark.batchgen.plugin.registrationTimeout=1ms"));
    assertThat(s.process().waitFor(2, TimeUnit.MINUTES)).as("spark-submit ends").isTrue();
    double seconds = (System.nanoTime() - start) / 1e9;
    String log = s.logText();
    assertThat(s.process().exitValue()).as(log).isNotZero();
    assertThat(log).contains("cancelled because BatchGen could not start on 2 executors")
        .contains("spark.batchgen.plugin.registrationTimeout")
        .contains("spark.batchgen.plugin.maxStartFailures");
    assertThat(seconds).as("seconds from spark-submit to the job's failure").isLessThan(60);
    System.out.printf("plugin start failures failed the job in %.1f s%n", seconds);
  }

  private Submission submit(String deployMode, Path out, List<String> conf) throws IOException {
    List<String> args = new ArrayList<>(List.of("--master", cluster.masterUrl(),
        "--deploy-mode", deployMode,
        "--class", "io.batchgen.spark.BatchGenJob",
        "--name", "batchgen-" + deployMode,
        "--driver-memory", "768m",
        "--conf", "spark.executor.memory=768m",
        "--conf", "spark.driver.host=127.0.0.1",
        "--conf", "spark.ui.enabled=false"));
    for (String c : conf) {
      args.add("--conf");
      args.add(c);
    }
    args.addAll(List.of(Path.of(System.getProperty("batchgen.it.bundleJar")).toString(),
        "--model", model.toString(), "--input", prompts.toString(), "--output", out.toString(),
        "--maxNewTokens", Integer.toString(MAX_NEW_TOKENS), "--includeTokenIds", "true"));
    Path log = work.resolve("submit-" + out.getFileName() + ".log");
    Process p = SparkProcesses.sparkSubmit(home, args, Map.of("SPARK_LOCAL_IP", "127.0.0.1"),
        log);
    return new Submission(p, log);
  }

  private static void assertEveryIdOnceAndAsTheEngineAlone(Path out) throws Exception {
    Map<Long, List<Integer>> byId = new HashMap<>();
    List<Path> files;
    try (Stream<Path> s = Files.list(out)) {
      files = s.filter(p -> p.getFileName().toString().endsWith(".parquet")).toList();
    }
    assertThat(files).as("result files in " + out).isNotEmpty();
    for (Path f : files) {
      for (GenerationResult r : ParquetResultReader.readAll(
          new org.apache.hadoop.fs.Path(f.toUri()), new Configuration())) {
        List<Integer> tokens = new ArrayList<>();
        for (int t : r.tokenIds()) {
          tokens.add(t);
        }
        assertThat(byId.put(Long.parseLong(r.id()), tokens)).as("id " + r.id() + " twice")
            .isNull();
      }
    }
    assertThat(out.resolve("_SUCCESS")).exists();
    assertThat(byId).isEqualTo(ClusterData.engineOnly(model, ROWS, MAX_NEW_TOKENS));
  }

  /** Each executor's launch command (the Worker writes it atop the executor's stderr). */
  private static void assertExecutorsHadOnlySparksJars() throws IOException {
    List<String> commands = new ArrayList<>();
    try (Stream<Path> s = Files.walk(cluster.workDir())) {
      for (Path stderr : s.filter(p -> p.getFileName().toString().equals("stderr")
          && p.toString().contains("app-")).toList()) {
        String first = Files.readAllLines(stderr).stream()
            .filter(l -> l.startsWith("Spark Executor Command:")).findFirst().orElse("");
        commands.add(first);
      }
    }
    assertThat(commands).isNotEmpty().allSatisfy(c -> {
      assertThat(c).contains("-cp").contains(home.jars() + "/*");
      assertThat(c).doesNotContain("batchgen-spark-plugin").doesNotContain("/target/classes");
    });
  }

  /** A running spark-submit and its log; dumps the cluster's logs when it fails. */
  private record Submission(Process process, Path log) {
    String logText() throws IOException {
      return Files.readString(log);
    }

    void awaitSuccess(Duration timeout) throws Exception {
      boolean exited = process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS);
      if (!exited) {
        process.descendants().forEach(ProcessHandle::destroyForcibly);
        process.destroyForcibly();
      }
      if (!exited || process.exitValue() != 0) {
        throw new AssertionError("spark-submit " + (exited ? "exited with " + process.exitValue()
            : "did not finish within " + timeout.toSeconds() + " s") + "; its log:\n"
            + StandaloneCluster.tail(log, 60) + "\n" + workerLogs());
      }
    }
  }

  /** The stderr of every executor and driver the Worker ran, last lines of each. */
  static String workerLogs() throws IOException {
    StringBuilder sb = new StringBuilder();
    try (Stream<Path> s = Files.walk(cluster.workDir())) {
      for (Path p : s.filter(p -> p.getFileName().toString().equals("stderr")).toList()) {
        sb.append("---- ").append(p).append('\n').append(StandaloneCluster.tail(p, 40))
            .append('\n');
      }
    }
    return sb.toString();
  }

  static void deleteTree(Path dir) throws IOException {
    if (!Files.exists(dir)) {
      return;
    }
    try (Stream<Path> s = Files.walk(dir)) {
      for (Path p : s.sorted(java.util.Comparator.reverseOrder()).toList()) {
        Files.delete(p);
      }
    }
  }
}

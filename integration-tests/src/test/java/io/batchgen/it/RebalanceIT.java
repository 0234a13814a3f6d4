package io.batchgen.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.batchgen.spark.plugin.BatchGenDriverPlugin;
import io.batchgen.spark.plugin.ExecutorInfo;
import io.batchgen.spark.plugin.MoveStatus;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Live migration on {@code local-cluster[2,1,1024]} with a skewed workload: the sink's clustering
 * puts every long row (per-row {@code max_new_tokens}) into one write task, so one executor works
 * while the other idles unless sequences move. Each run checks that every id is written exactly
 * once and that the completions equal a run with rebalancing off, greedy and seeded rows alike;
 * the same job with option {@code rebalance=false} moves nothing on a rebalancing cluster; two
 * runs kill an executor in the middle of migration: the destination while it runs migrated
 * sequences, the source while it uploads them.
 */
class RebalanceIT {
  private static final int ROWS = 48;
  private static final int LONG = 160;

  @TempDir
  static Path dir;
  private static Path model;
  private static Map<Long, String> reference;
  private SparkSession spark;

  @BeforeAll
  static void setUp() throws Exception {
    model = ClusterData.tinyModel(dir);
    SparkSession s = cluster("rebalance-off", false).getOrCreate();
    try {
      LocalCluster.awaitExecutors(2);
      reference = completions(s, run(s, "reference"));
    } finally {
      s.stop();
    }
  }

  @AfterEach
  void stop() {
    if (spark != null) {
      spark.stop();
    }
  }

  private static SparkSession.Builder cluster(String name, boolean rebalance) {
    return LocalCluster.builder(name, 2, 1, 1024)
        .config("spark.task.maxFailures", "4")
        .config("spark.batchgen.rebalance.enabled", Boolean.toString(rebalance))
        .config("spark.batchgen.rebalance.loadReportInterval", "200ms")
        .config("spark.batchgen.rebalance.interval", "400ms")
        .config("spark.batchgen.rebalance.minImbalance", "300ms")
        .config("spark.batchgen.rebalance.cooldown", "2s")
        .config("spark.batchgen.rebalance.executorTimeout", "10s");
  }

  /**
   * Rows whose id hashes to write partition 0 (of 2) get {@value #LONG} new tokens, the others 2;
   * odd ids sample with temperature 0.8 (seeded by the job seed and the id), even ids greedily.
   */
  private static Dataset<Row> skewed(SparkSession s) {
    return ClusterData.prompts(s, ROWS).selectExpr("id", "prompt",
        "case when pmod(hash(id), 2) = 0 then " + LONG + " else 2 end as max_new_tokens",
        "cast(case when id % 2 = 1 then 0.8 else 0.0 end as double) as temperature");
  }

  private static String run(SparkSession s, String name) {
    return run(s, name, true);
  }

  /** The skewed job; {@code rebalance} is its option of that name (may its rows move). */
  private static String run(SparkSession s, String name, boolean rebalance) {
    String out = dir.resolve(name).toString();
    skewed(s).write().format("batchgen").option("model", model.toString())
        .option("backend", "cpu").option("numPartitions", "2")
        .option("maxRunningSequences", "8").option("includeTokenIds", "true")
        .option("rebalance", Boolean.toString(rebalance))
        .mode("overwrite").save(out);
    return out;
  }

  /** id → completion token ids, asserting each id once and no error. */
  private static Map<Long, String> completions(SparkSession s, String out) {
    Map<Long, String> byId = new HashMap<>();
    for (Row r : s.read().parquet(out).selectExpr("id", "cast(completion_token_ids as string)",
        "error").collectAsList()) {
      assertThat(r.isNullAt(2)).as("error of id %d: %s", r.getLong(0), r.get(2)).isTrue();
      assertThat(byId.put(r.getLong(0), r.getString(1))).as("id %d twice", r.getLong(0))
          .isNull();
    }
    assertThat(byId).hasSize(ROWS);
    return byId;
  }

  @Test
  void sequencesMoveToTheIdleExecutorAndTheOutputIsTheSameAsWithoutMoving() throws Exception {
    spark = cluster("rebalance-on", true).getOrCreate();
    LocalCluster.awaitExecutors(2);
    String out = run(spark, "rebalanced");
    Map<Long, String> got = completions(spark, out);
    BatchGenDriverPlugin driver = BatchGenDriverPlugin.active().orElseThrow();
    System.out.printf("moves: %s%n", driver.moves());
    long moved = driver.migratedSequences();
    assertThat(moved).as("sequences that moved").isPositive();
    assertThat(got).isEqualTo(reference);
    // the job's report shows the moves: listed, and drawn per executor
    String report = java.nio.file.Files.readString(java.nio.file.Path.of(out,
        "_batchgen_report.html"));
    assertThat(report).contains("<th>move</th>").containsPattern(
        "data-name=\"moved out\" data-label=\"[0-9]+\" data-value=\"[1-9]");

    // The same job opting out (option rebalance=false), with the rebalancer still on: its
    // executor reports its rows as staying, and none of them moves (a move the policy might
    // still order, from a count one report late, would carry nothing).
    int movesBefore = driver.moves().size();
    CompletableFuture<String> pinned = CompletableFuture.supplyAsync(
        () -> run(spark, "pinned", false));
    await("a load report with rows that stay").atMost(Duration.ofMinutes(2))
        .pollInterval(Duration.ofMillis(20))
        .until(() -> driver.executors().values().stream()
            .filter(e -> e.lastReport() != null)
            .flatMap(e -> e.lastReport().runtimes().stream())
            .anyMatch(l -> l.staying() > 0));
    assertThat(completions(spark, pinned.get(4, TimeUnit.MINUTES))).isEqualTo(reference);
    java.util.List<MoveStatus> during = driver.moves().subList(movesBefore, driver.moves().size());
    System.out.printf("moves during the job with rebalance=false: %s%n", during);
    assertThat(during).allSatisfy(m -> assertThat(m.sequences()).as("%s", m).isZero());
    assertThat(driver.migratedSequences()).isEqualTo(moved);
  }

  @Test
  void killingTheDestinationWhileItHoldsMigratedSequencesReclaimsThem() throws Exception {
    MoveStatus end = killDuring(cluster("kill-destination", true),
        m -> m.state().equals("HOSTED"), MoveStatus::to);
    assertThat(end.ending()).isEqualTo(MoveStatus.Ending.DESTINATION_LOST);
  }

  /**
   * The source is killed while it uploads a move's state: chunks of 32 bytes at 128 bytes/s make
   * each upload take seconds (a queued sequence here is about 100 to 250 bytes of state), and the
   * test waits until the driver has received part of one. The move must end
   * there, its sequences reclaimed through Spark's retry of the source's tasks (the source owned
   * them): every id once, outputs as without moving.
   */
  @Test
  void killingTheSourceWhileItUploadsLeavesEveryIdOnce() throws Exception {
    MoveStatus end = killDuring(cluster("kill-source", true)
        .config("spark.batchgen.rebalance.chunkSize", "32")
        .config("spark.batchgen.rebalance.maxUploadRate", "128"),
        m -> m.state().equals("UPLOADING"), MoveStatus::from);
    assertThat(end.ending()).isEqualTo(MoveStatus.Ending.SOURCE_LOST);
    assertThat(end.endedIn()).as("killed while sending").isEqualTo("UPLOADING");
    assertThat(end.timing().fetch()).as("the destination never fetched any of it").isNaN();
  }

  /** Kills an executor of the first move {@code when} matches; returns how that move ended. */
  private MoveStatus killDuring(SparkSession.Builder builder, Predicate<MoveStatus> when,
      java.util.function.Function<MoveStatus, String> victimOf) throws Exception {
    spark = builder.getOrCreate();
    String name = spark.sparkContext().appName();
    LocalCluster.awaitExecutors(2);
    BatchGenDriverPlugin driver = BatchGenDriverPlugin.active().orElseThrow();
    CompletableFuture<String> job = CompletableFuture.supplyAsync(() -> run(spark, name));
    MoveStatus move = await("a move " + name).atMost(Duration.ofMinutes(2))
        .pollInterval(Duration.ofMillis(20))
        .until(() -> driver.moves().stream().filter(when).findFirst(), Optional::isPresent)
        .orElseThrow();
    ExecutorInfo victim = driver.executors().get(victimOf.apply(move));
    assertThat(victim).as("the executor of %s", move).isNotNull();
    ProcessHandle.of(victim.registration().pid()).ifPresent(ProcessHandle::destroyForcibly);
    System.out.printf("%s: killed executor %s during %s%n", name,
        victim.registration().executorId(), move);
    Map<Long, String> got = completions(spark, job.get(4, TimeUnit.MINUTES));
    assertThat(got).isEqualTo(reference);
    System.out.printf("%s: moves %s%n", name, driver.moves());
    // The driver learns of the loss from a listener event or the executor's silence.
    return await("move " + move.moveId() + " ended").atMost(Duration.ofMinutes(1))
        .until(() -> driver.moves().stream().filter(m -> m.moveId() == move.moveId())
            .findFirst().orElseThrow(), m -> m.state().equals("DONE"));
  }
}

package io.batchgen.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.batchgen.core.progress.ProgressLine;
import io.batchgen.core.progress.ProgressSnapshot;
import io.batchgen.spark.plugin.BatchGenDriverPlugin;
import io.batchgen.spark.plugin.ExecutorInfo;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.LongStream;
import org.apache.spark.ExecutorLostFailure;
import org.apache.spark.scheduler.SparkListener;
import org.apache.spark.scheduler.SparkListenerTaskEnd;
import org.apache.spark.scheduler.SparkListenerTaskStart;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Kills one executor JVM of a {@code local-cluster[2,1,1024]} sink job while it generates: the job
 * must finish through Spark's task retry, and the committed table must hold every id exactly once;
 * the job's progress, watched throughout, never counts more rows than the input has and ends at
 * every row, committed. Each test starts its own cluster (speculation is a context-start
 * setting).
 */
class ExecutorLossIT {
  /** Enough work that the write is still running when the first tokens are reported. */
  private static final int ROWS = 240;
  private static final int MAX_NEW = 32;
  private static final int PARTITIONS = 8;

  @TempDir
  static Path dir;
  private static Path model;
  private SparkSession spark;

  @BeforeAll
  static void writeModel() {
    model = ClusterData.tinyModel(dir);
  }

  @AfterEach
  void stopCluster() {
    if (spark != null) {
      spark.stop();
    }
  }

  @Test
  void killedExecutorMidWriteLeavesEveryIdExactlyOnce() throws Exception {
    spark = cluster("executor-loss-it").getOrCreate();
    runKillAndCheck("out-retry");
  }

  @Test
  void killedExecutorMidWriteWithSpeculationLeavesEveryIdExactlyOnce() throws Exception {
    spark = cluster("executor-loss-speculation-it")
        .config("spark.speculation", "true")
        .config("spark.speculation.multiplier", "1")
        .config("spark.speculation.quantile", "0.1")
        .config("spark.speculation.minTaskRuntime", "200ms")
        .config("spark.speculation.interval", "100ms")
        // Speculate on duration alone, not only tasks slower than the stage's mean record rate.
        .config("spark.speculation.efficiency.enabled", "false")
        .getOrCreate();
    // Spark never starts a speculative copy on a host where an attempt of the task already
    // runs, and every local-cluster executor is on 127.0.0.1: here speculation is enabled but
    // cannot launch copies (a straggler write checked this: 0 copies). What this covers is the
    // retry and commit path with speculation switched on.
    TaskLog log = runKillAndCheck("out-speculation");
    System.out.printf("speculative task attempts launched: %d%n", log.speculativeStarts.size());
  }

  private static SparkSession.Builder cluster(String name) {
    return LocalCluster.builder(name, 2, 1, 1024)
        .config("spark.batchgen.rebalance.loadReportInterval", "100ms")
        .config("spark.task.maxFailures", "4");
  }

  private TaskLog runKillAndCheck(String outName) throws Exception {
    Map<String, ExecutorInfo> executors = LocalCluster.awaitExecutors(2);
    TaskLog log = new TaskLog();
    spark.sparkContext().addSparkListener(log);
    String out = dir.resolve(outName).toString();
    Dataset<Row> prompts = ClusterData.prompts(spark, ROWS);

    // The whole job's progress as the driver shows it, sampled throughout.
    BatchGenDriverPlugin driver = BatchGenDriverPlugin.active().orElseThrow();
    AtomicLong mostRowsDone = new AtomicLong();
    ScheduledExecutorService watch = Executors.newSingleThreadScheduledExecutor();
    watch.scheduleAtFixedRate(() -> driver.progress().running().forEach(p ->
        mostRowsDone.accumulateAndGet(p.snapshot().rowsDone(), Math::max)), 0, 20,
        TimeUnit.MILLISECONDS);

    long startNanos = System.nanoTime();
    CompletableFuture<Void> write = CompletableFuture.runAsync(() -> prompts.write()
        .format("batchgen").option("model", model.toString()).option("backend", "cpu")
        .option("maxNewTokens", Integer.toString(MAX_NEW))
        .option("numPartitions", Integer.toString(PARTITIONS))
        .mode("append").save(out));

    // The victim: the first executor whose runtime has generated tokens, i.e. mid-write.
    ExecutorInfo victim = await("an executor generating tokens").atMost(Duration.ofMinutes(1))
        .until(() -> driver.executors().values().stream()
            .filter(i -> executors.containsKey(i.registration().executorId()))
            .filter(i -> i.lastReport() != null && i.lastReport().tokensGenerated() > 0)
            .findFirst(), Optional::isPresent).orElseThrow();
    ProcessHandle process = ProcessHandle.of(victim.registration().pid()).orElseThrow();
    assertThat(write).as("write still running when the executor is killed").isNotDone();
    process.destroyForcibly();
    await("executor JVM gone").atMost(Duration.ofSeconds(30)).until(() -> !process.isAlive());
    System.out.printf("killed executor %s (pid %d) %.1f s into the write%n",
        victim.registration().executorId(), process.pid(), (System.nanoTime() - startNanos) / 1e9);

    write.get(3, TimeUnit.MINUTES);
    watch.shutdownNow();
    System.out.printf("write finished %.1f s after it started%n",
        (System.nanoTime() - startNanos) / 1e9);
    ProgressSnapshot progress = driver.progress().lastEnded().orElseThrow().snapshot();
    System.out.println("progress at the end: " + ProgressLine.format(progress));
    assertThat(progress.state()).isEqualTo(ProgressSnapshot.State.COMMITTED);
    assertThat(progress.rowsDone()).isEqualTo(ROWS);
    assertThat(progress.rowsTotal()).isEqualTo(ROWS);
    assertThat(progress.tasksDone()).isEqualTo(PARTITIONS);
    assertThat(mostRowsDone.get()).as("rows done at any time").isLessThanOrEqualTo(ROWS);

    // Listener events arrive asynchronously, possibly after the job has returned.
    await("tasks lost with the killed executor").atMost(Duration.ofSeconds(20))
        .untilAsserted(() -> assertThat(log.lostTasks).isNotEmpty());
    assertThat(log.lostTasks).allSatisfy(executorId -> assertThat(executorId)
        .isEqualTo(victim.registration().executorId()));
    assertEveryIdExactlyOnce(out);
    return log;
  }

  /** The committed table at {@code out} holds ids 0..ROWS-1 once each, with no error. */
  private void assertEveryIdExactlyOnce(String out) {
    // Read back once: every input id exactly once, each with a completion and no error.
    List<Row> results = spark.read().parquet(out).select("id", "completion_tokens", "error")
        .collectAsList();
    assertThat(results.stream().map(r -> r.getLong(0)).sorted().toList())
        .isEqualTo(LongStream.range(0, ROWS).boxed().toList());
    assertThat(results).allSatisfy(r -> {
      assertThat(r.getInt(1)).as("completion_tokens of id %d", r.getLong(0)).isPositive();
      assertThat(r.isNullAt(2)).as("no error on id %d", r.getLong(0)).isTrue();
    });
    assertThat(Path.of(out, "_SUCCESS")).exists();
    assertThat(Path.of(out, "_temporary")).doesNotExist();
  }

  /** Task attempts that failed because their executor was lost, and speculative starts. */
  private static final class TaskLog extends SparkListener {
    final List<String> lostTasks = new CopyOnWriteArrayList<>();
    final List<Long> speculativeStarts = new CopyOnWriteArrayList<>();

    @Override
    public void onTaskStart(SparkListenerTaskStart start) {
      if (start.taskInfo().speculative()) {
        speculativeStarts.add(start.taskInfo().taskId());
      }
    }

    @Override
    public void onTaskEnd(SparkListenerTaskEnd end) {
      if (end.reason() instanceof ExecutorLostFailure) {
        lostTasks.add(end.taskInfo().executorId());
      }
    }
  }
}

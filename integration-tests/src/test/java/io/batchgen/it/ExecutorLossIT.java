package io.batchgen.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.apache.spark.sql.functions.max;
import static org.apache.spark.sql.functions.min;
import static org.awaitility.Awaitility.await;

import io.batchgen.spark.plugin.BatchGenDriverPlugin;
import io.batchgen.spark.plugin.ExecutorInfo;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
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
 * must finish through Spark's task retry, and the committed table must hold every id exactly once.
 * Each test starts its own cluster (speculation is a context-start setting).
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
        .config("spark.speculation.minTaskRuntime", "1s")
        .config("spark.speculation.interval", "100ms")
        .getOrCreate();
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

    long startNanos = System.nanoTime();
    CompletableFuture<Void> write = CompletableFuture.runAsync(() -> prompts.write()
        .format("batchgen").option("model", model.toString()).option("backend", "cpu")
        .option("maxNewTokens", Integer.toString(MAX_NEW))
        .option("numPartitions", Integer.toString(PARTITIONS))
        .mode("append").save(out));

    // The victim: the first executor whose runtime has generated tokens, i.e. mid-write.
    BatchGenDriverPlugin driver = BatchGenDriverPlugin.active().orElseThrow();
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
    System.out.printf("write finished %.1f s after it started%n",
        (System.nanoTime() - startNanos) / 1e9);

    assertThat(log.lostTasks).as("tasks lost with the killed executor")
        .isNotEmpty()
        .allSatisfy(executorId -> assertThat(executorId)
            .isEqualTo(victim.registration().executorId()));
    Dataset<Row> results = spark.read().parquet(out);
    assertThat(results.count()).isEqualTo(ROWS);
    assertThat(results.select("id").distinct().count()).isEqualTo(ROWS);
    // ROWS distinct ids between 0 and ROWS - 1: exactly the input ids.
    Row range = results.agg(min("id"), max("id")).first();
    assertThat(range.getLong(0)).isZero();
    assertThat(range.getLong(1)).isEqualTo(ROWS - 1);
    assertThat(results.filter("completion_tokens < 1 OR error IS NOT NULL").count()).isZero();
    assertThat(Path.of(out, "_SUCCESS")).exists();
    assertThat(Path.of(out, "_temporary")).doesNotExist();
    return log;
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

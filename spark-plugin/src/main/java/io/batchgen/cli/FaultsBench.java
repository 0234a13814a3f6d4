package io.batchgen.cli;

import io.batchgen.engine.model.TinyModels;
import io.batchgen.engine.tools.CommandArgs;
import io.batchgen.spark.plugin.BatchGenDriverPlugin;
import io.batchgen.spark.plugin.ExecutorInfo;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

/**
 * {@code bin/batchgen bench faults}: sink jobs on a local multi-executor cluster, each with one
 * executor JVM killed at a random point of its generation, then the committed table read back and
 * every input id counted: the fraction written exactly once is the headline.
 */
public final class FaultsBench {
  static final String USAGE = """
      Usage: bin/batchgen bench faults [--trials 5] [--rows 400] [--maxNewTokens 24]
                                       [--executors 2] [--seed 1] [--work DIR]

      Starts local-cluster[EXECUTORS,1,1024] (executor JVMs of their own), makes the tiny model
      and ROWS prompts, then runs TRIALS sink jobs. In each, once the cluster has generated a
      random fraction (5-90%) of a clean run's tokens, one executor that is generating is killed
      (SIGKILL); Spark retries its tasks. Each committed table is read back: ids lost, ids
      written more than once, rows with an error. Last line:
        bench faults: ratio=<rows exactly once / rows in> trials=N rows=R lost=L duplicated=D ...
      """;

  private FaultsBench() {
  }

  public static void main(String[] args) throws Exception {
    CommandArgs a = ToolArgs.parseOrExit(args, Set.of("trials", "rows", "maxNewTokens",
        "executors", "seed", "work"), "batchgen bench faults", USAGE);
    if (a == null) {
      return;
    }
    int trials = (int) a.longValue("trials", 5);
    int rows = (int) a.longValue("rows", 400);
    int maxNew = (int) a.longValue("maxNewTokens", 24);
    int executors = (int) a.longValue("executors", 2);
    SplittableRandom rnd = new SplittableRandom(a.longValue("seed", 1));
    if (trials < 1 || rows < 1 || maxNew < 1 || executors < 2) {
      throw new CommandArgs.UsageException("--trials, --rows and --maxNewTokens must be at least"
          + " 1 and --executors at least 2 (one is killed)");
    }
    Path work = Path.of(a.get("work", "batchgen-work/faults")).toAbsolutePath();
    Files.createDirectories(work);
    Path model = TinyModels.write("tiny", "mixtral", "bf16", 1, work.resolve("model"));
    String master = LocalClusterConf.master(executors, 1, 1024);
    SparkSession spark = LocalClusterConf.configure(SparkSession.builder()
            .appName("batchgen-bench-faults")
            .config("spark.plugins", "io.batchgen.spark.BatchGenPlugin")
            .config("spark.ui.enabled", "false")
            .config("spark.task.maxFailures", "8")
            .config("spark.batchgen.rebalance.loadReportInterval", "100ms"), master)
        .getOrCreate();
    try {
      Dataset<Row> prompts = SamplePrompts.dataset(spark, rows, 7).cache();
      prompts.count();
      BatchGenDriverPlugin driver = BatchGenDriverPlugin.active().orElseThrow(() ->
          new IllegalStateException("the BatchGen driver plugin is not running"));
      awaitExecutors(driver, executors);

      long clean = tokensOf(driver, () -> write(prompts, model, maxNew, executors,
          work.resolve("clean")));
      System.out.printf(Locale.ROOT, "bench faults: %s, %d rows x up to %d tokens; clean run"
          + " generated %d tokens%n", master, rows, maxNew, clean);

      long lost = 0;
      long duplicated = 0;
      long errors = 0;
      long exactlyOnce = 0;
      int kills = 0;
      for (int t = 1; t <= trials; t++) {
        awaitExecutors(driver, executors);
        double fraction = 0.05 + 0.85 * rnd.nextDouble();
        Path out = work.resolve("trial-" + t);
        Map<String, Long> before = generated(driver);
        long start = System.nanoTime();
        CompletableFuture<Void> job = CompletableFuture.runAsync(() ->
            write(prompts, model, maxNew, executors, out));
        String killed = killAt(driver, before, (long) (fraction * clean), job, rnd);
        job.get(10, TimeUnit.MINUTES);
        double seconds = (System.nanoTime() - start) / 1e9;
        kills += killed == null ? 0 : 1;
        Count c = count(spark, out.toString(), rows);
        lost += c.lost;
        duplicated += c.duplicated;
        errors += c.errors;
        exactlyOnce += c.exactlyOnce;
        System.out.printf(Locale.ROOT, "trial %d: killed %s at %.0f%% of the work; job %.1f s;"
            + " %d of %d ids exactly once, lost %d, duplicated %d, errors %d%n", t,
            killed == null ? "nothing (the job ended first)" : "executor " + killed,
            100 * fraction, seconds, c.exactlyOnce, rows, c.lost, c.duplicated, c.errors);
      }
      System.out.printf(Locale.ROOT, "bench faults: ratio=%.4f trials=%d rows=%d lost=%d"
          + " duplicated=%d errors=%d kills=%d executors=%d max_new_tokens=%d%n",
          (double) exactlyOnce / ((long) rows * trials), trials, (long) rows * trials, lost,
          duplicated, errors, kills, executors, maxNew);
    } finally {
      spark.stop();
    }
  }

  private static void write(Dataset<Row> prompts, Path model, int maxNew, int partitions,
      Path out) {
    prompts.write().format("batchgen").option("model", model.toString())
        .option("backend", "cpu").option("maxNewTokens", Integer.toString(maxNew))
        .option("numPartitions", Integer.toString(4 * partitions)).mode("overwrite")
        .save(out.toString());
  }

  /** Waits (2 minutes at most) until {@code n} live executors registered with the plugin. */
  static void awaitExecutors(BatchGenDriverPlugin driver, int n)
      throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(2);
    while (live(driver).size() < n) {
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException("only " + live(driver).size() + " of " + n
            + " executors registered with the BatchGen driver plugin within 2 minutes");
      }
      Thread.sleep(100);
    }
  }

  /** Registered executors whose JVM is alive. */
  private static List<ExecutorInfo> live(BatchGenDriverPlugin driver) {
    List<ExecutorInfo> out = new ArrayList<>();
    for (ExecutorInfo i : driver.executors().values()) {
      if (ProcessHandle.of(i.registration().pid()).map(ProcessHandle::isAlive).orElse(false)) {
        out.add(i);
      }
    }
    return out;
  }

  private static Map<String, Long> generated(BatchGenDriverPlugin driver) {
    Map<String, Long> m = new HashMap<>();
    for (ExecutorInfo i : live(driver)) {
      m.put(i.registration().executorId(),
          i.lastReport() == null ? 0 : i.lastReport().tokensGenerated());
    }
    return m;
  }

  /** Tokens the live executors generated since {@code before}. */
  private static long since(BatchGenDriverPlugin driver, Map<String, Long> before) {
    long sum = 0;
    for (Map.Entry<String, Long> e : generated(driver).entrySet()) {
      sum += Math.max(0, e.getValue() - before.getOrDefault(e.getKey(), 0L));
    }
    return sum;
  }

  private static long tokensOf(BatchGenDriverPlugin driver, Runnable job)
      throws InterruptedException {
    Map<String, Long> before = generated(driver);
    job.run();
    Thread.sleep(500); // the last load reports
    return since(driver, before);
  }

  /**
   * Waits until {@code threshold} tokens were generated, then kills a generating executor JVM;
   * returns its id, or null when the job ended first.
   */
  private static String killAt(BatchGenDriverPlugin driver, Map<String, Long> before,
      long threshold, CompletableFuture<Void> job, SplittableRandom rnd)
      throws InterruptedException {
    while (!job.isDone()) {
      if (since(driver, before) >= threshold) {
        List<ExecutorInfo> busy = new ArrayList<>();
        for (ExecutorInfo i : live(driver)) {
          if (i.lastReport() != null && i.lastReport().activeSequences() > 0) {
            busy.add(i);
          }
        }
        if (!busy.isEmpty()) {
          ExecutorInfo victim = busy.get(rnd.nextInt(busy.size()));
          ProcessHandle.of(victim.registration().pid()).ifPresent(ProcessHandle::destroyForcibly);
          return victim.registration().executorId();
        }
      }
      Thread.sleep(20);
    }
    return null;
  }

  /** How the ids 0..rows-1 came out in a committed table. */
  record Count(long exactlyOnce, long lost, long duplicated, long errors) {
  }

  /** Reads the table at {@code out} back and counts its ids against {@code rows} inputs. */
  static Count count(SparkSession spark, String out, long rows) {
    Dataset<Row> r = spark.read().parquet(out);
    Row agg = r.groupBy("id").count().selectExpr(
        "sum(case when count = 1 then 1 else 0 end)", "sum(case when count > 1 then count - 1"
            + " else 0 end)", "count(*)").first();
    long once = agg.isNullAt(0) ? 0 : agg.getLong(0);
    long dup = agg.isNullAt(1) ? 0 : agg.getLong(1);
    long distinct = agg.getLong(2);
    long errors = r.where("error is not null").count();
    return new Count(once, rows - distinct, dup, errors);
  }
}

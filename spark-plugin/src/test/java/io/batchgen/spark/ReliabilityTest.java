package io.batchgen.spark;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.batchgen.spark.testing.FaultyLocalFileSystem;
import io.batchgen.core.progress.ProgressSnapshot;
import io.batchgen.spark.plugin.BatchGenDriverPlugin;
import io.batchgen.spark.progress.ProgressBoard;
import io.batchgen.spark.testing.FlakyBackend;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * "Nothing lost, nothing duplicated, every bad row explained": one test per way the sink used
 * to lose, duplicate or withhold rows, each on a real local Spark session.
 */
class ReliabilityTest {
  @TempDir
  static Path dir;
  static Path model;
  private SparkSession spark;

  @BeforeAll
  static void model() {
    model = TestData.tinyModel(dir);
  }

  @AfterEach
  void stop() {
    if (spark != null) {
      spark.stop();
      spark = null;
    }
    FlakyBackend.reset();
    FaultyLocalFileSystem.reset();
  }

  private SparkSession session(String master, String... conf) {
    SparkSession.Builder b = SparkSession.builder().master(master).appName("batchgen-reliability")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.plugins", "io.batchgen.spark.BatchGenPlugin");
    for (int i = 0; i < conf.length; i += 2) {
      b.config(conf[i], conf[i + 1]);
    }
    spark = b.getOrCreate();
    return spark;
  }

  private static Dataset<Row> prompts(SparkSession spark, long from, int n) {
    List<Row> rows = new ArrayList<>();
    for (Row r : TestData.promptRows(n)) {
      rows.add(RowFactory.create(from + r.getLong(0), r.getString(1)));
    }
    return spark.createDataFrame(rows, TestData.promptSchema());
  }

  private static org.apache.spark.sql.DataFrameWriter<Row> sink(Dataset<Row> df) {
    return df.write().format("batchgen").option("model", model.toString())
        .option("backend", "cpu").option("maxNewTokens", "3");
  }

  private Map<String, Long> countsById(String out) {
    Map<String, Long> counts = new HashMap<>();
    for (Row r : spark.read().parquet(out).selectExpr("cast(id as string)").collectAsList()) {
      counts.merge(r.getString(0), 1L, Long::sum);
    }
    return counts;
  }

  static String rootMessage(Throwable e) {
    StringBuilder all = new StringBuilder();
    for (Throwable t = e; t != null; t = t.getCause()) {
      all.append(t.getMessage()).append('\n');
    }
    return all.toString();
  }

  // ---------------------------------------------------------------- finding 1: append

  @Test
  void appendFromASecondApplicationKeepsTheFirstApplicationsRows() {
    String out = dir.resolve("append-two-apps").toString();
    sink(prompts(session("local[2]"), 0, 40)).mode("overwrite").save(out);
    spark.stop();
    // A new application: task ids start from 0 again.
    sink(prompts(session("local[2]"), 1000, 40)).mode("append").save(out);

    Map<String, Long> counts = countsById(out);
    assertThat(counts).hasSize(80);
    assertThat(counts.values()).containsOnly(1L);
    assertThat(counts).containsKeys("0", "39", "1000", "1039");
  }

  // ---------------------------------------------------------------- finding 2: empty prompts

  @Test
  void emptyPromptsAreRecordedPerRowAndDoNotFailTheJob() {
    SparkSession s = session("local[2]");
    List<Row> rows = new ArrayList<>(TestData.promptRows(600));
    rows.set(7, RowFactory.create(7L, ""));
    rows.set(300, RowFactory.create(300L, "   "));
    rows.set(599, RowFactory.create(599L, ""));
    Dataset<Row> df = s.createDataFrame(rows, TestData.promptSchema());
    String out = dir.resolve("empty-prompts").toString();
    sink(df).option("maxNewTokens", "1").option("onError", "record").mode("overwrite").save(out);

    Dataset<Row> result = s.read().parquet(out);
    assertThat(result.count()).isEqualTo(600);
    List<Row> failed = result.where("error is not null").orderBy("id").collectAsList();
    assertThat(failed).extracting(r -> r.getLong(r.fieldIndex("id")))
        .containsExactly(7L, 300L, 599L);
    assertThat(failed.get(0).getString(failed.get(0).fieldIndex("error")))
        .contains("(id 7), column 'prompt': the prompt is empty, so there is nothing to complete");

    assertThatThrownBy(() -> sink(df).option("onError", "fail").mode("overwrite")
        .save(dir.resolve("empty-prompts-fail").toString()))
        // ids 7 and 300 may land in different tasks: either task's failure can end the job
        .satisfies(e -> assertThat(rootMessage(e)).contains("(id ", "onError=record")
            .containsAnyOf("the prompt is empty", "the prompt is only whitespace"));
  }

  // ---------------------------------------------------------------- finding 4: duplicate ids

  @Test
  void duplicateIdsGiveOneRowPerIdCarryingTheErrorEvenWhenNotInFlightTogether() {
    SparkSession s = session("local[2]");
    List<Row> rows = new ArrayList<>(TestData.promptRows(30));
    rows.add(RowFactory.create(5L, "a second prompt with id 5"));
    rows.add(RowFactory.create(5L, "and a third"));
    rows.add(RowFactory.create(17L, "a second prompt with id 17"));
    Dataset<Row> df = s.createDataFrame(rows, TestData.promptSchema());
    String out = dir.resolve("duplicates").toString();
    // One row in flight per task: the copies of an id are never in the runtime together.
    sink(df).option("maxInflightRows", "1").option("onError", "record").mode("overwrite")
        .save(out);

    Map<String, Long> counts = countsById(out);
    assertThat(counts).hasSize(30);
    assertThat(counts.values()).containsOnly(1L);
    Row five = s.read().parquet(out).where("id = 5").first();
    assertThat(five.getString(five.fieldIndex("error")))
        .contains("the id [5] appears 3 times in the input");
    assertThat(five.isNullAt(five.fieldIndex("completion"))).isTrue();

    assertThatThrownBy(() -> sink(df).option("maxInflightRows", "1").mode("overwrite")
        .save(dir.resolve("duplicates-fail").toString()))
        .satisfies(e -> assertThat(rootMessage(e)).contains("column 'id': the id [",
            "] appears ", " times in the input", "de-duplicate", "onError=record"));
  }

  // ---------------------------------------------------------------- finding 5: failures

  @Test
  void aBackendFailureFailsTheTasksPromptlyAndSparkRetriesThemOnAFreshRuntime() {
    // local[2, 4]: two cores, a task may fail 3 times before the job fails.
    SparkSession s = session("local[2,4]", "spark.batchgen.rebalance.loadReportInterval",
        "100ms");
    FlakyBackend.plan(3, 1);
    String out = dir.resolve("flaky").toString();
    long t0 = System.nanoTime();
    // The job's progress, watched while it runs: the retried rows never count twice.
    ProgressBoard board = BatchGenDriverPlugin.active().orElseThrow().progress();
    AtomicLong mostRowsDone = new AtomicLong();
    ScheduledExecutorService watch = Executors.newSingleThreadScheduledExecutor();
    watch.scheduleAtFixedRate(() -> board.running().forEach(p ->
        mostRowsDone.accumulateAndGet(p.snapshot().rowsDone(), Math::max)), 0, 20,
        TimeUnit.MILLISECONDS);
    try {
      sink(prompts(s, 0, 24)).option("backend", "flaky").mode("overwrite").save(out);
    } finally {
      watch.shutdownNow();
    }
    assertThat(FlakyBackend.failed()).isEqualTo(1);
    assertThat((System.nanoTime() - t0) / 1e9).isLessThan(120);
    ProgressSnapshot progress = board.lastEnded().orElseThrow().snapshot();
    assertThat(progress.state()).isEqualTo(ProgressSnapshot.State.COMMITTED);
    assertThat(progress.rowsDone()).isEqualTo(24);
    assertThat(progress.rowsTotal()).isEqualTo(24);
    assertThat(mostRowsDone.get()).isLessThanOrEqualTo(24);

    Map<String, Long> counts = countsById(out);
    assertThat(counts).hasSize(24);
    assertThat(counts.values()).containsOnly(1L);
    assertThat(s.read().parquet(out).where("error is not null").count()).isZero();
  }

  @Test
  void aBackendThatKeepsFailingFailsTheJobWithItsCauseInsteadOfHanging() {
    SparkSession s = session("local[2,2]");
    FlakyBackend.plan(1, Integer.MAX_VALUE);
    long t0 = System.nanoTime();
    assertThatThrownBy(() -> sink(prompts(s, 0, 8)).option("backend", "flaky")
        .option("onError", "record").mode("overwrite")
        .save(dir.resolve("always-failing").toString()))
        .satisfies(e -> assertThat(rootMessage(e)).contains("injected device failure"));
    assertThat((System.nanoTime() - t0) / 1e9).isLessThan(60);
  }

  // ---------------------------------------------------------------- finding 6: overwrite

  @Test
  void overwriteFailingAtAnyRenameLeavesTheOldTableOrTheNewOneNeverAMixOrNothing() {
    SparkSession s = session("local[2]", "spark.hadoop.fs.file.impl",
        FaultyLocalFileSystem.class.getName(), "spark.hadoop.fs.file.impl.disable.cache", "true");
    Path outDir = dir.resolve("safe-overwrite");
    String out = outDir.toString();
    sink(prompts(s, 0, 10)).mode("overwrite").save(out);
    // Count the renames one overwrite makes, then fail each of them in turn.
    FaultyLocalFileSystem.failRename(outDir.getFileName().toString(), Integer.MAX_VALUE);
    sink(prompts(s, 100, 10)).mode("overwrite").save(out);
    int renames = FaultyLocalFileSystem.renames();
    assertThat(renames).isGreaterThan(1);
    long old = 100;
    for (int k = 1; k <= renames; k++) {
      long next = old == 100 ? 200 + k * 100L : 100;
      FaultyLocalFileSystem.failRename(outDir.getFileName().toString(), k);
      boolean failed;
      try {
        sink(prompts(s, next, 10)).mode("overwrite").save(out);
        failed = false;
      } catch (Exception e) { // SparkException is checked
        failed = true;
      }
      FaultyLocalFileSystem.reset();
      Map<String, Long> counts = countsById(out);
      long from = failed ? old : next;
      assertThat(counts).as("after a failure at rename %d of %d", k, renames).hasSize(10)
          .containsKeys(Long.toString(from), Long.toString(from + 9));
      assertThat(counts.values()).containsOnly(1L);
      old = from;
    }
  }

  // ---------------------------------------------------------------- finding 7: resume

  @Test
  void aFailedJobKeepsItsFinishedTasksAndResumeGeneratesOnlyTheMissingIds() throws IOException {
    // One core: tasks run one after another, so the first tasks finish before the failure.
    SparkSession s = session("local[1,1]");
    String out = dir.resolve("resume").toString();
    Dataset<Row> df = prompts(s, 0, 64);
    FlakyBackend.plan(100, Integer.MAX_VALUE); // 64 rows x 3 tokens: fails in the third task
    assertThatThrownBy(() -> sink(df).option("backend", "flaky").option("numPartitions", "4")
        .mode("overwrite").save(out))
        .satisfies(e -> assertThat(rootMessage(e)).contains("injected device failure"));
    FlakyBackend.reset();
    List<Path> kept;
    try (Stream<Path> files = Files.walk(Path.of(out))) {
      kept = files.filter(p -> p.toString().endsWith(".parquet")).toList();
    }
    assertThat(kept).isNotEmpty();
    long keptTokens = s.read().parquet(kept.stream().map(Path::toString).toArray(String[]::new))
        .selectExpr("sum(completion_tokens)").first().getLong(0);
    assertThat(keptTokens).isPositive();

    sink(df).option("numPartitions", "4").option("resume", "true").mode("overwrite").save(out);
    Map<String, Long> counts = countsById(out);
    assertThat(counts).hasSize(64);
    assertThat(counts.values()).containsOnly(1L);

    // The same completions as a clean run, and only the missing rows were generated again.
    String clean = dir.resolve("resume-clean").toString();
    sink(df).option("numPartitions", "4").mode("overwrite").save(clean);
    assertThat(s.read().parquet(out).select("id", "completion").except(
        s.read().parquet(clean).select("id", "completion")).count()).isZero();
    var jobs = new com.fasterxml.jackson.databind.ObjectMapper()
        .readTree(Path.of(out, "_batchgen_manifest.json").toFile()).get("jobs");
    assertThat(jobs).hasSize(1);
    assertThat(jobs.get(0).get("adopted")).isNotEmpty();
    long resumedTokens = jobs.get(0).get("generatedTokens").asLong();
    long allTokens = s.read().parquet(clean).selectExpr("sum(completion_tokens)").first()
        .getLong(0);
    assertThat(resumedTokens).isEqualTo(allTokens - keptTokens);
  }

  // ---------------------------------------------------------------- checks before work

  @Test
  void anOutputPathThatCannotBeWrittenFailsBeforeAnyWork() throws IOException {
    SparkSession s = session("local[2]");
    Path file = Files.writeString(dir.resolve("a-file"), "not a folder");
    assertThatThrownBy(() -> sink(prompts(s, 0, 4)).mode("append")
        .save(file.resolve("out").toString()))
        .satisfies(e -> assertThat(rootMessage(e)).contains("Cannot write the output",
            file.toString()));
  }

  @Test
  void maxNewTokensBeyondTheModelsContextFailsBeforeAnyWork() {
    SparkSession s = session("local[2]");
    assertThatThrownBy(() -> sink(prompts(s, 0, 4)).option("maxNewTokens", "1000000")
        .mode("overwrite").save(dir.resolve("too-long").toString()))
        .satisfies(e -> assertThat(rootMessage(e)).contains("Option 'maxNewTokens' is 1000000",
            "context"));
  }

  @Test
  void anIncompleteModelFolderFailsBeforeAnyWork() throws IOException {
    SparkSession s = session("local[2]");
    Path broken = dir.resolve("broken-model");
    Files.createDirectories(broken);
    try (Stream<Path> files = Files.list(model)) {
      for (Path f : files.toList()) {
        Files.copy(f, broken.resolve(f.getFileName()));
      }
    }
    Path weights;
    try (Stream<Path> files = Files.list(broken)) {
      weights = files.filter(f -> f.toString().endsWith(".safetensors")).findFirst().orElseThrow();
    }
    try (var ch = java.nio.channels.FileChannel.open(weights,
        java.nio.file.StandardOpenOption.WRITE)) {
      ch.truncate(ch.size() / 2);
    }
    assertThatThrownBy(() -> prompts(s, 0, 4).write().format("batchgen")
        .option("model", broken.toString()).mode("overwrite")
        .save(dir.resolve("broken-out").toString()))
        .satisfies(e -> assertThat(rootMessage(e)).contains("Option 'model'",
            weights.getFileName().toString()));
  }
}

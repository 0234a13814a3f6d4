package io.batchgen.spark;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.batchgen.core.runtime.GenerationRequest;
import io.batchgen.core.runtime.RuntimeConfig;
import io.batchgen.core.sampling.SamplingParams;
import io.batchgen.engine.run.Engine;
import io.batchgen.spark.runtime.EngineSpec;
import io.batchgen.spark.plugin.ExecutorRuntimeHost;
import io.batchgen.spark.runtime.ExecutorRuntime;
import io.batchgen.spark.runtime.ModelRuntime;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.functions;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The batchgen sink and source on local[2], against the engine run without Spark. */
class BatchGenDataSourceTest {
  private static final int ROWS = 48;
  private static final int MAX_NEW = 8;

  @TempDir
  static Path dir;
  static SparkSession spark;
  static Path model;
  static Map<Long, List<Integer>> engineTokens;

  @BeforeAll
  static void setUp() throws Exception {
    model = TestData.tinyModel(dir);
    engineTokens = engineOnly();
    spark = TestData.localSession("batchgen-datasource-test");
  }

  @AfterAll
  static void tearDown() {
    if (spark != null) {
      spark.stop();
    }
  }

  /** Greedy completions of the same prompts by the engine alone, no Spark. */
  private static Map<Long, List<Integer>> engineOnly() throws Exception {
    Map<Long, List<Integer>> out = new HashMap<>();
    try (Engine engine = Engine.open(model, "cpu", 1, RuntimeConfig.defaults())) {
      List<GenerationRequest> requests = new ArrayList<>();
      for (Row r : TestData.promptRows(ROWS)) {
        requests.add(new GenerationRequest(Long.toString(r.getLong(0)),
            engine.tokenizer().encode(r.getString(1)), SamplingParams.greedy(MAX_NEW)));
      }
      engine.generate(requests, 64, res -> {
        List<Integer> t = new ArrayList<>();
        for (int x : res.tokens()) {
          t.add(x);
        }
        out.put(Long.parseLong(res.id()), t);
      });
    }
    return out;
  }

  private static Map<Long, List<Integer>> tokensById(Dataset<Row> results) {
    Map<Long, List<Integer>> out = new HashMap<>();
    for (Row r : results.collectAsList()) {
      out.put(r.getLong(r.fieldIndex("id")), r.getList(r.fieldIndex("completion_token_ids")));
    }
    return out;
  }

  @Test
  void sinkWritesOneRowPerIdEqualToTheEngineOutput() throws Exception {
    String out = dir.resolve("sink-out").toString();
    TestData.prompts(spark, ROWS).write().format("batchgen")
        .option("model", model.toString()).option("backend", "cpu")
        .option("maxNewTokens", Integer.toString(MAX_NEW)).option("includeTokenIds", "true")
        .mode("append").save(out);

    Dataset<Row> results = spark.read().parquet(out);
    assertThat(results.count()).isEqualTo(ROWS);
    assertThat(results.select("id").distinct().count()).isEqualTo(ROWS);
    assertThat(tokensById(results)).isEqualTo(engineTokens);
    assertThat(results.filter("finish_reason not in ('stop', 'length')").count()).isZero();
    assertThat(Files.exists(Path.of(out, "_SUCCESS"))).isTrue();
    assertThat(Files.readString(Path.of(out, "_batchgen_manifest.json")))
        .contains("\"rows\" : " + ROWS, "modelHash");
    assertThat(Files.exists(Path.of(out, "_temporary"))).isFalse();
  }

  @Test
  void rangeWritePartitioningGivesEachTaskContiguousIdsAndIgnoreEosRunsToMaxNewTokens() {
    String range = dir.resolve("range-out").toString();
    String hash = dir.resolve("hash-out").toString();
    for (String[] run : new String[][] {{"range", range}, {"hash", hash}}) {
      TestData.prompts(spark, ROWS).write().format("batchgen")
          .option("model", model.toString()).option("maxNewTokens", "12")
          .option("ignoreEos", "true").option("includeTokenIds", "true")
          .option("numPartitions", "3").option("writePartitioning", run[0])
          .mode("overwrite").save(run[1]);
    }
    List<long[]> ranges = idRangesPerFile(range);
    assertThat(ranges).hasSize(3);
    for (int i = 1; i < ranges.size(); i++) {
      assertThat(ranges.get(i)[0]).as("file %d starts after file %d ends", i, i - 1)
          .isGreaterThan(ranges.get(i - 1)[1]);
    }
    assertThat(ranges.stream().mapToLong(r -> r[2]).sum()).isEqualTo(ROWS);
    List<long[]> hashed = idRangesPerFile(hash);
    assertThat(hashed.get(1)[0]).as("hash partitions interleave ids")
        .isLessThan(hashed.get(0)[1]);
    Dataset<Row> results = spark.read().parquet(range);
    assertThat(results.filter("size(completion_token_ids) <> 12 or finish_reason <> 'length'")
        .count()).as("every row generated its 12 tokens").isZero();
  }

  /** Per output file, sorted by first id: {first id, last id, rows}. */
  private static List<long[]> idRangesPerFile(String out) {
    List<long[]> ranges = new ArrayList<>();
    for (Row r : spark.read().parquet(out).selectExpr("input_file_name() as f", "id")
        .groupBy("f").agg(functions.min("id"), functions.max("id"), functions.count("id"))
        .collectAsList()) {
      ranges.add(new long[] {r.getLong(1), r.getLong(2), r.getLong(3)});
    }
    ranges.sort(java.util.Comparator.comparingLong(r -> r[0]));
    return ranges;
  }

  @Test
  void appendAddsAndOverwriteReplaces() {
    String out = dir.resolve("modes-out").toString();
    Dataset<Row> prompts = TestData.prompts(spark, 10);
    for (int i = 0; i < 2; i++) {
      prompts.write().format("batchgen").option("model", model.toString())
          .option("maxNewTokens", "2").mode("append").save(out);
    }
    assertThat(spark.read().parquet(out).count()).isEqualTo(20);

    prompts.limit(4).write().format("batchgen").option("model", model.toString())
        .option("maxNewTokens", "2").mode("overwrite").save(out);
    assertThat(spark.read().parquet(out).count()).isEqualTo(4);
  }

  @Test
  void sourceReturnsOneRowPerIdEqualToTheEngineOutput() {
    String prompts = dir.resolve("prompts.parquet").toString();
    TestData.prompts(spark, ROWS).repartition(3).write().mode("overwrite").parquet(prompts);

    Dataset<Row> results = spark.read().format("batchgen")
        .option("model", model.toString()).option("prompts", prompts).option("backend", "cpu")
        .option("maxNewTokens", Integer.toString(MAX_NEW)).option("includeTokenIds", "true")
        .option("numPartitions", "4")
        .load();
    assertThat(results.rdd().getNumPartitions()).isEqualTo(4);
    assertThat(tokensById(results)).isEqualTo(engineTokens);
  }

  @Test
  void sqlViewOverTheSourceWorks() {
    String prompts = dir.resolve("prompts-sql.parquet").toString();
    TestData.prompts(spark, 6).write().mode("overwrite").parquet(prompts);
    spark.sql("CREATE OR REPLACE TEMPORARY VIEW completions USING batchgen OPTIONS (model '"
        + model + "', prompts '" + prompts + "', maxNewTokens '3')");
    List<Row> rows = spark.sql("SELECT id, completion_tokens FROM completions ORDER BY id")
        .collectAsList();
    assertThat(rows).hasSize(6);
    assertThat(rows).allSatisfy(r -> assertThat(r.getInt(1)).isBetween(1, 3));
  }

  @Test
  void badOptionsFailBeforeWorkStartsNamingTheProblem() {
    Dataset<Row> prompts = TestData.prompts(spark, 3);
    String out = dir.resolve("bad-out").toString();
    assertThatThrownBy(() -> prompts.write().format("batchgen").mode("append").save(out))
        .hasMessageContaining("option 'model'");
    assertThatThrownBy(() -> prompts.write().format("batchgen")
        .option("model", dir.resolve("no-such-model").toString()).mode("append").save(out))
        .hasMessageContaining("does not exist");
    assertThatThrownBy(() -> prompts.write().format("batchgen").option("model", model.toString())
        .option("maxNewToken", "5").mode("append").save(out))
        .satisfies(e -> assertThat(e.getMessage())
            .containsIgnoringCase("Unknown option 'maxNewToken'")
            .contains("Did you mean 'maxNewTokens'?"));
    assertThatThrownBy(() -> prompts.write().format("batchgen").option("model", model.toString())
        .option("maxNewTokens", "-3").mode("append").save(out))
        .hasMessageContaining("maxNewTokens").hasMessageContaining(">= 1");
    assertThatThrownBy(() -> prompts.selectExpr("id", "cast(id as double) as prompt").write()
        .format("batchgen").option("model", model.toString()).mode("append").save(out))
        .hasMessageContaining("column 'prompt': the column has type double but must be a"
            + " string");
    assertThatThrownBy(() -> prompts.selectExpr("prompt").write()
        .format("batchgen").option("model", model.toString()).mode("append").save(out))
        .hasMessageContaining("column 'id': the id column is missing; columns are [prompt]");
    assertThat(Files.exists(Path.of(out))).isFalse();
  }

  @Test
  void concurrentTasksOnOneExecutorShareOneRuntime() {
    String out = dir.resolve("shared-out").toString();
    // A spec no other test uses (threads=1), so the runtime is started by this write.
    EngineSpec spec = new EngineSpec(model.toString(), "cpu", 1,
        io.batchgen.core.runtime.SchedulingMode.COROUTINE, 0, 256);
    ExecutorRuntime executor = ExecutorRuntimeHost.get().runtime();
    long startedBefore = executor.started();
    TestData.prompts(spark, 16).write().format("batchgen").option("model", model.toString())
        .option("backend", "cpu").option("threads", "1")
        .option("maxNewTokens", Integer.toString(MAX_NEW)).option("numPartitions", "2")
        .mode("append").save(out);

    assertThat(spark.read().parquet(out).count()).isEqualTo(16);
    // Two write tasks ran concurrently (local[2]) and both used one new runtime: exactly one
    // was started, and it finished the sequences of both.
    assertThat(executor.started()).isEqualTo(startedBefore + 1);
    ModelRuntime shared = executor.acquire(spec);
    try {
      assertThat(executor.started()).isEqualTo(startedBefore + 1);
      assertThat(shared.runtime().metrics().finishedSequences()).isEqualTo(16);
    } finally {
      executor.release(shared);
    }
  }

  @Test
  void onErrorRecordWritesTheFailedRowAndFailStopsTheJobNamingIt() {
    List<Row> rows = new ArrayList<>(TestData.promptRows(5));
    rows.add(RowFactory.create(99L, "token ".repeat(700)));  // longer than the 512-position model
    Dataset<Row> prompts = spark.createDataFrame(rows, TestData.promptSchema());
    String out = dir.resolve("errors-out").toString();

    prompts.write().format("batchgen").option("model", model.toString())
        .option("maxNewTokens", "2").option("onError", "record").mode("append").save(out);
    Dataset<Row> results = spark.read().parquet(out);
    assertThat(results.count()).isEqualTo(6);
    Row failed = results.filter("id = 99").first();
    assertThat(failed.getString(failed.fieldIndex("finish_reason"))).isEqualTo("error");
    assertThat(failed.getString(failed.fieldIndex("error")))
        .contains("(id 99), column 'prompt': the prompt has 703 tokens but the model's context"
            + " is 512 tokens");
    assertThat(results.filter("error is null").count()).isEqualTo(5);

    String out2 = dir.resolve("errors-fail-out").toString();
    assertThatThrownBy(() -> prompts.write().format("batchgen")
        .option("model", model.toString()).option("maxNewTokens", "2").mode("append").save(out2))
        .satisfies(e -> assertThat(rootMessage(e)).contains("(id 99)", "onError=record"));
    assertThat(Files.exists(Path.of(out2, "_SUCCESS"))).isFalse();
  }

  private static String rootMessage(Throwable t) {
    StringBuilder all = new StringBuilder();
    for (Throwable c = t; c != null; c = c.getCause()) {
      all.append(c.getMessage()).append('\n');
    }
    return all.toString();
  }
}

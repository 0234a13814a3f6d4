package io.batchgen.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.batchgen.spark.plugin.BatchGenDriverPlugin;
import io.batchgen.spark.plugin.ExecutorInfo;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The batchgen sink and source on {@code local-cluster[2,1,1024]}: two executor JVMs, each with
 * its own runtime, against the engine run alone in the test JVM.
 */
class SinkSourceClusterIT {
  private static final int ROWS = 40;
  private static final int MAX_NEW = 8;

  @TempDir
  static Path dir;
  private static SparkSession spark;
  private static Path model;
  private static Map<Long, List<Integer>> engineTokens;

  @BeforeAll
  static void startCluster() throws Exception {
    model = ClusterData.tinyModel(dir);
    engineTokens = ClusterData.engineOnly(model, ROWS, MAX_NEW);
    spark = LocalCluster.builder("sink-source-cluster-it", 2, 1, 1024)
        .config("spark.batchgen.rebalance.loadReportInterval", "200ms")
        .getOrCreate();
    Map<String, ExecutorInfo> executors = LocalCluster.awaitExecutors(2);
    Set<Long> pids = executors.values().stream().map(i -> i.registration().pid())
        .collect(Collectors.toSet());
    assertThat(pids).as("executor JVMs").hasSize(2)
        .doesNotContain(ProcessHandle.current().pid());
  }

  @AfterAll
  static void stopCluster() {
    if (spark != null) {
      spark.stop();
    }
  }

  @Test
  void sinkWritesOneRowPerIdEqualToTheEngineOutputFromBothExecutors() throws Exception {
    Map<String, Long> before = tokensByExecutor();
    String out = dir.resolve("sink-out").toString();
    ClusterData.prompts(spark, ROWS).write().format("batchgen")
        .options(generationOptions()).option("numPartitions", "4")
        .mode("append").save(out);

    List<Row> results = spark.read().parquet(out).collectAsList();
    assertThat(results).hasSize(ROWS);
    // One row per id (tokensById rejects repeats), token for token the engine's output.
    assertThat(ClusterData.tokensById(results)).isEqualTo(engineTokens);
    assertThat(results).extracting(r -> r.getString(r.fieldIndex("finish_reason")))
        .allMatch(reason -> reason.equals("stop") || reason.equals("length"));
    assertThat(Path.of(out, "_SUCCESS")).exists();
    assertThat(Path.of(out, "_temporary")).doesNotExist();
    assertThat(Files.readString(Path.of(out, "_batchgen_manifest.json")))
        .contains("\"rows\" : " + ROWS);
    awaitBothExecutorsGeneratedSince(before);
  }

  @Test
  void sourceReturnsOneRowPerIdEqualToTheEngineOutputFromBothExecutors() {
    String prompts = dir.resolve("prompts.parquet").toString();
    ClusterData.prompts(spark, ROWS).repartition(3).write().mode("overwrite").parquet(prompts);
    Map<String, Long> before = tokensByExecutor();

    Dataset<Row> results = spark.read().format("batchgen").options(generationOptions())
        .option("prompts", prompts).option("numPartitions", "4").load();
    assertThat(results.rdd().getNumPartitions()).isEqualTo(4);
    List<Row> rows = results.collectAsList();

    assertThat(rows).hasSize(ROWS);
    assertThat(ClusterData.tokensById(rows)).isEqualTo(engineTokens);
    awaitBothExecutorsGeneratedSince(before);
  }

  @Test
  void appendAddsRowsAndOverwriteReplacesThem() {
    String out = dir.resolve("modes-out").toString();
    Dataset<Row> prompts = ClusterData.prompts(spark, 10);
    for (int i = 0; i < 2; i++) {
      prompts.write().format("batchgen").options(generationOptions()).mode("append").save(out);
    }
    List<Long> appended = spark.read().parquet(out).select("id").orderBy("id")
        .as(Encoders.LONG()).collectAsList();
    List<Long> twice = new ArrayList<>();
    for (long id = 0; id < 10; id++) {
      twice.add(id);
      twice.add(id);
    }
    assertThat(appended).as("each id once per append").isEqualTo(twice);

    prompts.filter("id >= 6").write().format("batchgen").options(generationOptions())
        .mode("overwrite").save(out);
    List<Long> ids = spark.read().parquet(out).select("id").orderBy("id")
        .as(Encoders.LONG()).collectAsList();
    assertThat(ids).containsExactly(6L, 7L, 8L, 9L);
    assertThat(Path.of(out, "_temporary")).doesNotExist();
  }

  @Test
  void sqlTemporaryViewOverTheSourceWorks() {
    int n = 12;
    String prompts = dir.resolve("prompts-sql.parquet").toString();
    ClusterData.prompts(spark, n).repartition(2).write().mode("overwrite").parquet(prompts);
    spark.sql("CREATE OR REPLACE TEMPORARY VIEW completions USING batchgen OPTIONS (model '"
        + model + "', prompts '" + prompts + "', backend 'cpu', maxNewTokens '" + MAX_NEW
        + "', includeTokenIds 'true', numPartitions '2')");

    Row counts = spark.sql("SELECT count(*), count(DISTINCT id) FROM completions").first();
    assertThat(counts.getLong(0)).isEqualTo(n);
    assertThat(counts.getLong(1)).isEqualTo(n);

    Map<Long, List<Integer>> expected = new HashMap<>();
    engineTokens.forEach((id, tokens) -> {
      if (id < n) {
        expected.put(id, tokens);
      }
    });
    assertThat(ClusterData.tokensById(spark.sql(
        "SELECT id, completion_token_ids FROM completions WHERE completion_tokens > 0")
        .collectAsList())).isEqualTo(expected);
  }

  private static Map<String, String> generationOptions() {
    return Map.of("model", model.toString(), "backend", "cpu",
        "maxNewTokens", Integer.toString(MAX_NEW), "includeTokenIds", "true");
  }

  /** Tokens generated so far by each registered executor, from its latest load report. */
  private static Map<String, Long> tokensByExecutor() {
    Map<String, Long> out = new HashMap<>();
    BatchGenDriverPlugin.active().orElseThrow().executors().forEach((id, info) ->
        out.put(id, info.lastReport() == null ? 0L : info.lastReport().tokensGenerated()));
    return out;
  }

  /** Both executor JVMs generated tokens since {@code before}: the job really ran on both. */
  private static void awaitBothExecutorsGeneratedSince(Map<String, Long> before) {
    await("load reports showing tokens generated on both executors")
        .atMost(Duration.ofSeconds(30))
        .untilAsserted(() -> assertThat(tokensByExecutor().entrySet().stream()
            .filter(e -> e.getValue() > before.getOrDefault(e.getKey(), 0L))
            .map(Map.Entry::getKey)).hasSize(2));
  }
}

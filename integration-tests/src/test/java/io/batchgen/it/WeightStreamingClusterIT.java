package io.batchgen.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.batchgen.engine.backend.WeightFootprint;
import io.batchgen.engine.model.LoadedModel;
import io.batchgen.engine.model.ModelLoader;
import io.batchgen.engine.model.TinyModels;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A sink job on an executor whose heap (512 MiB) is smaller than the model's compute-ready
 * weights: the {@code bench} Mixtral-style model as an F16 GGUF file (about 450 MB on disk, twice
 * that as the f32 panels the cpu backend computes on). With the default weight budget (a
 * quarter of the heap) the executor streams the weights and writes exactly the engine's tokens.
 */
class WeightStreamingClusterIT {
  private static final int ROWS = 4;
  private static final int MAX_NEW = 2;
  private static final int EXECUTOR_MB = 512;

  @TempDir
  static Path dir;

  @Test
  void aModelLargerThanTheExecutorHeapCompletesWithTheEngineTokens() throws Exception {
    Path model = TinyModels.writeGguf("bench", "mixtral", "f16", 11, dir.resolve("bench.gguf"));
    try (LoadedModel m = ModelLoader.load(model)) {
      assertThat(WeightFootprint.of(m).modelBytes()).as("compute-ready weight bytes")
          .isGreaterThan((long) EXECUTOR_MB << 20);
    }
    Map<Long, List<Integer>> engine = ClusterData.engineOnly(model, ROWS, MAX_NEW);
    SparkSession spark = LocalCluster.builder("weight-streaming-it", 1, 1, EXECUTOR_MB)
        .config("spark.executor.memory", EXECUTOR_MB + "m")
        .config("spark.batchgen.rebalance.enabled", "false")
        .getOrCreate();
    try {
      LocalCluster.awaitExecutors(1);
      String out = dir.resolve("out").toString();
      ClusterData.prompts(spark, ROWS).write().format("batchgen")
          .option("model", model.toString()).option("backend", "cpu")
          .option("maxNewTokens", Integer.toString(MAX_NEW)).option("includeTokenIds", "true")
          .option("kvCacheBudget", "64m").option("numPartitions", "1")
          .mode("append").save(out);
      List<Row> rows = spark.read().parquet(out).collectAsList();
      assertThat(rows).hasSize(ROWS);
      assertThat(ClusterData.tokensById(rows)).isEqualTo(engine);
    } finally {
      spark.stop();
    }
  }
}

package io.batchgen.it;

import io.batchgen.core.runtime.GenerationRequest;
import io.batchgen.core.runtime.RuntimeConfig;
import io.batchgen.core.sampling.SamplingParams;
import io.batchgen.engine.model.TinyModels;
import io.batchgen.engine.run.Engine;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

/**
 * Models, prompt tables and the engine-only oracle shared by the cluster tests. Every path it
 * hands out must be readable from the executor JVMs too: they run on this machine, so any local
 * absolute path is.
 */
final class ClusterData {
  private static final String[] WORDS = {"the", "expert", "batch", "router", "token", "spark",
      "cache", "layer", "model", "prompt", "ünïcödé", "数据", "quick", "brown", "fox"};

  private ClusterData() {
  }

  /** The {@code tiny} Mixtral-style model, f32, seed 11, written under {@code dir}. */
  static Path tinyModel(Path dir) {
    return TinyModels.write("tiny", "mixtral", "f32", 11, dir.resolve("model"));
  }

  /** {@code n} prompts of 1 to 23 words: id (long, 0..n-1), prompt (string). */
  static List<Row> promptRows(int n) {
    List<Row> rows = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      StringBuilder sb = new StringBuilder();
      int words = 1 + (i * 7) % 23;
      for (int w = 0; w < words; w++) {
        sb.append(w == 0 ? "" : " ").append(WORDS[(i * 31 + w * 17) % WORDS.length]);
      }
      rows.add(RowFactory.create((long) i, sb.toString()));
    }
    return rows;
  }

  static Dataset<Row> prompts(SparkSession spark, int n) {
    StructType schema = new StructType().add("id", DataTypes.LongType)
        .add("prompt", DataTypes.StringType);
    return spark.createDataFrame(promptRows(n), schema);
  }

  /** Greedy completions of {@link #promptRows} by the engine alone in this JVM, no Spark. */
  static Map<Long, List<Integer>> engineOnly(Path model, int n, int maxNewTokens)
      throws InterruptedException {
    Map<Long, List<Integer>> out = new HashMap<>();
    try (Engine engine = Engine.open(model, "cpu", 1, RuntimeConfig.defaults())) {
      List<GenerationRequest> requests = new ArrayList<>();
      for (Row r : promptRows(n)) {
        requests.add(new GenerationRequest(Long.toString(r.getLong(0)),
            engine.tokenizer().encode(r.getString(1)), SamplingParams.greedy(maxNewTokens)));
      }
      engine.generate(requests, 64, res -> {
        List<Integer> tokens = new ArrayList<>();
        for (int t : res.tokens()) {
          tokens.add(t);
        }
        out.put(Long.parseLong(res.id()), tokens);
      });
    }
    return out;
  }

  /**
   * id → completion_token_ids of result rows written with includeTokenIds=true.
   *
   * @throws AssertionError when an id appears twice
   */
  static Map<Long, List<Integer>> tokensById(List<Row> results) {
    Map<Long, List<Integer>> out = new HashMap<>();
    for (Row r : results) {
      long id = r.getLong(r.fieldIndex("id"));
      List<Integer> previous = out.put(id, r.getList(r.fieldIndex("completion_token_ids")));
      if (previous != null) {
        throw new AssertionError("id " + id + " appears more than once");
      }
    }
    return out;
  }
}

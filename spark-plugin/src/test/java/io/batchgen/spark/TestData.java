package io.batchgen.spark;

import io.batchgen.engine.model.TinyModels;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

/** Generated models and prompt tables for Spark tests. */
public final class TestData {
  private static final String[] WORDS = {"the", "expert", "batch", "router", "token", "spark",
      "cache", "layer", "model", "prompt", "ünïcödé", "数据", "quick", "brown", "fox"};

  private TestData() {
  }

  /** A local[2] session with the BatchGen plugin and no UI, for one test class. */
  public static SparkSession localSession(String appName) {
    return localSession(appName, java.util.Map.of());
  }

  /** {@link #localSession(String)} with these settings besides. */
  public static SparkSession localSession(String appName, java.util.Map<String, String> conf) {
    SparkSession.Builder b = SparkSession.builder().master("local[2]").appName(appName)
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.plugins", "io.batchgen.spark.BatchGenPlugin");
    conf.forEach(b::config);
    return b.getOrCreate();
  }

  /** The tiny Mixtral-style model, f32, seed 7. */
  public static Path tinyModel(Path dir) {
    return TinyModels.write("tiny", "mixtral", "f32", 7, dir.resolve("model"));
  }

  /** {@code n} prompts of varied length: id (long), prompt (string). */
  public static List<Row> promptRows(int n) {
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

  public static StructType promptSchema() {
    return new StructType().add("id", DataTypes.LongType).add("prompt", DataTypes.StringType);
  }

  public static Dataset<Row> prompts(SparkSession spark, int n) {
    return spark.createDataFrame(promptRows(n), promptSchema());
  }
}

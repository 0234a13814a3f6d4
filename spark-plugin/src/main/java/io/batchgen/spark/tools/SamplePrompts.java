package io.batchgen.spark.tools;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

/**
 * Sample prompts for the demo and benchmarks: deterministic from a seed, with a heavy-tailed
 * length mix (most short, a few long), as real prompt tables have.
 */
public final class SamplePrompts {
  private static final String[] WORDS = ("the a of to and in is for on with as by at from this "
      + "that model expert router token batch layer cache spark table prompt answer question "
      + "data write read query column row partition executor driver memory speed time cost "
      + "explain summarize translate list describe compare why how what when where which "
      + "quickly carefully briefly").split(" ");

  private SamplePrompts() {
  }

  public static StructType schema() {
    return new StructType().add("id", DataTypes.LongType, false)
        .add("prompt", DataTypes.StringType, false);
  }

  /** {@code n} rows: id 0..n-1 and a prompt of 4 to 100 words (fits the tiny model's context). */
  public static List<Row> rows(int n, long seed) {
    SplittableRandom rnd = new SplittableRandom(seed);
    List<Row> out = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      // Pareto-like tail: most prompts are short, a few are long.
      int words = (int) Math.min(100, 4 + Math.floor(6 / Math.pow(1 - rnd.nextDouble(), 0.8)));
      StringBuilder sb = new StringBuilder();
      for (int w = 0; w < words; w++) {
        sb.append(w == 0 ? "" : " ").append(WORDS[rnd.nextInt(WORDS.length)]);
      }
      out.add(RowFactory.create((long) i, sb.toString()));
    }
    return out;
  }

  public static Dataset<Row> dataset(SparkSession spark, int n, long seed) {
    return spark.createDataFrame(rows(n, seed), schema());
  }
}

package io.batchgen.cli;

import io.batchgen.engine.model.TinyModels;
import io.batchgen.engine.tools.CommandArgs;
import io.batchgen.spark.BatchGenJob;
import io.batchgen.spark.progress.ProgressDisplay;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

/**
 * {@code bin/batchgen demo}: the out-of-the-box job. Makes the default model (the tiny
 * Mixtral-style MoE, generated from a seed) and a sample Parquet prompt table in a work folder,
 * runs the batchgen sink through a real local Spark session with the plugin, and shows the
 * result and how to read it back.
 */
public final class DemoCommand {
  static final String USAGE = """
      Usage: bin/batchgen demo [--work DIR] [--rows N] [--maxNewTokens N] [--master local[2]]
                               [--progress auto|live|plain|off]

      Makes a tiny generated MoE model and N sample prompts (default 2000) under DIR
      (default ./batchgen-work), generates completions with Spark, and prints what it did.
      """;

  private DemoCommand() {
  }

  public static void main(String[] args) throws Exception {
    CommandArgs a = ToolArgs.parseOrExit(args, Set.of("work", "rows", "maxNewTokens", "master", "progress"), "batchgen demo", USAGE);
    if (a == null) {
      return;
    }
    Path work = Path.of(a.get("work", "batchgen-work")).toAbsolutePath();
    long rows = a.longValue("rows", 2000);
    String maxNew = Long.toString(a.longValue("maxNewTokens", 32));
    Path model = work.resolve("model");
    Path prompts = work.resolve("prompts.parquet");
    Path output = work.resolve("completions");
    Files.createDirectories(work);
    if (!Files.exists(model.resolve("config.json"))) {
      System.out.println("demo: generating the default model (tiny Mixtral-style MoE, seed 1) in "
          + model);
      TinyModels.write("tiny", "mixtral", "bf16", 1, model);
    }
    SparkSession spark = LocalSession.start("batchgen-demo", a.get("master", "local[2]"));
    try {
      System.out.println("demo: writing " + rows + " sample prompts to " + prompts);
      SamplePrompts.dataset(spark, rows, 42).repartition(4).write().mode("overwrite")
          .parquet(prompts.toString());
      System.out.println("demo: generating up to " + maxNew + " tokens per prompt with Spark ("
          + spark.sparkContext().master() + ", plugin " + spark.conf().get("spark.plugins")
          + ")");
      BatchGenJob.Summary s = BatchGenJob.run(spark, CommandArgs.parse(new String[] {
          "--model", model.toString(), "--input", prompts.toString(),
          "--output", output.toString(), "--maxNewTokens", maxNew, "--mode", "overwrite"},
          BatchGenJob.options(), Set.of()), BatchGenJob.display(a, ProgressDisplay.Mode.PLAIN,
          System.out));
      BatchGenJob.print(s, System.out);
      System.out.println("demo: a few rows:");
      for (Row r : spark.read().parquet(output.toString())
          .selectExpr("id", "prompt_tokens", "completion_tokens", "finish_reason",
              "substring(completion, 1, 40) as completion_start")
          .orderBy("id").limit(5).collectAsList()) {
        System.out.println("  " + r);
      }
      System.out.println("demo: read it back with spark.read().parquet(\"" + output + "\")");
      System.out.println("demo: or run the same job on your data: bin/batchgen generate --model "
          + model + " --input PROMPTS.parquet --output OUT");
    } finally {
      spark.stop();
    }
  }
}

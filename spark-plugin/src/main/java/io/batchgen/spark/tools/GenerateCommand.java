package io.batchgen.spark.tools;

import io.batchgen.engine.tools.CommandArgs;
import io.batchgen.spark.BatchGenJob;
import io.batchgen.spark.progress.ProgressDisplay;
import org.apache.spark.sql.SparkSession;

/**
 * {@code bin/batchgen generate}: the {@link BatchGenJob} in a Spark session started here —
 * {@code local[*]} by default, or any master (e.g. {@code --master spark://host:7077}).
 */
public final class GenerateCommand {
  static final String USAGE = """
      Usage: bin/batchgen generate --model PATH --input PROMPTS --output DIR
                                   [--master local[*]] [--mode append|overwrite]
                                   [--progress auto|live|plain|off] [--OPTION VALUE ...]

      Generates a completion for every row of the Parquet prompts (columns id, prompt) and writes
      the result table to DIR. Options are those of docs/configs.md, e.g. --maxNewTokens 64.
      Progress (rows done of the total, failed rows, tokens/s, elapsed, ETA): --progress auto
      (default) redraws one line on a terminal and prints a line every
      spark.batchgen.progress.interval (10s) otherwise; live or plain choose, off hides it.
      """;

  private GenerateCommand() {
  }

  public static void main(String[] args) {
    CommandArgs a = BatchGenJob.parse(args, System.err, "master");
    if (a == null) {
      System.err.print(USAGE);
      System.exit(2);
    }
    if (a.help()) {
      System.out.print(USAGE);
      return;
    }
    SparkSession spark = LocalSession.start("batchgen-generate", a.get("master", "local[*]"));
    try {
      BatchGenJob.print(BatchGenJob.run(spark, a,
          BatchGenJob.display(a, ProgressDisplay.Mode.PLAIN, System.out)), System.out);
    } catch (CommandArgs.UsageException e) {
      System.err.println("batchgen generate: " + e.getMessage());
      System.err.print(USAGE);
      System.exit(2);
    } finally {
      spark.stop();
    }
  }
}

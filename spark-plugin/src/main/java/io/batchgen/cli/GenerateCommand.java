package io.batchgen.cli;

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
      Usage: bin/batchgen generate --model PATH --input PROMPTS --output OUT
                                   [--master local[*]] [--mode append|overwrite]
                                   [--inputFormat auto|parquet|openai]
                                   [--outputFormat auto|parquet|openai] [--table DIR]
                                   [--progress auto|live|plain|off] [--OPTION VALUE ...]

      Generates a completion for every prompt and writes the result table to OUT.
        PROMPTS: a Parquet prompt table (columns id, prompt or messages, optional per-row
                 max_new_tokens, temperature, ...), or an OpenAI batch input file (.jsonl: one
                 request per line with custom_id, url and body; chat or completions bodies with
                 their max_tokens, temperature, top_p, top_k, seed, stop).
        OUT:     the result table's folder; or, for a name ending in .jsonl (or --outputFormat
                 openai), an OpenAI batch output file with one line per custom_id (errors in the
                 error field), the result table going to --table (default OUT.table).
      Options are those of docs/configs.md, e.g. --maxNewTokens 64 --onError record (bad rows
      and bad input lines become error results, each naming its row or line and the fix).
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

package io.batchgen.cli;

import io.batchgen.core.progress.ProgressLine;
import io.batchgen.core.progress.ProgressSnapshot;
import io.batchgen.engine.model.TinyModels;
import io.batchgen.engine.tools.CommandArgs;
import io.batchgen.spark.BatchGenJob;
import io.batchgen.spark.config.BatchGenConfig;
import io.batchgen.spark.progress.ProgressDisplay;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

/**
 * {@code bin/batchgen bench progress}: how well the ETA predicts. Runs the job of {@code
 * bin/batchgen generate} (the same {@link BatchGenJob} in a local session, cold, as a person
 * starts it) on the tiny model over prompts whose per-row {@code max_new_tokens} follow {@code
 * bench runtime}'s heavy-tailed output lengths (Pareto, alpha 1.5, from {@code --minOutput} up
 * to {@code --maxOutput}); the job sees the column, so it knows no bound and must learn the
 * lengths from the rows that finish. Every second it records the ETA the progress line shows;
 * after the commit it compares the ETA shown at each tenth of the run's length with the time
 * that was really left. The ratio is ETA / true remaining time at a quarter of the run.
 */
public final class ProgressBench {
  static final String USAGE = """
      Usage: bin/batchgen bench progress [--rows N] [--minOutput N] [--maxOutput N]
                                         [--work DIR] [--master local[2]] [--samples FILE]
                                         [--admission arrival|longest]

      Defaults: --rows 20000 --minOutput 32 --maxOutput 256 --work ./batchgen-work
      --admission arrival (the runtime's order: longest starts the largest max_new_tokens
      first, so the long rows finish last).
      --samples writes every second's figures as CSV (elapsed, rows done, tokens done, tokens
      left, ETA), to try other estimators on the same run.
      Prints the ETA shown at each tenth of the run against the time really left, and a last
      line 'bench progress: ratio=ETA/TRUE at 25% ... eta50_error=...'.
      """;

  private ProgressBench() {
  }

  /** What the progress line showed at one moment, and the estimates behind its ETA. */
  record Sample(double elapsed, long rowsDone, Duration eta, long tokensDone, long tokensLeft) {
  }

  public static void main(String[] args) throws Exception {
    CommandArgs a = ToolArgs.parseOrExit(args, Set.of("rows", "minOutput", "maxOutput", "work",
        "master", "samples", "admission"), "bench progress", USAGE);
    if (a == null) {
      return;
    }
    long rows = a.longValue("rows", 20_000);
    long minOutput = a.longValue("minOutput", 32);
    long maxOutput = a.longValue("maxOutput", 256);
    Path work = Path.of(a.get("work", "batchgen-work")).toAbsolutePath();
    Path model = work.resolve("model-tiny");
    if (!Files.exists(model.resolve("config.json"))) {
      System.out.println("bench progress: generating the tiny model in " + model);
      TinyModels.write("tiny", "mixtral", "bf16", 1, model);
    }
    Path prompts = work.resolve("progress-prompts.parquet");
    Path output = work.resolve("progress-completions");
    SparkSession spark = LocalSession.start("batchgen-bench-progress",
        a.get("master", "local[2]"));
    String admission = a.get("admission", "arrival");
    spark.conf().set(BatchGenConfig.ADMISSION_ORDER.key(), admission);
    try {
      // bench runtime's output lengths: floor(min / u^(1/1.5)) capped at max, u in (0, 1].
      SamplePrompts.dataset(spark, rows, 42).selectExpr("id", "prompt", String.format(Locale.ROOT,
          "cast(least(%d, floor(%d / pow(1 - rand(7), 1 / 1.5))) as int) as max_new_tokens",
          maxOutput, minOutput)).repartition(4).write().mode("overwrite")
          .parquet(prompts.toString());
      System.out.printf(Locale.ROOT, "bench progress: %,d prompts, max_new_tokens Pareto(1.5)"
          + " in [%d, %d], tiny model, %s, admission %s, cold start%n", rows, minOutput,
          maxOutput, spark.sparkContext().master(), admission);
      List<Sample> samples = new ArrayList<>();
      ProgressSnapshot[] last = new ProgressSnapshot[1];
      CommandArgs job = CommandArgs.parse(new String[] {"--model", model.toString(), "--input",
          prompts.toString(), "--output", output.toString(), "--mode", "overwrite"},
          BatchGenJob.options(), Set.of());
      BatchGenJob.Summary summary = BatchGenJob.run(spark, job, progress ->
          ProgressDisplay.start(progress::snapshot, ProgressDisplay.Mode.OFF, System.out,
              Duration.ofSeconds(1), s -> {
                last[0] = s;
                samples.add(new Sample(s.elapsed().toMillis() / 1000.0, s.rowsDone(), s.eta(),
                    s.tokensDone(), s.tokensLeft()));
                if (samples.size() % 10 == 0 || s.state() != ProgressSnapshot.State.RUNNING) {
                  System.out.println("  " + ProgressLine.format(s));
                }
              })::close);
      double total = last[0].elapsed().toMillis() / 1000.0;
      if (a.get("samples", null) != null) {
        List<String> csv = new ArrayList<>(List.of("elapsed_s,rows_done,tokens_done,tokens_left,"
            + "eta_s"));
        samples.forEach(s -> csv.add(String.format(Locale.ROOT, "%.3f,%d,%d,%d,%s", s.elapsed(),
            s.rowsDone(), s.tokensDone(), s.tokensLeft(), s.eta() == null ? ""
            : Double.toString(s.eta().toMillis() / 1000.0))));
        Files.write(Path.of(a.get("samples", null)), csv);
      }
      Row lengths = spark.read().parquet(output.toString()).selectExpr(
          "avg(completion_tokens)", "percentile(completion_tokens, 0.5)",
          "percentile(completion_tokens, 0.99)", "max(completion_tokens)").first();
      System.out.printf(Locale.ROOT, "bench progress: %,d rows, %,d tokens generated in %.1f s;"
          + " completion tokens mean %.1f, median %.0f, p99 %.0f, max %d%n", summary.rows(),
          summary.generatedTokens(), total, lengths.getDouble(0), lengths.getDouble(1),
          lengths.getDouble(2), lengths.getInt(3));
      // Where an error comes from: the work left (tokens a row takes, estimated against the
      // job's real mean) or the throughput (the rate the ETA assumed against the rate the rest
      // of the run really had).
      double tokensPerRow = (summary.promptTokens() + summary.generatedTokens())
          / (double) summary.rows();
      System.out.printf(Locale.ROOT, "  real tokens a row (prompt + generated): %.1f%n",
          tokensPerRow);
      System.out.println("  at    elapsed  rows done   ETA shown  really left   error"
          + "   tokens/row est.   tokens/s assumed  really");
      for (int tenth = 1; tenth <= 9; tenth++) {
        Sample s = nearest(samples, total * tenth / 10.0);
        double left = total - s.elapsed();
        long rowsLeft = summary.rows() - s.rowsDone();
        double realRate = (summary.promptTokens() + summary.generatedTokens() - s.tokensDone())
            / left;
        System.out.printf(Locale.ROOT, "  %3d%%  %6.1fs  %9d  %9s  %10.1fs  %+6.1f%%  %15.1f"
            + "  %17.0f  %6.0f%n", tenth * 10, s.elapsed(), s.rowsDone(), s.eta() == null
            ? "unknown" : ProgressLine.duration(s.eta(), true), left,
            100 * (etaOf(s) - left) / left, s.tokensLeft() / (double) rowsLeft,
            s.tokensLeft() / etaOf(s), realRate);
      }
      Sample q = nearest(samples, total / 4);
      Sample h = nearest(samples, total / 2);
      double q1 = etaOf(q) / (total - q.elapsed());
      double h1 = etaOf(h) / (total - h.elapsed());
      System.out.printf(Locale.ROOT, "bench progress: ratio=%.3f eta25_s=%.0f left25_s=%.1f"
          + " eta25_error=%+.1f%% eta50_s=%.0f left50_s=%.1f eta50_error=%+.1f%% rows=%d"
          + " seconds=%.1f within25=%s admission=%s%n", q1, etaOf(q), total - q.elapsed(),
          100 * (q1 - 1), etaOf(h), total - h.elapsed(), 100 * (h1 - 1), summary.rows(), total,
          Math.abs(q1 - 1) <= 0.25 && Math.abs(h1 - 1) <= 0.25, admission);
    } finally {
      spark.stop();
    }
  }

  private static double etaOf(Sample s) {
    return s.eta() == null ? Double.NaN : s.eta().toMillis() / 1000.0;
  }

  /** The sample shown closest to {@code seconds} into the run. */
  static Sample nearest(List<Sample> samples, double seconds) {
    Sample best = samples.get(0);
    for (Sample s : samples) {
      if (Math.abs(s.elapsed() - seconds) < Math.abs(best.elapsed() - seconds)) {
        best = s;
      }
    }
    return best;
  }
}

package io.batchgen.cli;

import io.batchgen.core.runtime.GenerationRequest;
import io.batchgen.core.runtime.RuntimeConfig;
import io.batchgen.core.sampling.SamplingParams;
import io.batchgen.engine.model.TinyModels;
import io.batchgen.engine.run.Engine;
import io.batchgen.engine.tools.CommandArgs;
import io.batchgen.spark.BatchGenJob;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

/**
 * {@code bin/batchgen bench spark}: tokens/s of the Spark job (sink, local session with the
 * plugin) against the engine alone on the same prompts, same model, same backend and thread
 * count, alternating runs in one process so both see the same machine load. The headline ratio
 * is spark/engine; Spark's overhead (planning, tasks, Parquet in and out) is what it measures.
 */
public final class SparkBench {
  static final String USAGE = """
      Usage: bin/batchgen bench spark [--preset bench|tiny] [--rows N] [--maxNewTokens N]
                                      [--runs N] [--work DIR] [--master local[2]]

      Defaults: --preset bench --rows 128 --maxNewTokens 32 --runs 3 --work ./batchgen-work.
      Prints each run, medians with min-max spread, and a last line
      'bench spark: ratio=SPARK/ENGINE ...'.
      """;

  private SparkBench() {
  }

  public static void main(String[] args) throws Exception {
    CommandArgs a = ToolArgs.parseOrExit(args, Set.of("preset", "rows", "maxNewTokens", "runs", "work",
          "master"), "bench spark", USAGE);
    if (a == null) {
      return;
    }
    String preset = a.oneOf("preset", "bench", Set.of("bench", "tiny"));
    int rows = (int) a.longValue("rows", 128);
    int maxNew = (int) a.longValue("maxNewTokens", 32);
    int runs = (int) a.longValue("runs", 3);
    Path work = Path.of(a.get("work", "batchgen-work")).toAbsolutePath();
    Path model = work.resolve("model-" + preset);
    if (!Files.exists(model.resolve("config.json"))) {
      System.out.println("bench spark: generating the " + preset + " model in " + model);
      TinyModels.write(preset, "mixtral", "bf16", 1, model);
    }
    Path prompts = work.resolve("bench-prompts.parquet");
    Path output = work.resolve("bench-completions");
    SparkSession spark = LocalSession.start("batchgen-bench-spark", a.get("master", "local[2]"));
    int threads = Runtime.getRuntime().availableProcessors();
    try (Engine engine = Engine.open(model, "auto", threads, RuntimeConfig.defaults())) {
      List<Row> promptRows = SamplePrompts.rows(rows, 42);
      spark.createDataFrame(promptRows, SamplePrompts.schema()).repartition(2).write()
          .mode("overwrite").parquet(prompts.toString());
      List<GenerationRequest> requests = new ArrayList<>();
      for (Row r : promptRows) {
        requests.add(new GenerationRequest(Long.toString(r.getLong(0)),
            engine.tokenizer().encode(r.getString(1)), SamplingParams.greedy(maxNew)));
      }
      String[] jobArgs = {"--model", model.toString(), "--input", prompts.toString(),
          "--output", output.toString(), "--maxNewTokens", Integer.toString(maxNew),
          "--threads", Integer.toString(threads), "--numPartitions", "2"};
      CommandArgs job = CommandArgs.parse(jobArgs, BatchGenJob.options(), Set.of());

      System.out.printf("bench spark: %s model, %d prompts, %d new tokens each, %d threads, "
          + "%s%n", preset, rows, maxNew, threads, spark.sparkContext().master());
      engineRun(engine, requests);
      BatchGenJob.run(spark, job); // warm-up: loads the executor runtime, JIT-compiles kernels
      double[] engineRates = new double[runs];
      double[] sparkRates = new double[runs];
      for (int i = 0; i < runs; i++) {
        engineRates[i] = engineRun(engine, requests);
        BatchGenJob.Summary s = BatchGenJob.run(spark, job);
        sparkRates[i] = s.tokensPerSecond();
        System.out.printf("  run %d: engine %.1f tok/s, spark %.1f tok/s (%d tokens in %.1f s)%n",
            i + 1, engineRates[i], sparkRates[i], s.generatedTokens(), s.seconds());
      }
      double engineMedian = median(engineRates);
      double sparkMedian = median(sparkRates);
      System.out.printf("bench spark: ratio=%.3f spark_tok_s=%.1f engine_tok_s=%.1f "
          + "spark_spread=%.1f-%.1f engine_spread=%.1f-%.1f rows=%d max_new_tokens=%d runs=%d "
          + "threads=%d preset=%s%n", sparkMedian / engineMedian, sparkMedian, engineMedian,
          min(sparkRates), max(sparkRates), min(engineRates), max(engineRates), rows, maxNew,
          runs, threads, preset);
    } finally {
      spark.stop();
    }
  }

  /** Generated tokens per second of the engine alone over {@code requests}. */
  private static double engineRun(Engine engine, List<GenerationRequest> requests)
      throws InterruptedException {
    AtomicLong tokens = new AtomicLong();
    long start = System.nanoTime();
    engine.generate(requests, 512, r -> tokens.addAndGet(r.tokens().length));
    return tokens.get() / ((System.nanoTime() - start) / 1e9);
  }

  static double median(double[] xs) {
    double[] s = xs.clone();
    Arrays.sort(s);
    return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
  }

  private static double min(double[] xs) {
    return Arrays.stream(xs).min().orElse(0);
  }

  private static double max(double[] xs) {
    return Arrays.stream(xs).max().orElse(0);
  }
}

package io.batchgen.cli;

import io.batchgen.core.rebalance.Move;
import io.batchgen.core.sim.Workload;
import io.batchgen.engine.model.LoadedTokenizer;
import io.batchgen.engine.model.ModelLoader;
import io.batchgen.engine.model.TinyModels;
import io.batchgen.engine.tokenizer.TextTokenizer;
import io.batchgen.spark.plugin.BatchGenDriverPlugin;
import io.batchgen.spark.plugin.MoveStatus;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

/**
 * The real part of {@code bin/batchgen bench rebalance}: sink jobs of the pinned workload on
 * {@code local-cluster[executors,1,1024]} (executor JVMs of their own, one core each), each
 * placement run {@link Settings#runs} times, interleaved, with the median completion time.
 *
 * <p>Rows are the pinned workload's ({@link Workload#pinned}), their prompt and output lengths
 * divided by {@link Settings#scale} so the generated {@code tiny} model (512 positions) holds
 * them and a run takes well under a minute on one core per executor (the rebalancer's intervals
 * are scaled down with it). A row's output length is its
 * {@code max_new_tokens} column, with {@code ignoreEos=true}, so it is exact; its prompt is
 * words of the model's own vocabulary up to the row's length in tokens (within a word).
 *
 * <p>Placements: <i>static</i> = {@code writePartitioning=range}, one partition per executor
 * (contiguous equal id ranges, as an ordered file splits); <i>hash</i> = the sink's default
 * clustering by id, one partition per executor; <i>fine</i> = range, 8 partitions per executor;
 * <i>rebalanced</i> = static with {@code spark.batchgen.rebalance.enabled=true} (the baselines run
 * with it false, in a session of their own). Every run's table is read back: every id exactly
 * once, no errors. Each task keeps all its rows in the runtime ({@code maxInflightRows} = the
 * rows), so the rebalancer sees the whole queue.
 */
final class RebalanceClusterRuns {

  /**
   * @param rows      rows of the workload
   * @param scale     prompt and output lengths are the pinned ones divided by this
   * @param runs      runs of each placement (the median counts)
   * @param seed      workload seed
   * @param executors executor JVMs (one core each)
   * @param work      folder for the model and the result tables
   * @param admission the runtimes' admission order ({@code longest} or {@code arrival})
   */
  record Settings(int rows, int scale, int runs, long seed, int executors, Path work,
      String admission) {
  }

  /** One way of placing rows on executors. */
  record Placement(String label, String partitioning, int partitionsPerExecutor,
      boolean rebalance) {
  }

  static final List<Placement> PLACEMENTS = List.of(
      new Placement("static", "range", 1, false),
      new Placement("hash", "hash", 1, false),
      new Placement("fine", "range", 8, false),
      new Placement("rebalanced", "range", 1, true));

  /** What the runs of one placement showed. */
  record Outcome(Placement placement, List<Double> seconds, long migrations, long lost,
      long duplicated, long errors) {

    double median() {
      List<Double> s = new ArrayList<>(seconds);
      s.sort(null);
      int n = s.size();
      return n % 2 == 1 ? s.get(n / 2) : (s.get(n / 2 - 1) + s.get(n / 2)) / 2;
    }
  }

  /** Every placement's outcome, and the workload as it was run. */
  record Result(Map<String, Outcome> outcomes, long promptTokens, long outputTokens) {

    Outcome get(String label) {
      return outcomes.get(label);
    }
  }

  private static final String[] WORDS = ("the a of to and in is for on with as by at from "
      + "this that model expert batch layer cache table prompt answer question data write read "
      + "token weights heads numbers program quick brown fox jumps over lazy dog").split(" ");
  private static final int MAX_POSITIONS = TinyModels.preset("tiny").maxPositions();

  private RebalanceClusterRuns() {
  }

  static Result run(Settings s, PrintStream out) throws Exception {
    Path work = s.work().toAbsolutePath();
    Files.createDirectories(work);
    Path model = TinyModels.write("tiny", "mixtral", "f32", 1, work.resolve("model"));
    Workload w = Workload.pinned(s.rows(), s.seed());
    List<Row> rows = new ArrayList<>(s.rows());
    long promptTokens = 0;
    long outputTokens = 0;
    try (LoadedTokenizer t = ModelLoader.loadTokenizer(model)) {
      int[] prompt = w.prompt();
      int[] output = w.output();
      for (int i = 0; i < s.rows(); i++) {
        int newTokens = Math.max(1, Math.round((float) output[i] / s.scale()));
        int want = Math.max(1, Math.round((float) prompt[i] / s.scale()));
        String text = promptOf(t.tokenizer(), want, i);
        int got = t.tokenizer().encode(text).length;
        if (got + newTokens >= MAX_POSITIONS) {
          throw new IllegalArgumentException("Row " + i + " needs " + got + " prompt and "
              + newTokens + " new tokens, more than the tiny model's " + MAX_POSITIONS
              + " positions; raise --realScale (now " + s.scale() + ")");
        }
        promptTokens += got;
        outputTokens += newTokens;
        rows.add(RowFactory.create((long) i, text, newTokens));
      }
    }
    out.printf(Locale.ROOT, "real part: local-cluster[%d,1,1024], tiny model, %d rows of the"
        + " pinned workload with lengths / %d: %d prompt + %d output tokens, %d run(s) each%n",
        s.executors(), s.rows(), s.scale(), promptTokens, outputTokens, s.runs());

    Map<String, Outcome> outcomes = new HashMap<>();
    for (boolean rebalance : new boolean[] {false, true}) {
      List<Placement> mine = PLACEMENTS.stream().filter(p -> p.rebalance() == rebalance)
          .toList();
      SparkSession spark = session(s.executors(), rebalance);
      try {
        Dataset<Row> table = spark.createDataFrame(rows, schema()).cache();
        table.count();
        BatchGenDriverPlugin driver = BatchGenDriverPlugin.active().orElseThrow(() ->
            new IllegalStateException("the BatchGen driver plugin is not running"));
        FaultsBench.awaitExecutors(driver, s.executors());
        // Warm-up: every executor loads the model and compiles its kernels before the clock.
        write(table.limit(8 * s.executors()), model, mine.get(0), s,
            work.resolve("warm-up"));
        Map<String, List<Double>> seconds = new HashMap<>();
        Map<String, long[]> counts = new HashMap<>();
        for (int run = 1; run <= s.runs(); run++) {
          for (Placement p : mine) {
            Path dir = work.resolve(p.label() + "-" + run);
            long moved = driver.migratedSequences();
            int movesBefore = driver.moves().size();
            long t0 = System.nanoTime();
            write(table, model, p, s, dir);
            double took = (System.nanoTime() - t0) / 1e9;
            moved = driver.migratedSequences() - moved;
            String moves = describeMoves(driver.moves().subList(movesBefore,
                driver.moves().size()));
            FaultsBench.Count c = FaultsBench.count(spark, dir.toString(), s.rows());
            seconds.computeIfAbsent(p.label(), k -> new ArrayList<>()).add(took);
            long[] sum = counts.computeIfAbsent(p.label(), k -> new long[4]);
            sum[0] += moved;
            sum[1] += c.lost();
            sum[2] += c.duplicated();
            sum[3] += c.errors();
            out.printf(Locale.ROOT, "  real %-10s run %d: %6.1f s, %d sequences migrated%s, %d"
                + " of %d ids exactly once (lost %d, duplicated %d, errors %d)%n", p.label(), run,
                took, moved, moves, c.exactlyOnce(), s.rows(), c.lost(), c.duplicated(),
                c.errors());
          }
        }
        for (Placement p : mine) {
          long[] c = counts.get(p.label());
          outcomes.put(p.label(), new Outcome(p, seconds.get(p.label()), c[0], c[1], c[2],
              c[3]));
        }
      } finally {
        spark.stop();
      }
    }
    return new Result(outcomes, promptTokens, outputTokens);
  }

  /** The moves of one run, by kind: ordered, and sequences their sources sent. */
  private static String describeMoves(List<MoveStatus> moves) {
    if (moves.isEmpty()) {
      return "";
    }
    Map<Move.Kind, int[]> byKind = new EnumMap<>(Move.Kind.class);
    for (MoveStatus m : moves) {
      int[] c = byKind.computeIfAbsent(m.kind(), k -> new int[2]);
      c[0]++;
      c[1] += m.sequences();
    }
    Map<String, Integer> byPair = new java.util.TreeMap<>();
    for (MoveStatus m : moves) {
      byPair.merge(m.from() + "->" + m.to(), m.sequences(), Integer::sum);
    }
    StringBuilder sb = new StringBuilder(" (moves");
    byKind.forEach((k, c) -> sb.append(' ').append(k.name().toLowerCase(Locale.ROOT))
        .append(' ').append(c[0]).append(" sending ").append(c[1]));
    byPair.forEach((pair, n) -> sb.append("; ").append(pair).append(' ').append(n));
    return sb.append(')').toString();
  }

  private static SparkSession session(int executors, boolean rebalance) {
    return LocalClusterConf.configure(SparkSession.builder()
            .appName("batchgen-bench-rebalance-" + (rebalance ? "on" : "off"))
            .config("spark.plugins", "io.batchgen.spark.BatchGenPlugin")
            .config("spark.ui.enabled", "false")
            .config("spark.task.maxFailures", "4")
            .config("spark.batchgen.rebalance.enabled", Boolean.toString(rebalance))
            // These jobs last seconds where real ones last minutes: the rebalancer's clock is
            // scaled down with them (defaults 1s, 2s, 2s, 3s).
            .config("spark.batchgen.rebalance.loadReportInterval", "250ms")
            .config("spark.batchgen.rebalance.interval", "500ms")
            .config("spark.batchgen.rebalance.minImbalance", "500ms")
            .config("spark.batchgen.rebalance.cooldown", "500ms"),
        LocalClusterConf.master(executors, 1, 1024)).getOrCreate();
  }

  private static StructType schema() {
    return new StructType().add("id", DataTypes.LongType, false)
        .add("prompt", DataTypes.StringType, false)
        .add("max_new_tokens", DataTypes.IntegerType, false);
  }

  private static void write(Dataset<Row> table, Path model, Placement p, Settings s, Path out) {
    table.write().format("batchgen").option("model", model.toString())
        .option("backend", "cpu").option("ignoreEos", "true")
        .option("admissionOrder", s.admission())
        .option("writePartitioning", p.partitioning())
        .option("numPartitions", Integer.toString(p.partitionsPerExecutor() * s.executors()))
        .option("maxInflightRows", Integer.toString(s.rows()))
        .mode("overwrite").save(out.toString());
  }

  /**
   * Words of the model's vocabulary, chosen by the row, until the prompt holds {@code tokens}
   * tokens as the tokenizer counts them (the last word may add one or two more).
   */
  static String promptOf(TextTokenizer tokenizer, int tokens, int row) {
    StringBuilder sb = new StringBuilder();
    long h = row * 0x9E3779B97F4A7C15L;
    while (true) {
      h = h * 6364136223846793005L + 1442695040888963407L;
      sb.append(sb.length() == 0 ? "" : " ")
          .append(WORDS[(int) Long.remainderUnsigned(h >>> 17, WORDS.length)]);
      if (tokenizer.encode(sb.toString()).length >= tokens) {
        return sb.toString();
      }
    }
  }
}

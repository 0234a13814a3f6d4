package io.batchgen.cli;

import io.batchgen.core.rebalance.Move;
import io.batchgen.core.sim.Workload;
import io.batchgen.engine.model.LoadedTokenizer;
import io.batchgen.engine.model.ModelLoader;
import io.batchgen.engine.model.TinyModels;
import io.batchgen.engine.tokenizer.TextTokenizer;
import io.batchgen.spark.plugin.BatchGenDriverPlugin;
import io.batchgen.spark.plugin.ExecutorInfo;
import io.batchgen.spark.plugin.MoveStatus;
import io.batchgen.spark.plugin.PluginMessages;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

/**
 * The real part of {@code bin/batchgen bench rebalance}: sink jobs of the pinned workload on
 * {@code local-cluster[executors,1,1024]} (executor JVMs of their own, one core each), in
 * {@link Settings#runs} rounds of every placement in turn, in one Spark session.
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
 * <i>rebalanced</i> = static with the rebalancer moving sequences; <i>hash+rebalanced</i> = hash
 * with the rebalancer (the sink's defaults). The session runs the rebalancer
 * ({@code spark.batchgen.rebalance.enabled=true}); the three baselines opt out per job with the
 * sink option {@code rebalance=false}, so no move is ordered for them. Each round runs every
 * placement in turn, so a round's runs share the machine's background load:
 * {@link Result#pairedRatio} divides each round's baseline by the same round's rebalanced run.
 * Every run's table is read back: every id exactly once, no errors. Each task keeps all its rows
 * in the runtime ({@code maxInflightRows} = the rows), so the rebalancer sees the whole queue.
 * Every run also prints what the driver saw of it ({@link RunTimeline}): when each executor ran
 * dry shows how unequal a placement left them.
 */
final class RebalanceClusterRuns {

  /**
   * @param rows      rows of the workload
   * @param scale     prompt and output lengths are the pinned ones divided by this
   * @param runs      rounds, each running every placement once
   * @param seed      workload seed
   * @param executors executor JVMs (one core each)
   * @param work      folder for the model and the result tables
   * @param admission the runtimes' admission order ({@code longest} or {@code arrival})
   */
  record Settings(int rows, int scale, int runs, long seed, int executors, Path work,
      String admission) {
  }

  /**
   * One way of placing rows on executors.
   *
   * @param rebalance the job's option {@code rebalance}: may the rebalancer move its rows
   */
  record Placement(String label, String partitioning, int partitionsPerExecutor,
      boolean rebalance) {
  }

  static final List<Placement> PLACEMENTS = List.of(
      new Placement("static", "range", 1, false),
      new Placement("hash", "hash", 1, false),
      new Placement("fine", "range", 8, false),
      new Placement("rebalanced", "range", 1, true),
      new Placement("hash+rebalanced", "hash", 1, true));

  /** What the runs of one placement showed. */
  record Outcome(Placement placement, List<Double> seconds, long migrations, long lost,
      long duplicated, long errors) {

    double median() {
      return RebalanceClusterRuns.median(seconds);
    }
  }

  /** Every placement's outcome, and the workload as it was run. */
  record Result(Map<String, Outcome> outcomes, long promptTokens, long outputTokens) {

    Outcome get(String label) {
      return outcomes.get(label);
    }

    /**
     * The median over rounds of {@code label}'s time divided by the rebalancer's in the same
     * round: each ratio compares two runs made minutes apart, under about the same background
     * load.
     */
    double pairedRatio(String label) {
      return pairedRatio(label, "rebalanced");
    }

    /** The median over rounds of {@code label}'s time divided by {@code over}'s. */
    double pairedRatio(String label, String over) {
      List<Double> base = get(label).seconds();
      List<Double> other = get(over).seconds();
      List<Double> ratios = new ArrayList<>(base.size());
      for (int i = 0; i < base.size(); i++) {
        ratios.add(base.get(i) / other.get(i));
      }
      return median(ratios);
    }

    /** {@code label}'s median time divided by the rebalancer's. */
    double ratioOfMedians(String label) {
      return get(label).median() / get("rebalanced").median();
    }
  }

  static double median(List<Double> values) {
    List<Double> s = new ArrayList<>(values);
    s.sort(null);
    int n = s.size();
    return n % 2 == 1 ? s.get(n / 2) : (s.get(n / 2 - 1) + s.get(n / 2)) / 2;
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

    Map<String, List<Double>> seconds = new HashMap<>();
    Map<String, long[]> counts = new HashMap<>();
    SparkSession spark = session(s.executors());
    try {
      Dataset<Row> table = spark.createDataFrame(rows, schema()).cache();
      table.count();
      BatchGenDriverPlugin driver = BatchGenDriverPlugin.active().orElseThrow(() ->
          new IllegalStateException("the BatchGen driver plugin is not running"));
      FaultsBench.awaitExecutors(driver, s.executors());
      // Warm-up: every executor loads the model and compiles its kernels before the clock.
      write(table.limit(8 * s.executors()), model, PLACEMENTS.get(0), s, work.resolve("warm-up"));
      // Round by round, each placement once: neighbouring runs share the machine's background
      // load, so a round's static run and its rebalanced run are measured minutes apart at most.
      for (int run = 1; run <= s.runs(); run++) {
        for (Placement p : PLACEMENTS) {
          Path dir = work.resolve(p.label() + "-" + run);
          long moved = driver.migratedSequences();
          int movesBefore = driver.moves().size();
          double took;
          String timeline;
          try (RunTimeline t = new RunTimeline(driver, movesBefore)) {
            write(table, model, p, s, dir);
            took = t.seconds();
            timeline = t.describe();
          }
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
          out.printf(Locale.ROOT, "  real %-15s run %d: %6.1f s, %d sequences migrated%s, %d"
              + " of %d ids exactly once (lost %d, duplicated %d, errors %d)%s%n", p.label(),
              run, took, moved, moves, c.exactlyOnce(), s.rows(), c.lost(), c.duplicated(),
              c.errors(), timeline);
        }
      }
    } finally {
      spark.stop();
    }
    Map<String, Outcome> outcomes = new HashMap<>();
    for (Placement p : PLACEMENTS) {
      long[] c = counts.get(p.label());
      outcomes.put(p.label(), new Outcome(p, seconds.get(p.label()), c[0], c[1], c[2], c[3]));
    }
    return new Result(outcomes, promptTokens, outputTokens);
  }

  /**
   * What the driver saw during one run, sampled every 100 ms from the executors' load reports
   * and its list of moves: when each executor held the most sequences (about when its tasks had
   * submitted their rows), when moves were first and last seen, and when each executor last ran
   * dry. Times are seconds from the run's start, as precise as the load-report interval.
   */
  private static final class RunTimeline implements AutoCloseable {
    private final BatchGenDriverPlugin driver;
    private final int movesBefore;
    private final long startNanos = System.nanoTime();
    private final ScheduledExecutorService sampler = Executors.newSingleThreadScheduledExecutor(
        r -> {
          Thread t = new Thread(r, "bench-rebalance-timeline");
          t.setDaemon(true);
          return t;
        });
    private final Map<String, Integer> peak = new TreeMap<>();
    private final Map<String, Double> peakAt = new TreeMap<>();
    private final Map<String, Double> emptyAt = new TreeMap<>();
    private double firstMove = Double.NaN;
    private double lastMove = Double.NaN;
    private int moves;

    RunTimeline(BatchGenDriverPlugin driver, int movesBefore) {
      this.driver = driver;
      this.movesBefore = movesBefore;
      sampler.scheduleAtFixedRate(this::sample, 0, 100, TimeUnit.MILLISECONDS);
    }

    double seconds() {
      return (System.nanoTime() - startNanos) / 1e9;
    }

    private synchronized void sample() {
      double now = seconds();
      for (ExecutorInfo e : driver.executors().values()) {
        PluginMessages.LoadReport r = e.lastReport();
        if (r == null) {
          continue;
        }
        String id = r.executorId();
        int held = r.queuedSequences() + r.activeSequences();
        if (held > peak.getOrDefault(id, 0)) {
          peak.put(id, held);
          peakAt.put(id, now);
        }
        if (held > 0) {
          emptyAt.remove(id); // busy (again): it runs dry later, if at all
        } else if (peak.containsKey(id)) {
          emptyAt.putIfAbsent(id, now);
        }
      }
      int n = driver.moves().size() - movesBefore;
      if (n > moves) {
        firstMove = moves == 0 ? now : firstMove;
        lastMove = now;
        moves = n;
      }
    }

    synchronized String describe() {
      StringBuilder sb = new StringBuilder(String.format(Locale.ROOT,
          "%n      timeline (s from start): most held"));
      peakAt.forEach((id, t) -> sb.append(String.format(Locale.ROOT, " e%s %d at %.1f", id,
          peak.get(id), t)));
      sb.append(moves == 0 ? "; no moves" : String.format(Locale.ROOT,
          "; %d moves seen from %.1f to %.1f", moves, firstMove, lastMove));
      sb.append("; ran dry");
      emptyAt.forEach((id, t) -> sb.append(String.format(Locale.ROOT, " e%s at %.1f", id, t)));
      return sb.toString();
    }

    @Override
    public void close() {
      sampler.shutdownNow();
    }
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

  /** One session for every placement: the rebalancer on, the baselines opting out per job. */
  private static SparkSession session(int executors) {
    return LocalClusterConf.configure(SparkSession.builder()
            .appName("batchgen-bench-rebalance")
            .config("spark.plugins", "io.batchgen.spark.BatchGenPlugin")
            .config("spark.ui.enabled", "false")
            .config("spark.task.maxFailures", "4")
            .config("spark.batchgen.rebalance.enabled", "true")
            // These jobs last seconds where real ones last minutes: the rebalancer's clock is
            // scaled down with them (defaults 500ms, 1s, 2s, 1s).
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
        .option("rebalance", Boolean.toString(p.rebalance()))
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

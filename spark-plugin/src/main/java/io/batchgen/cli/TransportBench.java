package io.batchgen.cli;

import io.batchgen.core.rebalance.ExecutorLoad;
import io.batchgen.core.rebalance.Move;
import io.batchgen.core.rebalance.RebalancePolicy;
import io.batchgen.engine.model.TinyModels;
import io.batchgen.engine.tools.CommandArgs;
import io.batchgen.spark.plugin.BatchGenDriverPlugin;
import io.batchgen.spark.plugin.MoveStatus;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.spark.api.java.function.MapFunction;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;

/**
 * {@code bin/batchgen bench transport}: how fast live migration moves sequence state, measured
 * on the real path (source executor → driver plugin → destination executor over Spark's plugin
 * RPC, the {@link io.batchgen.core.snapshot.SnapshotCodec} format, 4 MiB chunks) on a local
 * cluster of two executor JVMs. A pinned policy ({@link Pinned}) replaces the balancing policy so
 * each trial makes exactly two moves at known moments: a few queued sequences (latency: nothing
 * but tokens travels) and every running sequence with its KV cache once the cache holds the
 * target size. The headline compares moving the KV with recomputing it at the destination at the
 * source's measured prefill speed, the choice the balancing policy makes for every move.
 */
public final class TransportBench {
  static final String USAGE = """
      Usage: bin/batchgen bench transport [--trials 3] [--targetMiB 64] [--sequences 16]
                                          [--promptWords 420] [--work DIR]

      Makes the 'bench' model (bf16; 8 KiB of f32 KV per position), starts
      local-cluster[2,1,2048], and runs TRIALS sink jobs of SEQUENCES + 4 rows in one partition
      (so one executor has them all; the other is idle). In each, the pinned policy first moves
      the 4 queued rows (their latency: order to running at the destination), then, once the
      running sequences' KV cache holds TARGET MiB, moves all of them with their KV. Prints each
      move's phases (upload to the driver, fetch from it, the waits for load reports) and checks
      that every id is written exactly once. Last line:
        bench transport: ratio=<recompute seconds / transfer seconds> mb_per_s=<state MB/s> ...
      """;

  private static final int QUEUED = 4;

  private TransportBench() {
  }

  public static void main(String[] args) throws Exception {
    CommandArgs a = ToolArgs.parseOrExit(args, Set.of("trials", "targetMiB", "sequences",
        "promptWords", "work"), "batchgen bench transport", USAGE);
    if (a == null) {
      return;
    }
    int trials = (int) a.longValue("trials", 3);
    long target = a.longValue("targetMiB", 64) << 20;
    int sequences = (int) a.longValue("sequences", 16);
    int promptWords = (int) a.longValue("promptWords", 420);
    if (trials < 1 || target < 1 || sequences < 1 || promptWords < 1) {
      throw new CommandArgs.UsageException("--trials, --targetMiB, --sequences and --promptWords"
          + " must be at least 1");
    }
    Path work = Path.of(a.get("work", "batchgen-work/transport")).toAbsolutePath();
    Files.createDirectories(work);
    Path model = work.resolve("model");
    if (!Files.exists(model.resolve("config.json"))) {
      TinyModels.write("bench", "mixtral", "bf16", 1, model);
    }
    String master = LocalClusterConf.master(2, 1, 2048);
    SparkSession spark = LocalClusterConf.configure(SparkSession.builder()
            .appName("batchgen-bench-transport")
            .config("spark.plugins", "io.batchgen.spark.BatchGenPlugin")
            .config("spark.ui.enabled", "false")
            .config("spark.batchgen.rebalance.policy", Pinned.class.getName())
            .config("spark.batchgen.rebalance.interval", "200ms"), master)
        .getOrCreate();
    List<Double> mbPerSecond = new ArrayList<>();
    List<Double> transfer = new ArrayList<>();
    List<Double> recompute = new ArrayList<>();
    List<Double> latency = new ArrayList<>();
    List<Double> kvToHosted = new ArrayList<>();
    long bytes = 0;
    long lost = 0;
    long duplicated = 0;
    try {
      BatchGenDriverPlugin driver = BatchGenDriverPlugin.active().orElseThrow(() ->
          new IllegalStateException("the BatchGen driver plugin is not running"));
      awaitExecutors(driver);
      int rows = sequences + QUEUED;
      Dataset<Row> prompts = prompts(spark, rows, promptWords).cache();
      prompts.count();
      System.out.printf(Locale.ROOT, "bench transport: %s, %d trials, %d rows of %d words,"
          + " KV move at %d MiB%n", master, trials, rows, promptWords, target >> 20);
      for (int t = 1; t <= trials; t++) {
        Trial trial = new Trial(target, sequences);
        Pinned.TRIAL.set(trial);
        int before = driver.moves().size();
        Path out = work.resolve("trial-" + t);
        prompts.write().format("batchgen").option("model", model.toString())
            .option("backend", "cpu").option("numPartitions", "1")
            .option("maxRunningSequences", Integer.toString(sequences))
            .option("maxNewTokens", "160").mode("overwrite").save(out.toString());
        List<MoveStatus> moves = driver.moves().subList(before, driver.moves().size());
        FaultsBench.Count c = FaultsBench.count(spark, out.toString(), rows);
        lost += c.lost();
        duplicated += c.duplicated();
        MoveStatus small = find(moves, Move.Kind.QUEUED);
        MoveStatus kv = find(moves, Move.Kind.IN_FLIGHT_WITH_KV);
        if (small != null && !Double.isNaN(small.timing().toHosted())) {
          latency.add(small.timing().toHosted());
        }
        if (kv == null || kv.bytes() == 0 || Double.isNaN(kv.timing().fetch())) {
          System.out.printf(Locale.ROOT, "trial %d: no KV move completed (moves: %s); raise"
              + " --promptWords or lower --targetMiB%n", t, moves);
          continue;
        }
        MoveStatus.Timing tm = kv.timing();
        double mbs = kv.bytes() / tm.transfer() / 1e6;
        double positions = (double) kv.bytes() / trial.kvBytesPerPosition;
        double recomputeSeconds = trial.prefillPerSecond > 0
            ? positions / trial.prefillPerSecond : Double.NaN;
        bytes = kv.bytes();
        mbPerSecond.add(mbs);
        transfer.add(tm.transfer());
        recompute.add(recomputeSeconds);
        kvToHosted.add(tm.toHosted());
        System.out.printf(Locale.ROOT, "trial %d: KV move of %d sequences, %.1f MB in %.2f s ="
            + " %.0f MB/s (upload %.2f s, fetch %.2f s; waits for load reports %.2f s + %.2f s;"
            + " order to running %.2f s); recomputing its %.0f positions at the source's %.0f"
            + " positions/s would take %.1f s; queued move of %d: order to running %.2f s;"
            + " ids lost %d, duplicated %d%n", t, kv.sequences(), kv.bytes() / 1e6,
            tm.transfer(), mbs, tm.upload(), tm.fetch(), tm.toFirstChunk(), tm.toFetch(),
            tm.toHosted(), positions, trial.prefillPerSecond, recomputeSeconds,
            small == null ? 0 : small.sequences(),
            small == null ? Double.NaN : small.timing().toHosted(), c.lost(), c.duplicated());
      }
    } finally {
      Pinned.TRIAL.set(null);
      spark.stop();
    }
    if (transfer.isEmpty()) {
      throw new IllegalStateException("no trial moved KV state; see the lines above");
    }
    double ratio = StateBench.median(recompute) / StateBench.median(transfer);
    System.out.printf(Locale.ROOT, "bench transport: ratio=%.2f mb_per_s=%.0f"
        + " mb_per_s_spread=%.0f-%.0f transfer_s=%.2f recompute_s=%.1f kv_move_to_running_s=%.2f"
        + " queued_move_latency_s=%.2f bytes=%d trials=%d lost=%d duplicated=%d%n", ratio,
        StateBench.median(mbPerSecond), StateBench.min(mbPerSecond),
        StateBench.max(mbPerSecond), StateBench.median(transfer), StateBench.median(recompute),
        StateBench.median(kvToHosted), latency.isEmpty() ? Double.NaN
            : StateBench.median(latency), bytes, transfer.size(), lost, duplicated);
  }

  private static MoveStatus find(List<MoveStatus> moves, Move.Kind kind) {
    return moves.stream().filter(m -> m.kind() == kind).findFirst().orElse(null);
  }

  /** {@code n} rows of {@code words} words each, the same for every trial. */
  private static Dataset<Row> prompts(SparkSession spark, int n, int words) {
    return spark.range(n).map((MapFunction<Long, Row>) id -> {
      SplittableRandom rnd = new SplittableRandom(17 + id);
      StringBuilder sb = new StringBuilder();
      for (int w = 0; w < words; w++) {
        sb.append(w == 0 ? "" : " ").append(SamplePrompts.word(rnd));
      }
      return RowFactory.create(id, sb.toString());
    }, Encoders.row(SamplePrompts.schema()));
  }

  private static void awaitExecutors(BatchGenDriverPlugin driver) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(2);
    while (driver.executors().size() < 2) {
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException("the two executors did not register with the BatchGen"
            + " driver plugin within 2 minutes");
      }
      Thread.sleep(100);
    }
  }

  /** What one trial's pinned policy does and saw. */
  static final class Trial {
    final long targetBytes;
    final int sequences;
    boolean queuedMoved;
    boolean kvMoved;
    double prefillPerSecond;
    long kvBytesPerPosition = 1;

    Trial(long targetBytes, int sequences) {
      this.targetBytes = targetBytes;
      this.sequences = sequences;
    }
  }

  /**
   * The bench's policy: at most two moves per trial, from the executor holding the rows to the
   * other: its queued sequences at once, then its running sequences with their KV once their
   * cache holds the trial's target bytes. Does nothing between trials.
   */
  public static final class Pinned implements RebalancePolicy {
    static final AtomicReference<Trial> TRIAL = new AtomicReference<>();

    @Override
    public List<Move> plan(List<ExecutorLoad> loads, double transportBytesPerSecond,
        long nowNanos) {
      Trial t = TRIAL.get();
      if (t == null) {
        return List.of();
      }
      for (ExecutorLoad from : loads) {
        ExecutorLoad to = loads.stream().filter(l -> !l.executorId().equals(from.executorId())
            && l.spec().equals(from.spec())).findFirst().orElse(null);
        if (to == null || from.migrationsInFlight() > 0) {
          continue;
        }
        if (!t.queuedMoved && from.queued() > 0 && from.sequences() > t.sequences) {
          t.queuedMoved = true;
          return List.of(new Move(from.executorId(), to.executorId(), from.spec(),
              from.queued(), Move.Kind.QUEUED));
        }
        double cached = from.kvBytesPerPosition() * from.meanCachedPositions() * from.running();
        if (t.queuedMoved && !t.kvMoved && from.queued() == 0 && from.running() >= t.sequences
            && cached >= t.targetBytes) {
          t.kvMoved = true;
          t.prefillPerSecond = from.prefillTokensPerSecond();
          t.kvBytesPerPosition = from.kvBytesPerPosition();
          return List.of(new Move(from.executorId(), to.executorId(), from.spec(),
              from.running(), Move.Kind.IN_FLIGHT_WITH_KV));
        }
      }
      return List.of();
    }
  }
}

package io.batchgen.engine.run;

import io.batchgen.core.model.AttentionBatch;
import io.batchgen.core.model.KvStore;
import io.batchgen.core.model.ModelShape;
import io.batchgen.core.model.ModuleExecutor;
import io.batchgen.core.model.RowBatch;
import io.batchgen.core.sim.CostModel;
import io.batchgen.core.sim.ModuleCost;
import io.batchgen.engine.backend.Backends;
import io.batchgen.engine.model.LoadedModel;
import io.batchgen.engine.model.ModelLoader;
import io.batchgen.engine.model.TinyModels;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.stream.IntStream;
import java.util.stream.Stream;

/**
 * Measures a real backend's module calls on a generated model and fits the
 * {@link CostModel} of {@code bench rebalance}'s simulation: attention, one routed expert and
 * the LM head, each at several row counts (attention also at several context lengths), timed
 * directly on the {@link ModuleExecutor} in this process, then least-squares fits of
 * {@code fixed + perRow * rows (+ perContext * context)}.
 *
 * <p>Each point is the median of several timed calls after warm-up calls. The fit's worst
 * relative error over the measured points is reported with the model, so a cost curve that is
 * not linear in the rows shows.
 */
public final class CostCalibration {

  /** One measured point: a module call's rows, cached positions read, and median nanos. */
  public record Point(String module, int rows, long context, double nanos) {
  }

  /**
   * The fitted model and what it was fitted to.
   *
   * @param model     the cost model for the simulation
   * @param points    every measured point
   * @param worstFitError worst relative error of the fit over the points, per module
   */
  public record Calibration(CostModel model, List<Point> points, double[] worstFitError) {
  }

  private static final int[] ATTENTION_ROWS = {1, 16, 64, 256};
  private static final int[] ATTENTION_CONTEXT = {128, 512, 2048};
  private static final int[] EXPERT_ROWS = {1, 4, 16, 64, 256, 1024};
  private static final int[] LM_HEAD_ROWS = {1, 16, 64, 256};
  private static final int BLOCK = 16;

  private CostCalibration() {
  }

  /**
   * Generates the {@code preset} model (Mixtral architecture, bf16) in a temporary directory,
   * measures it on {@code backend} with {@code threads} threads, and fits the cost model; state
   * moves between the simulated executors at {@code transportBytesPerSecond}.
   */
  public static Calibration measure(String preset, String backend, int threads,
      double transportBytesPerSecond, Duration warmUp) {
    Path dir;
    try {
      dir = Files.createTempDirectory("batchgen-calibration-");
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot create a temporary directory for the calibration"
          + " model: " + e.getMessage(), e);
    }
    try {
      Path path = TinyModels.write(preset, "mixtral", "bf16", 7, dir.resolve(preset));
      try (LoadedModel model = ModelLoader.load(path);
          ModuleExecutor ex = Backends.create(backend, model, threads)) {
        return measure(ex, preset + " on " + ex.describe(), transportBytesPerSecond, warmUp);
      }
    } finally {
      deleteTree(dir);
    }
  }

  /** One measured call: its module, size, how to prepare its input and how to run it. */
  private record Probe(String module, int rows, long context, Runnable prepare, Runnable call) {
  }

  /**
   * Measures {@code ex} and fits the cost model (see the class comment). Every call is first
   * run over and over for {@code warmUp} in all, so the JIT has compiled the kernels (the Vector
   * API is orders of magnitude slower before), then each is timed.
   */
  public static Calibration measure(ModuleExecutor ex, String what,
      double transportBytesPerSecond, Duration warmUp) {
    ModelShape shape = ex.shape();
    SplittableRandom random = new SplittableRandom(11);
    // Contexts the model holds (the tiny model has 512 positions): the sweep's, capped.
    int[] contexts = IntStream.of(ATTENTION_CONTEXT).map(c -> Math.min(c,
        shape.maxPositions() - 1)).distinct().toArray();
    int maxRows = IntStream.of(ATTENTION_ROWS).max().orElseThrow();
    int contextSweepRows = 16;
    long kvBlocks = Math.max((long) maxRows * blocksFor(contexts[0]),
        (long) contextSweepRows * blocksFor(contexts[contexts.length - 1]));
    List<Point> points = new ArrayList<>();
    try (KvStore kv = ex.createKvStore((int) kvBlocks, BLOCK)) {
      List<Probe> probes = new ArrayList<>();
      AttentionBatch batch = new AttentionBatch();
      for (int rows : ATTENTION_ROWS) {
        probes.add(attention(ex, kv, batch, rows, contexts[0], random));
      }
      for (int i = 1; i < contexts.length; i++) {
        probes.add(attention(ex, kv, batch, contextSweepRows, contexts[i], random));
      }
      RowBatch rows = new RowBatch();
      for (int r : EXPERT_ROWS) {
        probes.add(new Probe("expert", r, 0,
            () -> fill(rows.reset(r, shape.hiddenSize(), shape.hiddenSize()).input(),
                r * shape.hiddenSize(), random), () -> ex.expert(0, 0, rows)));
      }
      for (int r : LM_HEAD_ROWS) {
        probes.add(new Probe("lm_head", r, 0,
            () -> fill(rows.reset(r, shape.hiddenSize(), shape.vocabSize()).input(),
                r * shape.hiddenSize(), random), () -> ex.lmHead(rows)));
      }
      long until = System.nanoTime() + warmUp.toNanos();
      for (int pass = 0; pass < 2 || System.nanoTime() < until; pass++) {
        for (Probe p : probes) {
          p.prepare().run();
          p.call().run();
        }
      }
      for (Probe p : probes) {
        points.add(time(p));
      }
    }
    double[] worst = new double[3];
    ModuleCost attention = fit(points, "attention", true, worst, 0);
    ModuleCost expert = fit(points, "expert", false, worst, 1);
    ModuleCost lmHead = fit(points, "lm_head", false, worst, 2);
    long kvBytesPerPosition = ex.kvBytesPerBlock(BLOCK) / BLOCK * shape.numLayers();
    CostModel model = new CostModel("cpu-measured", "measured here: " + what + ", "
        + shape.numLayers() + " layers, " + shape.numExperts() + " experts top-"
        + shape.topK() + "; " + String.format(Locale.ROOT, "%.2f", transportBytesPerSecond / 1e9)
        + " GB/s between executors", shape.numLayers(), shape.numExperts(), shape.topK(),
        kvBytesPerPosition, attention, expert, lmHead, transportBytesPerSecond, 100_000);
    return new Calibration(model, points, worst);
  }

  private static int blocksFor(int positions) {
    return (positions + BLOCK - 1) / BLOCK;
  }

  /** {@code rows} decode rows, each a sequence with {@code context} cached positions. */
  private static Probe attention(ModuleExecutor ex, KvStore kv, AttentionBatch batch, int rows,
      int context, SplittableRandom random) {
    ModelShape shape = ex.shape();
    int blocksEach = blocksFor(context);
    int[][] tables = new int[rows][blocksEach];
    for (int s = 0; s < rows; s++) {
      for (int b = 0; b < blocksEach; b++) {
        tables[s][b] = s * blocksEach + b;
      }
    }
    return new Probe("attention", rows, (long) rows * context, () -> {
      batch.reset(0, rows, shape.hiddenSize(), shape.topK(), kv);
      fill(batch.hidden(), rows * shape.hiddenSize(), random);
      for (int s = 0; s < rows; s++) {
        batch.addSegment(s, 1, context - 1, tables[s]);
      }
    }, () -> ex.attention(batch));
  }

  private static void fill(float[] a, int n, SplittableRandom random) {
    for (int i = 0; i < n; i++) {
      a[i] = (float) random.nextGaussian();
    }
  }

  /** Median time of a probe's call (5 to 50 calls, 200 ms at most), input re-prepared each time. */
  private static Point time(Probe p) {
    List<Long> samples = new ArrayList<>();
    long spent = 0;
    while (samples.size() < 5 || (spent < 200_000_000L && samples.size() < 50)) {
      p.prepare().run();
      long t0 = System.nanoTime();
      p.call().run();
      long t = System.nanoTime() - t0;
      samples.add(t);
      spent += t;
    }
    samples.sort(Comparator.naturalOrder());
    return new Point(p.module(), p.rows(), p.context(), samples.get(samples.size() / 2));
  }

  /**
   * Least squares of {@code nanos = fixed + perRow * rows (+ perContext * context)} over the
   * module's points, coefficients clamped at 0 (refitting without a clamped term).
   */
  static ModuleCost fit(List<Point> all, String module, boolean withContext, double[] worst,
      int slot) {
    List<Point> pts = all.stream().filter(p -> p.module().equals(module)).toList();
    boolean[] use = {true, true, withContext};
    double[] beta = solve(pts, use);
    for (int pass = 0; pass < 3; pass++) {
      boolean changed = false;
      for (int j = 0; j < 3; j++) {
        if (use[j] && beta[j] < 0) {
          use[j] = false;
          changed = true;
        }
      }
      if (!changed) {
        break;
      }
      beta = solve(pts, use);
    }
    double w = 0;
    for (Point p : pts) {
      double predicted = beta[0] + beta[1] * p.rows() + beta[2] * p.context();
      w = Math.max(w, Math.abs(predicted - p.nanos()) / p.nanos());
    }
    worst[slot] = w;
    return ModuleCost.linear(Math.max(0, beta[0]), Math.max(0, beta[1]), Math.max(0, beta[2]));
  }

  /**
   * Least squares with the terms in {@code use}, weighted by 1 / nanos so that small calls
   * count as much as large ones (relative error).
   */
  private static double[] solve(List<Point> pts, boolean[] use) {
    int n = 3;
    double[][] a = new double[n][n];
    double[] b = new double[n];
    for (Point p : pts) {
      double[] x = {1, p.rows(), p.context()};
      double w = 1 / (p.nanos() * p.nanos());
      for (int i = 0; i < n; i++) {
        if (!use[i]) {
          continue;
        }
        b[i] += w * x[i] * p.nanos();
        for (int j = 0; j < n; j++) {
          if (use[j]) {
            a[i][j] += w * x[i] * x[j];
          }
        }
      }
    }
    for (int i = 0; i < n; i++) {
      if (!use[i]) {
        a[i][i] = 1;
        b[i] = 0;
      }
    }
    return gauss(a, b);
  }

  private static double[] gauss(double[][] a, double[] b) {
    int n = b.length;
    for (int c = 0; c < n; c++) {
      int pivot = c;
      for (int r = c + 1; r < n; r++) {
        if (Math.abs(a[r][c]) > Math.abs(a[pivot][c])) {
          pivot = r;
        }
      }
      double[] row = a[c];
      a[c] = a[pivot];
      a[pivot] = row;
      double t = b[c];
      b[c] = b[pivot];
      b[pivot] = t;
      for (int r = c + 1; r < n; r++) {
        double f = a[r][c] / a[c][c];
        for (int k = c; k < n; k++) {
          a[r][k] -= f * a[c][k];
        }
        b[r] -= f * b[c];
      }
    }
    double[] x = new double[n];
    for (int r = n - 1; r >= 0; r--) {
      double s = b[r];
      for (int k = r + 1; k < n; k++) {
        s -= a[r][k] * x[k];
      }
      x[r] = s / a[r][r];
    }
    return x;
  }

  /** One line per measured point: measured and fitted nanos. */
  public static String describe(Calibration c) {
    StringBuilder sb = new StringBuilder();
    for (Point p : c.points()) {
      ModuleCost m = switch (p.module()) {
        case "attention" -> c.model().attention();
        case "expert" -> c.model().expert();
        default -> c.model().lmHead();
      };
      sb.append(String.format(Locale.ROOT, "  %-9s rows %5d context %7d: measured %9.1f us,"
          + " fit %9.1f us%n", p.module(), p.rows(), p.context(), p.nanos() / 1e3,
          m.nanos(p.rows(), p.context()) / 1e3));
    }
    sb.append(String.format(Locale.ROOT, "  worst fit error: attention %.0f%%, expert %.0f%%,"
        + " lm_head %.0f%%", 100 * c.worstFitError()[0], 100 * c.worstFitError()[1],
        100 * c.worstFitError()[2]));
    return sb.toString();
  }

  private static void deleteTree(Path dir) {
    try (Stream<Path> s = Files.walk(dir)) {
      s.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException e) {
      // best effort: a temporary directory
    }
  }
}

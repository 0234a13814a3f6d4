package io.batchgen.engine.tools;

import io.batchgen.engine.backend.Ceilings;
import io.batchgen.engine.backend.ExpertKernels;
import io.batchgen.engine.backend.VectorWidth;
import io.batchgen.engine.format.DType;
import io.batchgen.engine.format.Half;
import io.batchgen.engine.model.ExpertWeights;
import io.batchgen.engine.model.TinyModels;
import io.batchgen.engine.model.WeightTensor;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;

/**
 * {@code batchgen bench kernels}: GFLOP/s of a full expert FFN (gate, up, SwiGLU, down) of the
 * {@code bench} shape at several token batches, f32 and bf16 weights, 1 and 2 threads, median
 * and spread of several runs. The experts cycle through 16 weight sets (as many as a layer of the
 * bench model, far more than the caches hold) so small batches read their weights from memory,
 * as in real decoding.
 *
 * <p>Every figure is reported against this machine's ceilings measured in the same run
 * ({@link Ceilings}): the register-only FMA rate, and for the weights streamed, the rate of
 * streaming reads. The headline ratio is the f32 kernel on 2 threads at batch 64 over the FMA
 * ceiling, each timed run paired with the ceilings measured right before and right after it,
 * so that load from other tenants, which changes by the second, weighs on both sides of each
 * ratio.
 */
public final class KernelBench {
  static final String USAGE = """
      Usage: batchgen bench kernels [--preset bench|bench-fine] [--runs N]
                 [--batches 1,8,16,64,256] [--species preferred|128|256|512]
             batchgen bench kernels ceilings [--species preferred|128|256|512]

      Times the expert FFN kernel of the cpu backend (Java Vector API) and prints GFLOP/s for
      every dtype x threads x batch, as a fraction of this machine's FMA ceiling and, for the
      weights it streams, of its memory-read ceiling (both measured in the same run), then one
      summary line:
        bench kernels: ratio=<f32, 2 threads, batch 64 / FMA ceiling, 2 threads> key=value ...
      --species forces the kernels' vector width (default: what the JVM prefers here); a width
      wider than the hardware's is emulated, correct but very slow.
      Defaults: --preset bench --runs 7 --batches 1,8,16,64,256 --species preferred.
      'ceilings' measures only the ceilings (a few seconds) and prints one line,
        bench kernels ceilings: fma_t1_gflops=.. fma_t2_gflops=.. read_t1_gbs=.. read_t2_gbs=..
      for scripts that note, beside each run, how much of the machine other tenants leave
      (a 2-thread FMA ceiling well under twice the 1-thread one: the other core is shared).
      """;

  private static final int EXPERTS = 16;
  /** Rows of the call that packs each expert before timing. */
  private static final int WARM_ROWS = 16;
  private static final int HEADLINE_BATCH = 64;

  private KernelBench() {
  }

  public static void main(String[] args) {
    System.exit(run(args, System.out, System.err));
  }

  /** Runs the benchmark; returns the process exit code. */
  public static int run(String[] args, PrintStream out, PrintStream err) {
    try {
      CommandArgs a = CommandArgs.parse(args, Set.of("preset", "runs", "batches", "species"),
          Set.of("bench", "kernels", "ceilings"));
      if (a.help()) {
        out.print(USAGE);
        return 0;
      }
      TinyModels.Preset p = TinyModels.preset(a.oneOf("preset", "bench",
          Set.of("bench", "bench-fine")));
      long runs = a.longValue("runs", 7);
      if (runs < 5 || runs > 1000) {
        throw new CommandArgs.UsageException("Option --runs must be in [5, 1000], got " + runs);
      }
      int[] batches = LogitsCommand.parseTokens(a.get("batches", "1,8,16,64,256"));
      for (int b : batches) {
        if (b < 1 || b > 4096) {
          throw new CommandArgs.UsageException("Batch sizes must be in [1, 4096], got " + b);
        }
      }
      VectorWidth width;
      try {
        width = VectorWidth.parse(a.get("species", "preferred"));
      } catch (IllegalArgumentException e) {
        throw new CommandArgs.UsageException("Option --species: " + e.getMessage());
      }
      if (Arrays.asList(args).contains("ceilings")) {
        ceilingsOnly(width, out);
      } else {
        bench(p, (int) runs, batches, width, out);
      }
      return 0;
    } catch (CommandArgs.UsageException e) {
      err.println("bench kernels: " + e.getMessage());
      err.print(USAGE);
      return 2;
    } catch (RuntimeException e) {
      err.println("bench kernels: failed: " + e);
      return 1;
    }
  }

  private static void bench(TinyModels.Preset p, int runs, int[] batches, VectorWidth width,
      PrintStream out) {
    int h = p.hidden();
    int f = p.expertFfn();
    out.printf(Locale.ROOT, "bench kernels: expert FFN hidden=%d ffn=%d, %d weight sets, %d runs"
        + " each, %d cores, %s kernels (this JVM prefers %s); shared machines make absolute"
        + " numbers noisy%n", h, f, EXPERTS, runs, Runtime.getRuntime().availableProcessors(),
        width, VectorWidth.preferred());
    Ceilings ceilings = new Ceilings();
    double[] fma = {0, ceilings.fmaGflops(width, 1, 7), ceilings.fmaGflops(width, 2, 7)};
    double[] read = {0, ceilings.readGBs(1, 5), ceilings.readGBs(2, 5)};
    out.printf(Locale.ROOT, "  ceilings, same run: fp32 FMA in registers %.1f / %.1f GFLOP/s,"
        + " streaming reads %.1f / %.1f GB/s (1 / 2 threads)%n", fma[1], fma[2], read[1],
        read[2]);
    Map<String, String> summary = new LinkedHashMap<>();
    Map<String, String> cells = new LinkedHashMap<>();
    int maxBatch = Math.max(WARM_ROWS, Arrays.stream(batches).max().orElse(1));
    SplittableRandom rnd = new SplittableRandom(1);
    float[] x = new float[Math.max(maxBatch, HEADLINE_BATCH) * h];
    for (int i = 0; i < x.length; i++) {
      x[i] = (float) rnd.nextGaussian();
    }
    float[] y = new float[x.length];
    double[] headline = null;
    for (DType dtype : List.of(DType.F32, DType.BF16)) {
      List<ExpertWeights> experts = experts(dtype, h, f, rnd);
      double weightBytes = 3.0 * h * f * (dtype == DType.F32 ? 4 : 2);
      for (int threads : new int[] {1, 2}) {
        try (ExpertKernels.Ffn ffn = ExpertKernels.cpu(threads, width)) {
          Timer timer = new Timer(ffn, experts, x, y, h, f);
          for (int b : batches) {
            double[] rates = timer.rates(b, runs);
            double gflops = median(rates);
            double gbs = gflops * 1e9 / (2.0 * 3 * b * h * f) * weightBytes / 1e9;
            String key = dtype.name().toLowerCase(Locale.ROOT) + "_t" + threads + "_b" + b;
            cells.put(key + "_gflops", fmt(gflops));
            cells.put(key + "_of_fma", fmt(gflops / fma[threads]));
            cells.put(key + "_of_read", fmt(gbs / read[threads]));
            out.printf(Locale.ROOT, "  %-5s threads=%d batch=%4d  %7.1f GFLOP/s %4.0f%% of FMA"
                + "  weights %5.1f GB/s %4.0f%% of reads  (median of %d, spread %.0f%%)%n",
                dtype.name().toLowerCase(Locale.ROOT), threads, b, gflops,
                100 * gflops / fma[threads], gbs, 100 * gbs / read[threads], runs,
                100 * (rates[rates.length - 1] - rates[0]) / gflops);
          }
          if (dtype == DType.F32 && threads == 2) {
            headline = timer.paired(HEADLINE_BATCH, runs, ceilings, width);
          }
        }
      }
    }
    double ref;
    try (ExpertKernels.Ffn r = ExpertKernels.reference()) {
      ref = median(new Timer(r, experts(DType.F32, h, f, rnd), x, y, h, f).rates(HEADLINE_BATCH,
          3));
    }
    double ratio = median(headline);
    out.printf(Locale.ROOT, "  f32   reference   batch=%4d  %7.1f GFLOP/s  (plain Java, 1 thread)"
        + "%n", HEADLINE_BATCH, ref);
    out.printf(Locale.ROOT, "  headline: f32, 2 threads, batch %d over the 2-thread FMA ceiling"
        + " measured around each run: %s, median %.2f%n", HEADLINE_BATCH, list(headline),
        ratio);
    summary.put("species", Integer.toString(width.bits()));
    summary.put("preferred", Integer.toString(VectorWidth.preferred().bits()));
    summary.put("fma_t1_gflops", fmt(fma[1]));
    summary.put("fma_t2_gflops", fmt(fma[2]));
    summary.put("read_t1_gbs", fmt(read[1]));
    summary.put("read_t2_gbs", fmt(read[2]));
    summary.put("paired_min", fmt(Arrays.stream(headline).min().orElse(0)));
    summary.put("paired_max", fmt(Arrays.stream(headline).max().orElse(0)));
    summary.putAll(cells);
    summary.put("reference_f32_b" + HEADLINE_BATCH + "_gflops", fmt(ref));
    StringBuilder line = new StringBuilder("bench kernels: ratio=" + fmt(ratio));
    summary.forEach((k, v) -> line.append(' ').append(k).append('=').append(v));
    out.println(line);
  }

  private static void ceilingsOnly(VectorWidth width, PrintStream out) {
    Ceilings c = new Ceilings();
    out.printf(Locale.ROOT, "bench kernels ceilings: fma_t1_gflops=%.1f fma_t2_gflops=%.1f"
        + " read_t1_gbs=%.1f read_t2_gbs=%.1f species=%d%n", c.fmaGflops(width, 1, 3),
        c.fmaGflops(width, 2, 3), c.readGBs(1, 3), c.readGBs(2, 3), width.bits());
  }

  private static String fmt(double v) {
    return String.format(Locale.ROOT, "%.2f", v);
  }

  private static String list(double[] xs) {
    StringBuilder b = new StringBuilder("[");
    for (int i = 0; i < xs.length; i++) {
      b.append(i == 0 ? "" : ", ").append(fmt(xs[i]));
    }
    return b.append(']').toString();
  }

  private static double median(double[] xs) {
    double[] a = xs.clone();
    Arrays.sort(a);
    return a.length % 2 == 1 ? a[a.length / 2] : (a[a.length / 2 - 1] + a[a.length / 2]) / 2;
  }

  /** Times one FFN implementation over the cycled experts. */
  private static final class Timer {
    private final ExpertKernels.Ffn ffn;
    private final List<ExpertWeights> experts;
    private final float[] x;
    private final float[] y;
    private final int h;
    private final int f;
    private int next;

    Timer(ExpertKernels.Ffn ffn, List<ExpertWeights> experts, float[] x, float[] y, int h,
        int f) {
      this.ffn = ffn;
      this.experts = experts;
      this.x = x;
      this.y = y;
      this.h = h;
      this.f = f;
      // Steady state: in serving, prefill's large batches have packed every expert's weights by
      // the time decode runs small batches, so pack them all first (a 16-row call each).
      for (ExpertWeights w : experts) {
        ffn.run(w, x, WARM_ROWS, y);
      }
    }

    private int calls(int batch) {
      // ~0.1 s of work at 50 GFLOP/s, at least one sweep over the experts
      return (int) Math.max(EXPERTS, Math.min(4096, 5e9 / (2.0 * 3 * batch * h * f)));
    }

    /** GFLOP/s of one timed run of {@code calls} calls. */
    private double once(int batch, int calls) {
      long t0 = System.nanoTime();
      for (int c = 0; c < calls; c++) {
        ffn.run(experts.get(next++ % experts.size()), x, batch, y);
      }
      return 2.0 * 3 * batch * h * f * calls / ((System.nanoTime() - t0) * 1e-9) / 1e9;
    }

    /** Sorted GFLOP/s of {@code runs} timed runs after a warm-up. */
    double[] rates(int batch, int runs) {
      int calls = calls(batch);
      for (int i = 0; i < Math.max(3, calls / 4); i++) {
        ffn.run(experts.get(i % experts.size()), x, batch, y);
      }
      double[] r = new double[runs];
      for (int i = 0; i < runs; i++) {
        r[i] = once(batch, calls);
      }
      Arrays.sort(r);
      return r;
    }

    /**
     * Per run: its GFLOP/s over the mean of the 2-thread FMA ceilings measured just before and
     * just after it.
     */
    double[] paired(int batch, int runs, Ceilings ceilings, VectorWidth width) {
      int calls = calls(batch);
      double[] r = new double[runs];
      double before = ceilings.fmaGflops(width, 2, 1);
      for (int i = 0; i < runs; i++) {
        double rate = once(batch, calls);
        double after = ceilings.fmaGflops(width, 2, 1);
        r[i] = rate / ((before + after) / 2);
        before = after;
      }
      return r;
    }
  }

  private static List<ExpertWeights> experts(DType dtype, int h, int f, SplittableRandom rnd) {
    List<ExpertWeights> out = new ArrayList<>();
    for (int e = 0; e < EXPERTS; e++) {
      out.add(new ExpertWeights(matrix(dtype, f, h, rnd), matrix(dtype, f, h, rnd),
          matrix(dtype, h, f, rnd)));
    }
    return out;
  }

  private static WeightTensor matrix(DType dtype, int rows, int cols, SplittableRandom rnd) {
    ByteBuffer b = ByteBuffer.allocateDirect((int) dtype.bytesFor((long) rows * cols))
        .order(ByteOrder.LITTLE_ENDIAN);
    float scale = (float) Math.sqrt(3.0 / cols);
    for (long i = 0; i < (long) rows * cols; i++) {
      float v = (float) (rnd.nextDouble() * 2 - 1) * scale;
      if (dtype == DType.F32) {
        b.putFloat(v);
      } else {
        b.putShort(Half.floatToBf16(v));
      }
    }
    b.flip();
    return new WeightTensor("bench", dtype, rows, cols, b);
  }
}

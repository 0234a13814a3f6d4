package io.batchgen.engine.tools;

import io.batchgen.engine.backend.ExpertKernels;
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
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;

/**
 * {@code batchgen bench kernels}: GFLOP/s of a full expert FFN (gate, up, SwiGLU, down) of the
 * {@code bench} shape at token batches 1, 8, 64 and 256, f32 and bf16 weights, 1 and 2 threads,
 * median and spread of several runs. The experts cycle through 16 weight sets (as many as a
 * layer of the bench model) so small batches read weights from memory, as in real decoding.
 *
 * <p>The headline ratio is measured side by side in the same run: the cpu kernel on 2 threads
 * over the plain-Java reference kernel, f32, batch 64. Absolute numbers are noisy on a shared
 * machine; the ratio much less so. The run also measures this machine's register-only FMA
 * ceiling ({@link FmaPeak}) on 1 and 2 threads and reports every figure as a fraction of it, so
 * results from machines with different FMA widths can be compared.
 */
public final class KernelBench {
  static final String USAGE = """
      Usage: batchgen bench kernels [--preset bench|bench-fine] [--runs N] [--batches 1,8,64,256]

      Times the expert FFN kernel of the cpu backend (Java Vector API) and prints GFLOP/s for
      every dtype x threads x batch, then one summary line:
        bench kernels: ratio=<cpu 2 threads / reference, f32, batch 64> key=value ...
      Defaults: --preset bench --runs 7 --batches 1,8,64,256.
      """;

  private static final int EXPERTS = 16;
  /** Rows of the call that packs each expert before timing. */
  private static final int WARM_ROWS = 16;

  private KernelBench() {
  }

  public static void main(String[] args) {
    System.exit(run(args, System.out, System.err));
  }

  /** Runs the benchmark; returns the process exit code. */
  public static int run(String[] args, PrintStream out, PrintStream err) {
    try {
      CommandArgs a = CommandArgs.parse(args, Set.of("preset", "runs", "batches"),
          Set.of("bench", "kernels"));
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
      int[] batches = LogitsCommand.parseTokens(a.get("batches", "1,8,64,256"));
      for (int b : batches) {
        if (b < 1 || b > 4096) {
          throw new CommandArgs.UsageException("Batch sizes must be in [1, 4096], got " + b);
        }
      }
      bench(p, (int) runs, batches, out);
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

  private static void bench(TinyModels.Preset p, int runs, int[] batches, PrintStream out) {
    int h = p.hidden();
    int f = p.expertFfn();
    out.printf("bench kernels: expert FFN hidden=%d ffn=%d, %d weight sets, %d runs each,"
        + " %d cores; shared machines make absolute numbers noisy%n", h, f, EXPERTS, runs,
        Runtime.getRuntime().availableProcessors());
    Map<String, String> summary = new LinkedHashMap<>();
    Map<String, Double> gflops = new LinkedHashMap<>();
    double[] peak = {0, FmaPeak.gflops(1, 7), FmaPeak.gflops(2, 7)};
    out.printf("  fp32 FMA ceiling (registers only): 1 thread %.1f GFLOP/s, 2 threads %.1f"
        + " GFLOP/s%n", peak[1], peak[2]);
    int maxBatch = Math.max(WARM_ROWS, Arrays.stream(batches).max().orElse(1));
    float[] x = new float[maxBatch * h];
    SplittableRandom rnd = new SplittableRandom(1);
    for (int i = 0; i < x.length; i++) {
      x[i] = (float) rnd.nextGaussian();
    }
    float[] y = new float[maxBatch * h];
    for (DType dtype : List.of(DType.F32, DType.BF16)) {
      List<ExpertWeights> experts = experts(dtype, h, f, rnd);
      for (int threads : new int[] {1, 2}) {
        try (ExpertKernels.Ffn ffn = ExpertKernels.cpu(threads, io.batchgen.engine.backend.VectorWidth.preferred())) {
          for (int b : batches) {
            double[] stats = time(ffn, experts, x, y, b, runs, h, f);
            String key = dtype.name().toLowerCase() + "_t" + threads + "_b" + b;
            gflops.put(key, stats[0]);
            out.printf("  %-5s threads=%d batch=%4d  %7.1f GFLOP/s  %3.0f%% of ceiling  (median of"
                + " %d, spread %.0f%%)%n", dtype.name().toLowerCase(), threads, b, stats[0],
                100 * stats[0] / peak[threads], runs, stats[1] * 100);
          }
        }
      }
    }
    int refBatch = Arrays.stream(batches).anyMatch(b -> b == 64) ? 64 : batches[0];
    double ref;
    try (ExpertKernels.Ffn r = ExpertKernels.reference()) {
      ref = time(r, experts(DType.F32, h, f, rnd), x, y, refBatch, 5, h, f)[0];
    }
    out.printf("  f32   reference   batch=%4d  %7.1f GFLOP/s  (plain Java, 1 thread)%n", refBatch,
        ref);
    String best = "f32_t2_b" + refBatch;
    double ratio = gflops.getOrDefault(best, 0.0) / ref;
    summary.put("baseline", "reference_f32_b" + refBatch);
    summary.put("reference_gflops", fmt(ref));
    summary.put("ceiling_t1_gflops", fmt(peak[1]));
    summary.put("ceiling_t2_gflops", fmt(peak[2]));
    summary.put(best + "_of_ceiling", fmt(gflops.getOrDefault(best, 0.0) / peak[2]));
    gflops.forEach((k, v) -> summary.put(k + "_gflops", fmt(v)));
    Double t1 = gflops.get("f32_t1_b" + refBatch);
    if (t1 != null) {
      summary.put("scaling_f32_b" + refBatch, fmt(gflops.get(best) / t1));
    }
    StringBuilder line = new StringBuilder("bench kernels: ratio=" + fmt(ratio));
    summary.forEach((k, v) -> line.append(' ').append(k).append('=').append(v));
    out.println(line);
  }

  private static String fmt(double v) {
    return String.format("%.2f", v);
  }

  /** {@code {median GFLOP/s, (max - min) / median}} over {@code runs} timed runs. */
  private static double[] time(ExpertKernels.Ffn ffn, List<ExpertWeights> experts, float[] x,
      float[] y, int batch, int runs, int h, int f) {
    double flopsPerCall = 2.0 * 3 * batch * (double) h * f;
    // enough calls per run for ~30 ms of work at 50 GFLOP/s, at least one sweep for big batches
    int calls = (int) Math.max(1, Math.min(4096, 1.5e9 / flopsPerCall));
    // Steady state: in serving, prefill's large batches have packed every expert's weights by
    // the time decode runs small batches, so pack them all first (a 16-row call each).
    for (ExpertWeights w : experts) {
      ffn.run(w, x, WARM_ROWS, y);
    }
    for (int i = 0; i < Math.max(3, 20 / calls); i++) {
      ffn.run(experts.get(i % experts.size()), x, batch, y);
    }
    double[] rates = new double[runs];
    int e = 0;
    for (int r = 0; r < runs; r++) {
      long t0 = System.nanoTime();
      for (int c = 0; c < calls; c++) {
        ffn.run(experts.get(e++ % experts.size()), x, batch, y);
      }
      rates[r] = flopsPerCall * calls / ((System.nanoTime() - t0) * 1e-9) / 1e9;
    }
    Arrays.sort(rates);
    double median = rates[runs / 2];
    return new double[] {median, (rates[runs - 1] - rates[0]) / median};
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

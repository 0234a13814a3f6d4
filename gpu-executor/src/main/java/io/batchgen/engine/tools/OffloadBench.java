package io.batchgen.engine.tools;

import io.batchgen.core.model.ModelShape;
import io.batchgen.core.model.ModuleExecutor;
import io.batchgen.core.model.WeightTraffic;
import io.batchgen.core.runtime.FinishReason;
import io.batchgen.core.runtime.GenerationRequest;
import io.batchgen.core.runtime.ResultQueue;
import io.batchgen.core.runtime.RuntimeConfig;
import io.batchgen.core.runtime.SchedulingMode;
import io.batchgen.core.runtime.SequenceResult;
import io.batchgen.core.runtime.SequenceRuntime;
import io.batchgen.core.sampling.SamplingParams;
import io.batchgen.engine.backend.Backends;
import io.batchgen.engine.backend.WeightFootprint;
import io.batchgen.engine.backend.WeightSettings;
import io.batchgen.engine.model.LoadedModel;
import io.batchgen.engine.model.ModelLoader;
import io.batchgen.engine.model.TinyModels;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.Set;

/**
 * {@code bench offload}: a model whose compute-ready weights exceed the weight budget, run two
 * ways on the same backend, side by side in one process:
 * <ul>
 *   <li><b>module-batched</b>: coroutine scheduling with KV in the host tier ({@code kvOffload}),
 *       every prompt in flight, weights streamed module by module with prefetch from the wait
 *       queues and the weight-aware policy: each expert brought in runs every token waiting for
 *       it;</li>
 *   <li><b>layer-wise</b> (the FlexGen / ZeRO-Inference baseline): lock-step steps of
 *       {@code --batch} sequences (what the same device KV budget holds at full length), each
 *       step streaming every layer's weights, all experts of a layer, on demand.</li>
 * </ul>
 * Both keep the weights that fit resident under the same eviction rule, so the difference is how
 * many tokens each load serves. Each (model, budget, mode) cell runs {@code --runs} times from a
 * cold store (default 3); the median tokens/s and checkpoint bytes read per generated token are
 * reported. Budgets are percentages of the model's compute-ready bytes (never below what one
 * module needs). The last line is {@code bench offload: ratio=X speedup_25=Y ...}: X is layer-wise
 * over module-batched bytes per generated token at 25% on the first model, Y module-batched over
 * layer-wise tokens/s there.
 *
 * <p>The backing tier here is the checkpoint in the OS page cache (the benchmark writes it just
 * before), so a load costs a memory copy and the packing, not a disk or PCIe transfer; the bytes
 * per token are the same either way.
 */
public final class OffloadBench {
  static final String USAGE = String.join("\n",
      "Usage: bin/batchgen bench offload [OPTIONS]",
      "Weights larger than the budget: module-batched streaming (coroutines, KV offload,",
      "prefetch from the wait queues) vs the layer-wise lock-step baseline (FlexGen style):",
      "tokens/s and checkpoint bytes read per generated token at each budget.",
      "  --models bench,bench-fine  generated model presets to run (default both)",
      "  --budgets 10,25,50         weight budgets, % of the compute-ready bytes (default)",
      "  --prompts N                requests (default 48)",
      "  --promptLength N           prompt tokens per request (default 8)",
      "  --newTokens N              generated tokens per request (default 8)",
      "  --batch N                  layer-wise batch: sequences per lock-step step (default 8)",
      "  --runs N                   runs per cell; the median is reported (default 3)",
      "  --threads N                backend threads (default: available processors)",
      "  --dtype NAME               bf16 | f32 | f16 weights (default bf16)",
      "  --seed N                   workload seed (default 42)",
      "The last line is 'bench offload: ratio=X speedup_25=Y ...' (X: layer-wise / module-batched",
      "bytes per generated token at 25% on the first model; Y: module-batched / layer-wise tok/s).");

  private final PrintStream out;
  private final Map<String, String> opts;

  OffloadBench(PrintStream out, Map<String, String> opts) {
    this.out = out;
    this.opts = opts;
  }

  public static void main(String[] args) throws Exception {
    if (Arrays.asList(args).contains("--help") || Arrays.asList(args).contains("-h")) {
      System.out.println(USAGE);
      return;
    }
    new OffloadBench(System.out, parse(args)).run();
  }

  static Map<String, String> parse(String[] args) {
    Map<String, String> d = new LinkedHashMap<>();
    d.put("models", "bench,bench-fine");
    d.put("budgets", "10,25,50");
    d.put("prompts", "48");
    d.put("promptLength", "8");
    d.put("newTokens", "8");
    d.put("batch", "8");
    d.put("runs", "3");
    d.put("threads", Integer.toString(Runtime.getRuntime().availableProcessors()));
    d.put("dtype", "bf16");
    d.put("seed", "42");
    return BenchArgs.parse(args, d, Set.of());
  }

  private int intOpt(String k) {
    try {
      int v = Integer.parseInt(opts.get(k));
      if (v <= 0) {
        throw new NumberFormatException();
      }
      return v;
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("Option --" + k + " needs a positive integer, got ["
          + opts.get(k) + "]");
    }
  }

  /** The two ways of running a model larger than its weight budget. */
  enum Mode {
    MODULE_BATCHED("module-batched"), LAYER_WISE("layer-wise");

    final String label;

    Mode(String label) {
      this.label = label;
    }
  }

  /** One run: generated tokens/s and checkpoint bytes read per generated token. */
  record Figures(double tokensPerSecond, double bytesPerToken, double meanExpertBatch,
      double readSeconds, long prefetched) {
  }

  void run() throws Exception {
    List<Integer> budgets = budgets();
    int[] sizes = {intOpt("prompts"), intOpt("promptLength"), intOpt("newTokens"),
        intOpt("batch"), intOpt("runs"), intOpt("threads")};
    Path dir = Files.createTempDirectory("batchgen-offload-");
    Map<String, String> summary = new LinkedHashMap<>();
    String headline = null;
    String speedup = null;
    try {
      for (String preset : opts.get("models").split(",")) {
        String arch = preset.equals("bench-fine") ? "qwen3_moe" : "mixtral";
        Path path = TinyModels.write(preset, arch, opts.get("dtype"), 7, dir.resolve(preset));
        try (LoadedModel model = ModelLoader.load(path)) {
          WeightFootprint f = WeightFootprint.of(model);
          List<GenerationRequest> work = workload(model.shape(), sizes[0], sizes[1], sizes[2],
              Long.parseLong(opts.get("seed")));
          out.printf(Locale.ROOT, "model=%s (%s, %s) compute-ready=%.1f MiB least budget=%.1f MiB"
              + " (%s) prompts=%d x (%d + %d new) layer-wise batch=%d threads=%d%n", preset,
              arch, opts.get("dtype"), f.modelBytes() / 1048576.0, f.minimumBytes() / 1048576.0,
              f.largestModule(), sizes[0], sizes[1], sizes[2], sizes[3], sizes[5]);
          String p = preset.replace("-", "_");
          for (int pct : budgets) {
            long bytes = Math.max(f.minimumBytes(), f.modelBytes() * pct / 100);
            Map<Mode, List<Figures>> runs = new LinkedHashMap<>();
            for (int r = 0; r < sizes[4]; r++) {
              // alternate the modes so load drift on a shared machine hits both
              for (Mode m : Mode.values()) {
                Figures fig = measure(model, work, m, bytes, sizes[3]);
                runs.computeIfAbsent(m, k -> new ArrayList<>()).add(fig);
                out.printf(Locale.ROOT, "    run %d/%d budget=%d%% %s: %.1f tok/s, %.2f MB read"
                    + " per token (read+pack %.1f s, prefetched %d, mean expert batch %.1f)%n",
                    r + 1, sizes[4], pct, m.label, fig.tokensPerSecond(),
                    fig.bytesPerToken() / 1e6, fig.readSeconds(), fig.prefetched(),
                    fig.meanExpertBatch());
                out.flush();
              }
            }
            double mbTok = median(runs.get(Mode.MODULE_BATCHED), Figures::tokensPerSecond);
            double lwTok = median(runs.get(Mode.LAYER_WISE), Figures::tokensPerSecond);
            double mbBytes = median(runs.get(Mode.MODULE_BATCHED), Figures::bytesPerToken);
            double lwBytes = median(runs.get(Mode.LAYER_WISE), Figures::bytesPerToken);
            out.printf(Locale.ROOT, "  budget=%2d%% (%.1f MiB): module-batched %.1f tok/s %.2f MB/token;"
                + " layer-wise %.1f tok/s %.2f MB/token => bytes ratio %.2f, speedup %.2f%n", pct,
                bytes / 1048576.0, mbTok, mbBytes / 1e6, lwTok, lwBytes / 1e6, lwBytes / mbBytes,
                mbTok / lwTok);
            String k = p + "_" + pct;
            summary.put("ratio_" + k, String.format(Locale.ROOT, "%.2f", lwBytes / mbBytes));
            summary.put("speedup_" + k, String.format(Locale.ROOT, "%.2f", mbTok / lwTok));
            summary.put("module_tokps_" + k, String.format(Locale.ROOT, "%.1f", mbTok));
            summary.put("layer_tokps_" + k, String.format(Locale.ROOT, "%.1f", lwTok));
            summary.put("module_mb_per_token_" + k, String.format(Locale.ROOT, "%.3f",
                mbBytes / 1e6));
            summary.put("layer_mb_per_token_" + k, String.format(Locale.ROOT, "%.3f",
                lwBytes / 1e6));
            if (headline == null && pct == 25) {
              headline = String.format(Locale.ROOT, "%.2f", lwBytes / mbBytes);
              speedup = String.format(Locale.ROOT, "%.2f", mbTok / lwTok);
            }
          }
        }
        RuntimeBench.deleteTree(dir.resolve(preset));
      }
    } finally {
      RuntimeBench.deleteTree(dir);
    }
    StringBuilder line = new StringBuilder("bench offload: ratio=")
        .append(headline == null ? "NaN" : headline).append(" speedup_25=")
        .append(speedup == null ? "NaN" : speedup);
    summary.forEach((k, v) -> line.append(' ').append(k).append('=').append(v));
    line.append(" prompts=").append(sizes[0]).append(" prompt_length=").append(sizes[1])
        .append(" new_tokens=").append(sizes[2]).append(" batch=").append(sizes[3])
        .append(" runs=").append(sizes[4]).append(" threads=").append(sizes[5])
        .append(" dtype=").append(opts.get("dtype"));
    out.println(line);
  }

  /**
   * One run of {@code mode} from a cold weight store of {@code budget} bytes. Both modes get the
   * same device KV budget: {@code batch} sequences at full length.
   */
  private Figures measure(LoadedModel model, List<GenerationRequest> work, Mode mode, long budget,
      int batch) throws InterruptedException {
    boolean layerWise = mode == Mode.LAYER_WISE;
    WeightSettings weights = WeightSettings.ofBytes(budget).withStreaming(layerWise
        ? WeightSettings.Streaming.LAYER : WeightSettings.Streaming.MODULE);
    try (ModuleExecutor ex = Backends.create("cpu", model, intOpt("threads"), weights)) {
      int longest = work.stream().mapToInt(r -> r.promptTokens().length
          + r.sampling().maxNewTokens()).max().orElse(1) + 16;
      long kvPerToken = ex.kvBytesPerBlock(16) / 16 * ex.shape().numLayers();
      long kv = (long) batch * longest * kvPerToken;
      RuntimeConfig base = RuntimeConfig.defaults().withKv(16, kv, 8L << 30)
          .withBatchLimits(64, 1024, 1 << 20, 1024, 512);
      RuntimeConfig cfg = layerWise
          ? base.withMode(SchedulingMode.LOCK_STEP).withMaxRunningSequences(batch)
          : base.withMode(SchedulingMode.COROUTINE).withKvOffload(true)
              .withMaxRunningSequences(work.size());
      WeightTraffic before = ex.weightTraffic();
      try (SequenceRuntime rt = new SequenceRuntime(ex, cfg)) {
        ResultQueue q = rt.newResultQueue(work.size());
        long t0 = System.nanoTime();
        for (GenerationRequest g : work) {
          q.submit(g);
        }
        long tokens = 0;
        for (int i = 0; i < work.size(); i++) {
          SequenceResult res = q.poll(Duration.ofMinutes(30));
          if (res == null || res.reason() == FinishReason.ERROR) {
            throw new IllegalStateException("Benchmark sequence failed: " + res);
          }
          tokens += res.tokens().length;
        }
        double secs = (System.nanoTime() - t0) / 1e9;
        WeightTraffic t = ex.weightTraffic().minus(before);
        return new Figures(tokens / secs, (double) t.bytesRead() / tokens,
            rt.metrics().meanExpertBatchRows(), (t.readNanos() + t.packNanos()) / 1e9,
            t.prefetched());
      }
    }
  }

  /** Requests of random token ids, {@code length} prompt tokens each, EOS ignored. */
  static List<GenerationRequest> workload(ModelShape shape, int n, int length, int newTokens,
      long seed) {
    Random r = new Random(seed);
    List<GenerationRequest> out = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      int[] prompt = new int[length];
      for (int j = 0; j < length; j++) {
        prompt[j] = r.nextInt(shape.vocabSize() - 1);
      }
      out.add(new GenerationRequest("o" + i, prompt,
          SamplingParams.greedy(newTokens).withIgnoreEos(true)));
    }
    return out;
  }

  private List<Integer> budgets() {
    List<Integer> out = new ArrayList<>();
    for (String b : opts.get("budgets").split(",")) {
      int v;
      try {
        v = Integer.parseInt(b.trim());
      } catch (NumberFormatException e) {
        v = -1;
      }
      if (v <= 0 || v > 100) {
        throw new IllegalArgumentException("Option --budgets: [" + b + "] is not a percentage"
            + " in 1..100; e.g. --budgets 10,25,50");
      }
      out.add(v);
    }
    return out;
  }

  private static double median(List<Figures> runs, java.util.function.ToDoubleFunction<Figures> f) {
    return RuntimeBench.median(runs.stream().map(x -> f.applyAsDouble(x)).toList());
  }
}

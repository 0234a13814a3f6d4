package io.batchgen.engine.tools;

import io.batchgen.core.model.ModelShape;
import io.batchgen.core.model.ModuleExecutor;
import io.batchgen.core.model.ModuleKind;
import io.batchgen.core.runtime.GenerationRequest;
import io.batchgen.core.runtime.SequenceResult;
import io.batchgen.core.runtime.ResultQueue;
import io.batchgen.core.runtime.RuntimeConfig;
import io.batchgen.core.runtime.RuntimeMetrics;
import io.batchgen.core.runtime.SchedulingMode;
import io.batchgen.core.runtime.SequenceRuntime;
import io.batchgen.core.sampling.SamplingParams;
import io.batchgen.engine.backend.Backends;
import io.batchgen.engine.backend.VectorWidth;
import io.batchgen.engine.model.LoadedModel;
import io.batchgen.engine.model.ModelLoader;
import io.batchgen.engine.model.TinyModels;
import java.io.IOException;
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

/**
 * {@code bench runtime}: coroutine scheduling against the lock-step baseline on the same backend,
 * side by side in one process.
 *
 * <p>Workload: {@code --prompts} requests (default 512) with random token ids, prompt lengths
 * spread over {@code [16, 192]} and heavy-tailed output lengths (Pareto, alpha 1.5, from
 * {@code --minOutput} 32 up to {@code --maxOutput} 256: median 51, mean 70), fixed per row from
 * {@code --seed} with EOS ignored, so every run does the same work. About 40% of the tokens are
 * generated: decode is where lock-step's KV-bound running set shrinks expert batches (with
 * {@code --minOutput 8} prompts are 84% of the tokens and both modes are compute bound alike).
 * Each model runs under (a) an ample KV budget and (b) a budget that holds only 1/8 of the
 * sequences at full length (there the coroutine runtime runs with {@code kvOffload}: KV in the
 * host tier, the device budget bounding attention batches); each (budget, mode) pair runs
 * {@code --runs} times (default 3) and reports the median generated tokens/s and the mean
 * expert-batch size. The last line is {@code bench runtime: ratio=X key=value ...} with the
 * headline ratio (coroutine over lock-step tokens/s, tight budget, first model) first.
 *
 * <p>{@code --bar} instead measures the absolute decode bar: 64 sequences, 128-token prompts,
 * 128 new tokens, decode tokens/s = {@code 64 * 127 / (T(128 new) - T(1 new))}.
 *
 * <p>Models are generated from a seed into a temporary directory (no downloads). Timings are
 * wall clock on a shared machine, so they are noisy; the ratio of runs side by side is the figure.
 */
public final class RuntimeBench {
  static final String USAGE = String.join("\n",
      "Usage: bin/batchgen bench runtime [OPTIONS]",
      "Coroutine scheduler vs lock-step baseline on the same backend: tokens/s and mean",
      "expert-batch size under an ample KV budget and one holding 1/8 of the sequences.",
      "  --models bench,bench-fine  generated model presets to run (default both)",
      "  --prompts N                requests (default 512)",
      "  --runs N                   runs per cell; the median is reported (default 3)",
      "  --threads N                backend threads (default: available processors)",
      "  --backend NAME             cpu | reference | auto (default cpu)",
      "  --dtype NAME               bf16 | f32 | f16 weights (default bf16)",
      "  --minOutput N              scale (and least value) of the heavy-tailed output",
      "                             lengths (default 32)",
      "  --maxOutput N              cap of the heavy-tailed output lengths (default 256)",
      "  --seed N                   workload seed (default 42)",
      "  --budgets ample,tight      KV budgets to run (default both; ratios need both modes)",
      "  --modes lock-step,coroutine  scheduling modes to run (default both; e.g. one mode",
      "                             alone under a profiler)",
      "  --species W                cpu kernels' vector width: preferred | 128 | 256 | 512",
      "                             (default preferred)",
      "  --bar                      instead: decode and prompt tok/s of 64 x (128 prompt +",
      "                             128 new), the runs alternating between the modes",
      "The last line is 'bench runtime: ratio=X key=value ...' (X: coroutine / lock-step",
      "tokens/s under the tight budget on the first model).");

  private final PrintStream out;
  private final Map<String, String> opts;

  RuntimeBench(PrintStream out, Map<String, String> opts) {
    this.out = out;
    this.opts = opts;
  }

  public static void main(String[] args) throws Exception {
    if (Arrays.asList(args).contains("--help") || Arrays.asList(args).contains("-h")) {
      System.out.println(USAGE);
      return;
    }
    Map<String, String> opts = parse(args);
    new RuntimeBench(System.out, opts).run();
  }

  /** Figures of one (model, budget, mode) cell: medians over runs. */
  record Cell(double tokensPerSecond, double meanExpertBatch, double meanAttentionBatch,
      long preemptions, List<Double> runs) {
  }

  static Map<String, String> parse(String[] args) {
    Map<String, String> opts = new LinkedHashMap<>();
    opts.put("models", "bench,bench-fine");
    opts.put("prompts", "512");
    opts.put("runs", "3");
    opts.put("threads", Integer.toString(Runtime.getRuntime().availableProcessors()));
    opts.put("backend", "cpu");
    opts.put("dtype", "bf16");
    opts.put("seed", "42");
    opts.put("minOutput", "32");
    opts.put("maxOutput", "256");
    opts.put("bar", "false");
    opts.put("budgets", "ample,tight");
    opts.put("modes", "lock-step,coroutine");
    opts.put("species", "preferred");
    return BenchArgs.parse(args, opts, java.util.Set.of("bar"));
  }

  private int intOpt(String k) {
    return Integer.parseInt(opts.get(k));
  }

  void run() throws Exception {
    try {
      VectorWidth.parse(opts.get("species"));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("Option --species: " + e.getMessage(), e);
    }
    modes();
    Path dir = Files.createTempDirectory("batchgen-bench-");
    try {
      if (Boolean.parseBoolean(opts.get("bar"))) {
        runBar(dir);
      } else {
        runCompare(dir);
      }
    } finally {
      deleteTree(dir);
    }
  }

  private void runCompare(Path dir) throws Exception {
    String[] models = opts.get("models").split(",");
    // Bad option values fail before minutes of model generation.
    List<String> budgets = budgets();
    List<SchedulingMode> modes = modes();
    Map<String, String> summary = new LinkedHashMap<>();
    String headline = null;
    for (String preset : models) {
      String arch = preset.equals("bench-fine") ? "qwen3_moe" : "mixtral";
      Path path = TinyModels.write(preset, arch, opts.get("dtype"), 7, dir.resolve(preset));
      try (LoadedModel model = ModelLoader.load(path);
          ModuleExecutor ex = Backends.create(opts.get("backend"), model,
              intOpt("threads"), VectorWidth.parse(opts.get("species")))) {
        ModelShape shape = ex.shape();
        List<GenerationRequest> work = workload(shape, intOpt("prompts"),
            Long.parseLong(opts.get("seed")), intOpt("minOutput"), intOpt("maxOutput"));
        long fullTokens = work.stream().mapToLong(r -> r.promptTokens().length
            + r.sampling().maxNewTokens()).sum();
        long bytesPerToken = ex.kvBytesPerBlock(16) / 16 * shape.numLayers();
        out.printf(Locale.ROOT, "model=%s (%s) backend=%s prompts=%d prompt+output tokens=%d"
            + " kv/token=%d B%n", preset, arch, ex.describe(), work.size(), fullTokens,
            bytesPerToken);
        long ample = (long) (fullTokens * bytesPerToken * 1.25) + (64L << 20);
        // 1/8 of the sequences at full length, but never less than the longest one needs (and
        // one spare block per layer), so small --prompts runs do not fail admission.
        long longest = work.stream().mapToLong(r -> r.promptTokens().length
            + r.sampling().maxNewTokens()).max().orElse(0) + 16;
        long tight = Math.max(fullTokens / 8, longest) * bytesPerToken;
        Map<String, Cell> cells = new LinkedHashMap<>();
        for (String budget : budgets) {
          long bytes = budget.equals("ample") ? ample : tight;
          // Module-based batching: under the tight budget the coroutine runtime keeps KV in the
          // host tier and pages one layer of one attention batch into the device budget.
          RuntimeConfig lockStep = config(SchedulingMode.LOCK_STEP, bytes, work.size());
          RuntimeConfig coroutine = config(SchedulingMode.COROUTINE, bytes, work.size())
              .withKvOffload(budget.equals("tight"));
          // Runs alternate between the modes so that load drift on a shared machine hits both.
          List<RunFigures> ls = new ArrayList<>();
          List<RunFigures> co = new ArrayList<>();
          for (int r = 0; r < intOpt("runs"); r++) {
            if (modes.contains(SchedulingMode.LOCK_STEP)) {
              ls.add(progress(budget, SchedulingMode.LOCK_STEP, r,
                  measureOnce(ex, work, lockStep)));
            }
            if (modes.contains(SchedulingMode.COROUTINE)) {
              co.add(progress(budget, SchedulingMode.COROUTINE, r,
                  measureOnce(ex, work, coroutine)));
            }
          }
          if (!ls.isEmpty()) {
            cells.put(budget + "/" + SchedulingMode.LOCK_STEP, cell(ls));
          }
          if (!co.isEmpty()) {
            cells.put(budget + "/" + SchedulingMode.COROUTINE, cell(co));
          }
          for (SchedulingMode mode : modes) {
            Cell c = cells.get(budget + "/" + mode);
            out.printf(Locale.ROOT, "  budget=%-5s (%5.1f MiB) mode=%-9s tok/s=%8.1f"
                + " meanExpertBatch=%6.1f meanAttnBatch=%6.1f preemptions=%d runs=%s%n", budget,
                bytes / 1048576.0, mode, c.tokensPerSecond(), c.meanExpertBatch(),
                c.meanAttentionBatch(), c.preemptions(), fmt(c.runs()));
          }
        }
        String p = preset.replace("-", "_");
        double tightRatio = ratio(cells, "tight");
        double ampleRatio = ratio(cells, "ample");
        out.printf(Locale.ROOT, "  => %s: coroutine/lock-step tok/s ratio: ample=%.2f tight=%.2f"
            + "%n", preset, ampleRatio, tightRatio);
        if (headline == null) {
          headline = String.format(Locale.ROOT, "%.3f", tightRatio);
        }
        summary.put(p + "_ratio_tight", String.format(Locale.ROOT, "%.3f", tightRatio));
        summary.put(p + "_ratio_ample", String.format(Locale.ROOT, "%.3f", ampleRatio));
        for (Map.Entry<String, Cell> e : cells.entrySet()) {
          String k = p + "_" + e.getKey().replace("/", "_").toLowerCase(Locale.ROOT);
          summary.put(k + "_tokps", String.format(Locale.ROOT, "%.1f",
              e.getValue().tokensPerSecond()));
          summary.put(k + "_expert_batch", String.format(Locale.ROOT, "%.1f",
              e.getValue().meanExpertBatch()));
        }
      }
    }
    StringBuilder line = new StringBuilder("bench runtime: ratio=").append(headline);
    summary.forEach((k, v) -> line.append(' ').append(k).append('=').append(v));
    line.append(" prompts=").append(opts.get("prompts")).append(" runs=").append(opts.get("runs"))
        .append(" threads=").append(opts.get("threads"));
    out.println(line);
  }

  private static double seconds(RuntimeMetrics m, ModuleKind kind) {
    return m.moduleNanos().getOrDefault(kind, 0L) / 1e9;
  }

  /**
   * One line per run, so a long benchmark shows where it is and where its time went: seconds in
   * expert, attention and LM-head modules, and prompt positions processed (recomputed ones
   * included).
   */
  private RunFigures progress(String budget, SchedulingMode mode, int run, RunFigures f) {
    out.printf(Locale.ROOT, "    run %d/%s budget=%s mode=%s: %.1f tok/s in %.0f s (experts %.0f s,"
        + " attention %.0f s, lm-head %.0f s; prefill positions %d)%n", run + 1,
        opts.get("runs"), budget, mode, f.tokensPerSecond(), f.seconds(), f.expertSeconds(),
        f.attentionSeconds(), f.lmHeadSeconds(), f.prefillTokens());
    out.flush();
    return f;
  }

  /** Coroutine over lock-step tokens/s under {@code budget}; NaN when a cell was not run. */
  private static double ratio(Map<String, Cell> cells, String budget) {
    Cell co = cells.get(budget + "/" + SchedulingMode.COROUTINE);
    Cell ls = cells.get(budget + "/" + SchedulingMode.LOCK_STEP);
    return co == null || ls == null ? Double.NaN : co.tokensPerSecond() / ls.tokensPerSecond();
  }

  private List<String> budgets() {
    List<String> out = new ArrayList<>();
    for (String b : opts.get("budgets").split(",")) {
      if (!b.equals("ample") && !b.equals("tight")) {
        throw new IllegalArgumentException("Option --budgets: unknown budget [" + b
            + "]; use ample, tight or both comma-separated");
      }
      out.add(b);
    }
    return out;
  }

  private List<SchedulingMode> modes() {
    List<SchedulingMode> out = new ArrayList<>();
    for (String m : opts.get("modes").split(",")) {
      switch (m) {
        case "lock-step" -> out.add(SchedulingMode.LOCK_STEP);
        case "coroutine" -> out.add(SchedulingMode.COROUTINE);
        default -> throw new IllegalArgumentException("Option --modes: unknown mode [" + m
            + "]; use lock-step, coroutine or both comma-separated");
      }
    }
    return out;
  }

  /** Same limits for both modes; only the mode differs. */
  static RuntimeConfig config(SchedulingMode mode, long kvBytes, int maxRunning) {
    return RuntimeConfig.defaults().withMode(mode).withKv(16, kvBytes, 8L << 30)
        .withBatchLimits(64, 1024, 1 << 20, 1024, 512).withMaxRunningSequences(maxRunning);
  }

  /** One run's figures. */
  record RunFigures(double tokensPerSecond, double meanExpertBatch, double meanAttentionBatch,
      long preemptions, double seconds, double expertSeconds, double attentionSeconds,
      double lmHeadSeconds, long prefillTokens) {
  }

  static Cell cell(List<RunFigures> runs) {
    return new Cell(median(runs.stream().map(RunFigures::tokensPerSecond).toList()),
        median(runs.stream().map(RunFigures::meanExpertBatch).toList()),
        median(runs.stream().map(RunFigures::meanAttentionBatch).toList()),
        runs.stream().mapToLong(RunFigures::preemptions).max().orElse(0),
        runs.stream().map(RunFigures::tokensPerSecond).toList());
  }

  /** Runs the workload once in a fresh runtime on {@code ex}. */
  static RunFigures measureOnce(ModuleExecutor ex, List<GenerationRequest> work,
      RuntimeConfig cfg) throws InterruptedException {
    try (SequenceRuntime rt = new SequenceRuntime(ex, cfg)) {
      ResultQueue q = rt.newResultQueue(work.size());
      long t0 = System.nanoTime();
      for (GenerationRequest g : work) {
        q.submit(g);
      }
      long tokens = 0;
      for (int i = 0; i < work.size(); i++) {
        SequenceResult res = q.poll(Duration.ofMinutes(30));
        if (res == null || res.reason() == io.batchgen.core.runtime.FinishReason.ERROR) {
          throw new IllegalStateException("Benchmark sequence failed: " + res);
        }
        tokens += res.tokens().length;
      }
      double secs = (System.nanoTime() - t0) / 1e9;
      RuntimeMetrics m = rt.metrics();
      return new RunFigures(tokens / secs, m.meanExpertBatchRows(),
          m.meanBatchRows(ModuleKind.ATTENTION), m.preemptions(), secs,
          seconds(m, ModuleKind.EXPERT) + seconds(m, ModuleKind.SHARED_EXPERT),
          seconds(m, ModuleKind.ATTENTION), seconds(m, ModuleKind.LM_HEAD), m.prefillTokens());
    }
  }

  /**
   * Requests with random ids, prompt lengths in [16, 192] and Pareto(1.5) output lengths in
   * [minOutput, maxOutput], deterministic from {@code seed}.
   */
  static List<GenerationRequest> workload(ModelShape shape, int n, long seed, int minOutput,
      int maxOutput) {
    Random r = new Random(seed);
    List<GenerationRequest> out = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      int len = 16 + r.nextInt(177);
      int[] prompt = new int[len];
      for (int j = 0; j < len; j++) {
        prompt[j] = r.nextInt(shape.vocabSize() - 1);
      }
      double u = 1 - r.nextDouble();
      int output = (int) Math.min(maxOutput, Math.floor(minOutput / Math.pow(u, 1 / 1.5)));
      out.add(new GenerationRequest("r" + i, prompt,
          SamplingParams.greedy(Math.max(1, output)).withIgnoreEos(true)));
    }
    return out;
  }

  private void runBar(Path dir) throws Exception {
    String preset = opts.get("models").split(",")[0];
    Path path = TinyModels.write(preset, "mixtral", opts.get("dtype"), 7, dir.resolve(preset));
    try (LoadedModel model = ModelLoader.load(path);
        ModuleExecutor ex = Backends.create(opts.get("backend"), model, intOpt("threads"),
            VectorWidth.parse(opts.get("species")))) {
      int n = 64;
      Random r = new Random(1);
      List<GenerationRequest> prefillOnly = new ArrayList<>();
      List<GenerationRequest> full = new ArrayList<>();
      for (int i = 0; i < n; i++) {
        int[] prompt = new int[128];
        for (int j = 0; j < prompt.length; j++) {
          prompt[j] = r.nextInt(ex.shape().vocabSize() - 1);
        }
        prefillOnly.add(new GenerationRequest("p" + i, prompt,
            SamplingParams.greedy(1).withIgnoreEos(true)));
        full.add(new GenerationRequest("f" + i, prompt,
            SamplingParams.greedy(128).withIgnoreEos(true)));
      }
      long kv = 1L << 30;
      List<SchedulingMode> modes = modes();
      // untimed: JIT compilation and packing the weights, which a long job pays once
      timed(ex, prefillOnly, config(modes.get(0), kv, n));
      Map<SchedulingMode, List<Double>> decode = new LinkedHashMap<>();
      Map<SchedulingMode, List<Double>> prefill = new LinkedHashMap<>();
      // runs alternate between the modes, so a quiet or a loaded minute weighs on both
      for (int run = 0; run < intOpt("runs"); run++) {
        for (SchedulingMode mode : modes) {
          RuntimeConfig cfg = config(mode, kv, n);
          Timed t1 = timed(ex, prefillOnly, cfg);
          Timed t2 = timed(ex, full, cfg);
          double d = n * 127 / (t2.seconds() - t1.seconds());
          double p = n * 128 / t1.seconds();
          decode.computeIfAbsent(mode, m -> new ArrayList<>()).add(d);
          prefill.computeIfAbsent(mode, m -> new ArrayList<>()).add(p);
          out.printf(Locale.ROOT, "    run %d/%d mode=%s: prefill-only %.1f s (%.1f prompt tok/s),"
              + " full %.1f s, decode %.1f tok/s; decode steps: experts %.1f s, attention %.1f s,"
              + " LM head %.1f s%n", run + 1, intOpt("runs"), mode, t1.seconds(), p,
              t2.seconds(), d, t2.module(ModuleKind.EXPERT) - t1.module(ModuleKind.EXPERT),
              t2.module(ModuleKind.ATTENTION) - t1.module(ModuleKind.ATTENTION),
              t2.module(ModuleKind.LM_HEAD) - t1.module(ModuleKind.LM_HEAD));
          out.flush();
        }
      }
      for (SchedulingMode mode : modes) {
        out.printf(Locale.ROOT, "bar: model=%s dtype=%s backend=%s mode=%s 64 seqs x (128 prompt"
            + " + 128 new): decode tok/s=%.1f runs=%s; prompt tok/s=%.1f runs=%s%n", preset,
            opts.get("dtype"), ex.describe(), mode, median(decode.get(mode)),
            fmt(decode.get(mode)), median(prefill.get(mode)), fmt(prefill.get(mode)));
      }
      // The summary line every bench ends with; the bar itself is absolute (compare the
      // decode tok/s with llama.cpp's batched bench on the same GGUF export of the model).
      double co = median(decode.getOrDefault(SchedulingMode.COROUTINE, List.of(Double.NaN)));
      double ls = median(decode.getOrDefault(SchedulingMode.LOCK_STEP, List.of(Double.NaN)));
      StringBuilder line = new StringBuilder(String.format(Locale.ROOT,
          "bench runtime: ratio=%.3f coroutine_decode_tok_s=%.1f lockstep_decode_tok_s=%.1f",
          co / ls, co, ls));
      for (SchedulingMode mode : modes) {
        line.append(String.format(Locale.ROOT, " %s_prefill_tok_s=%.1f",
            mode == SchedulingMode.COROUTINE ? "coroutine" : "lockstep",
            median(prefill.get(mode))));
      }
      line.append(String.format(Locale.ROOT, " mode=bar model=%s dtype=%s species=%s seqs=64"
          + " prompt=128 new=128 runs=%d", preset, opts.get("dtype"), opts.get("species"),
          intOpt("runs")));
      out.println(line);
    }
  }

  /** Wall seconds of one run and the seconds its modules took. */
  record Timed(double seconds, RuntimeMetrics metrics) {
    double module(ModuleKind kind) {
      return RuntimeBench.seconds(metrics, kind);
    }
  }

  private static Timed timed(ModuleExecutor ex, List<GenerationRequest> work, RuntimeConfig cfg)
      throws InterruptedException {
    try (SequenceRuntime rt = new SequenceRuntime(ex, cfg)) {
      double secs = run(rt, work);
      return new Timed(secs, rt.metrics());
    }
  }

  private static double run(SequenceRuntime rt, List<GenerationRequest> work)
      throws InterruptedException {
    ResultQueue q = rt.newResultQueue(work.size());
    long t0 = System.nanoTime();
    for (GenerationRequest g : work) {
      q.submit(g);
    }
    for (int i = 0; i < work.size(); i++) {
      if (q.poll(Duration.ofMinutes(30)) == null) {
        throw new IllegalStateException("Benchmark timed out");
      }
    }
    return (System.nanoTime() - t0) / 1e9;
  }

  static double median(List<Double> xs) {
    double[] a = xs.stream().mapToDouble(Double::doubleValue).toArray();
    Arrays.sort(a);
    return a.length % 2 == 1 ? a[a.length / 2] : (a[a.length / 2 - 1] + a[a.length / 2]) / 2;
  }

  static String fmt(List<Double> xs) {
    StringBuilder b = new StringBuilder("[");
    for (int i = 0; i < xs.size(); i++) {
      b.append(i == 0 ? "" : ", ").append(String.format(Locale.ROOT, "%.1f", xs.get(i)));
    }
    return b.append(']').toString();
  }

  static void deleteTree(Path dir) throws IOException {
    try (var paths = Files.walk(dir)) {
      for (Path p : paths.sorted(java.util.Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    }
  }
}

package io.batchgen.engine.backend;

import static org.assertj.core.api.Assertions.assertThat;

import io.batchgen.core.model.AttentionBatch;
import io.batchgen.core.model.ExpertGroups;
import io.batchgen.core.model.KvStore;
import io.batchgen.core.model.ModuleExecutor;
import io.batchgen.core.model.NextTokens;
import io.batchgen.core.model.RowBatch;
import io.batchgen.core.sampling.Sampler;
import io.batchgen.core.sampling.SamplingParams;
import io.batchgen.engine.forward.SimpleForward;
import io.batchgen.engine.model.LoadedModel;
import io.batchgen.engine.model.ModelLoader;
import io.batchgen.engine.model.TinyModels;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * A fast backend ({@link #backend()}: cpu here, cuda in {@code CudaEquivalenceTest}) against the
 * reference oracle, op by op and for whole-model logits, for every architecture and stored dtype
 * of the tiny preset; its grouped expert call and next-token call against its own single calls;
 * and the cpu backend at every vector width it can run (128, 256 and 512 bits, forced; wider
 * than the hardware's is emulated) against itself at the preferred width, bit for bit.
 *
 * <p>Tolerance: the reference accumulates in double, cpu in float with FMA chains; over two
 * layers of a random model that gives relative differences around 1e-6. We allow 2e-4 of the
 * logits' scale (max |logit|), which still catches any wrong formula, index or layout.
 */
class BackendEquivalenceTest {
  static final float TOLERANCE = 2e-4f;

  /** The backend under test. */
  String backend() {
    return "cpu";
  }

  ModuleExecutor create(LoadedModel m) {
    return Backends.create(backend(), m, 2);
  }

  void assumeCpu() {
    org.junit.jupiter.api.Assumptions.assumeTrue(backend().equals("cpu"),
        "vector widths are the cpu backend's");
  }

  @TempDir
  static Path tmp;

  static Stream<Arguments> models() {
    List<Arguments> out = new ArrayList<>();
    for (String arch : List.of("mixtral", "qwen2_moe", "qwen3_moe", "olmoe", "llama", "qwen2",
        "qwen3")) {
      for (String dtype : List.of("f32", "bf16", "f16")) {
        out.add(Arguments.of(arch, dtype));
      }
    }
    return out.stream();
  }

  static LoadedModel load(String arch, String dtype) {
    Path dir = tmp.resolve(arch + "-" + dtype);
    if (!dir.resolve("config.json").toFile().exists()) {
      TinyModels.write("tiny", arch, dtype, 7, dir);
    }
    return ModelLoader.load(dir);
  }

  static int[] prompt(int n, long seed, int vocab) {
    SplittableRandom r = new SplittableRandom(seed);
    int[] t = new int[n];
    for (int i = 0; i < n; i++) {
      t[i] = r.nextInt(vocab);
    }
    return t;
  }

  void assertClose(float[] actual, float[] expected, int n, String what) {
    assertClose(actual, expected, n, what, backend());
  }

  static void assertClose(float[] actual, float[] expected, int n, String what, String backend) {
    float scale = 0;
    for (int i = 0; i < n; i++) {
      scale = Math.max(scale, Math.abs(expected[i]));
    }
    float worst = 0;
    for (int i = 0; i < n; i++) {
      worst = Math.max(worst, Math.abs(actual[i] - expected[i]));
    }
    assertThat(scale).as(what + " scale").isGreaterThan(0f);
    assertThat(worst / scale).as(what + ": max |" + backend + " - reference| / max |reference|")
        .isLessThanOrEqualTo(TOLERANCE);
  }

  @ParameterizedTest(name = "{0} {1}")
  @MethodSource("models")
  void wholeModelLogitsAndGreedyTokensMatch(String arch, String dtype) {
    try (LoadedModel m = load(arch, dtype);
        ModuleExecutor ref = Backends.create("reference", m, 1);
        ModuleExecutor cpu = create(m)) {
      int[] tokens = prompt(23, 11, m.config().vocabSize());
      float[] expected = SimpleForward.logits(ref, tokens);
      float[] actual = SimpleForward.logits(cpu, tokens);
      assertClose(actual, expected, expected.length, arch + " " + dtype + " logits");
      int[] p = prompt(5, 3, m.config().vocabSize());
      assertThat(SimpleForward.greedy(cpu, p, 32)).as("greedy tokens")
          .containsExactly(SimpleForward.greedy(ref, p, 32));
    }
  }

  static Stream<Arguments> modelsAndWidths() {
    List<Arguments> out = new ArrayList<>();
    for (Arguments a : models().toList()) {
      for (VectorWidth w : VectorWidth.values()) {
        if (w != VectorWidth.preferred()) {
          out.add(Arguments.of(a.get()[0], a.get()[1], w));
        }
      }
    }
    return out.stream();
  }

  /**
   * Every kernel runs independent sequential chains side by side and never sums across lanes,
   * so the width changes no bit: logits and greedy tokens equal the preferred width's exactly
   * (which the tests above hold to the reference).
   */
  @ParameterizedTest(name = "{0} {1} at {2}")
  @MethodSource("modelsAndWidths")
  void everyWidthGivesTheSameBits(String arch, String dtype, VectorWidth width) {
    assumeCpu();
    try (LoadedModel m = load(arch, dtype);
        ModuleExecutor base = Backends.create("cpu", m, 2);
        ModuleExecutor cpu = Backends.create("cpu", m, 2, width)) {
      int[] tokens = prompt(13, 11, m.config().vocabSize());
      assertThat(SimpleForward.logits(cpu, tokens)).as("%s %s logits at %s", arch, dtype, width)
          .containsExactly(SimpleForward.logits(base, tokens));
      int[] p = prompt(3, 3, m.config().vocabSize());
      assertThat(SimpleForward.greedy(cpu, p, 6)).as("greedy tokens")
          .containsExactly(SimpleForward.greedy(base, p, 6));
    }
  }

  @ParameterizedTest(name = "gguf {0} {1} at every width")
  @org.junit.jupiter.params.provider.CsvSource({"mixtral, q8_0", "qwen3, q8_0", "llama, bf16"})
  void ggufModelsGiveTheSameBitsAtEveryWidth(String arch, String dtype) {
    assumeCpu();
    Path file = tmp.resolve(arch + "-" + dtype + "-widths.gguf");
    TinyModels.writeGguf("tiny", arch, dtype, 7, file);
    try (LoadedModel m = ModelLoader.load(file);
        ModuleExecutor base = Backends.create("cpu", m, 2)) {
      int[] tokens = prompt(13, 11, m.config().vocabSize());
      float[] want = SimpleForward.logits(base, tokens);
      for (VectorWidth w : VectorWidth.values()) {
        try (ModuleExecutor cpu = Backends.create("cpu", m, 2, w)) {
          assertThat(SimpleForward.logits(cpu, tokens)).as("gguf %s %s at %s", arch, dtype, w)
              .containsExactly(want);
        }
      }
    }
  }

  /** GGUF copies: Q8_0 weights and llama.cpp's interleaved RoPE layout for the llama arch. */
  @ParameterizedTest(name = "gguf {0} {1}")
  @org.junit.jupiter.params.provider.CsvSource({"mixtral, q8_0", "qwen2_moe, q8_0",
      "llama, bf16", "olmoe, f16", "qwen3, q8_0"})
  void ggufModelsMatch(String arch, String dtype) {
    Path file = tmp.resolve(arch + "-" + dtype + ".gguf");
    TinyModels.writeGguf("tiny", arch, dtype, 7, file);
    try (LoadedModel m = ModelLoader.load(file);
        ModuleExecutor ref = Backends.create("reference", m, 1);
        ModuleExecutor cpu = create(m)) {
      assertThat(m.dtype().name().toLowerCase(java.util.Locale.ROOT)).isEqualTo(dtype);
      int[] tokens = prompt(23, 11, m.config().vocabSize());
      float[] expected = SimpleForward.logits(ref, tokens);
      assertClose(SimpleForward.logits(cpu, tokens), expected, expected.length,
          "gguf " + arch + " " + dtype + " logits");
      int[] p = prompt(5, 3, m.config().vocabSize());
      assertThat(SimpleForward.greedy(cpu, p, 32)).as("greedy tokens")
          .containsExactly(SimpleForward.greedy(ref, p, 32));
    }
  }

  @ParameterizedTest(name = "{0} {1}")
  @MethodSource("models")
  void everyOpMatches(String arch, String dtype) {
    try (LoadedModel m = load(arch, dtype);
        ModuleExecutor ref = Backends.create("reference", m, 1);
        ModuleExecutor cpu = create(m);
        KvStore kvRef = ref.createKvStore(8, 4);
        KvStore kvCpu = cpu.createKvStore(8, 4)) {
      int h = m.config().hiddenSize();
      int rows = 9;
      int[] tokens = prompt(rows, 5, m.config().vocabSize());
      float[] embRef = new float[rows * h];
      float[] embCpu = new float[rows * h];
      ref.embed(tokens, 0, rows, embRef, 0);
      cpu.embed(tokens, 0, rows, embCpu, 0);
      assertThat(embCpu).containsExactly(embRef);

      // attention: two sequences (6 prefill rows, 3 rows) over distinct blocks
      AttentionBatch a = new AttentionBatch();
      AttentionBatch b = new AttentionBatch();
      for (AttentionBatch x : List.of(a, b)) {
        SimpleForward.reserveSegments(x, 2, x == a ? kvRef : kvCpu);
        x.reset(1, rows, h, m.config().topK(), x == a ? kvRef : kvCpu);
        x.addSegment(0, 6, 0, new int[] {3, 1});
        x.addSegment(6, 3, 0, new int[] {0});
        System.arraycopy(embRef, 0, x.hidden(), 0, rows * h);
      }
      ref.attention(a);
      cpu.attention(b);
      assertClose(b.hidden(), a.hidden(), rows * h, "attention residual");
      assertClose(b.ffnInput(), a.ffnInput(), rows * h, "ffn input");
      int k = m.config().topK();
      assertThat(java.util.Arrays.copyOf(b.topExperts(), rows * k))
          .containsExactly(java.util.Arrays.copyOf(a.topExperts(), rows * k));
      assertClose(b.topWeights(), a.topWeights(), rows * k, "routing weights");
      float[] kvA = new float[kvRef.floatsPerBlock()];
      float[] kvB = new float[kvCpu.floatsPerBlock()];
      kvRef.readBlock(3, kvA, 0);
      kvCpu.readBlock(3, kvB, 0);
      assertClose(kvB, kvA, kvA.length, "KV block");

      // every expert over a batch of rows
      RowBatch ra = new RowBatch().reset(rows, h, h);
      RowBatch rb = new RowBatch().reset(rows, h, h);
      System.arraycopy(a.ffnInput(), 0, ra.input(), 0, rows * h);
      System.arraycopy(a.ffnInput(), 0, rb.input(), 0, rows * h);
      for (int e = 0; e < m.config().numExperts(); e++) {
        ref.expert(0, e, ra);
        cpu.expert(0, e, rb);
        assertClose(rb.output(), ra.output(), rows * h, "expert " + e);
      }
      if (m.shape().sharedExpert()) {
        ref.sharedExpert(1, ra);
        cpu.sharedExpert(1, rb);
        assertClose(rb.output(), ra.output(), rows * h, "shared expert");
      }
      int vocab = m.config().vocabSize();
      RowBatch la = new RowBatch().reset(rows, h, vocab);
      RowBatch lb = new RowBatch().reset(rows, h, vocab);
      System.arraycopy(a.hidden(), 0, la.input(), 0, rows * h);
      System.arraycopy(a.hidden(), 0, lb.input(), 0, rows * h);
      ref.lmHead(la);
      cpu.lmHead(lb);
      assertClose(lb.output(), la.output(), rows * vocab, "lm head");
    }
  }

  /**
   * All experts of a layer in one call give each row exactly what one call per expert gives it
   * (for cpu: small groups run one whole expert per worker, large ones one after another split
   * over the workers; for cuda: one grouped launch against single launches, which batch
   * invariance requires bit for bit).
   */
  @ParameterizedTest(name = "{0} {1}, {2} rows in the second group")
  @CsvSource({"mixtral, bf16, 70", "qwen3_moe, f32, 70", "olmoe, f16, 70", "qwen3_moe, f32, 170",
      "mixtral, bf16, 170"})
  void groupedExpertCallMatchesOneCallPerExpert(String arch, String dtype, int second) {
    try (LoadedModel m = load(arch, dtype);
        ModuleExecutor ex = create(m)) {
      int h = m.config().hiddenSize();
      int[] experts = {5, 0, 3, 7};
      int[] rows = {3, second, 1, 9};
      ExpertGroups groups = new ExpertGroups().reset(13 + second, h);
      SplittableRandom r = new SplittableRandom(9);
      for (int g = 0; g < experts.length; g++) {
        int first = groups.addGroup(experts[g], rows[g]);
        for (int i = first * h; i < (first + rows[g]) * h; i++) {
          groups.input()[i] = (float) r.nextGaussian();
        }
      }
      ex.experts(1, groups);
      for (int g = 0; g < experts.length; g++) {
        RowBatch one = new RowBatch().reset(rows[g], h, h);
        System.arraycopy(groups.input(), groups.groupStart(g) * h, one.input(), 0, rows[g] * h);
        ex.expert(1, experts[g], one);
        assertThat(Arrays.copyOfRange(groups.output(), groups.groupStart(g) * h,
            (groups.groupStart(g) + rows[g]) * h)).as("expert %d", experts[g])
            .containsExactly(Arrays.copyOf(one.output(), rows[g] * h));
      }
    }
  }

  /**
   * The next-token call picks what the host Sampler picks from the backend's own logits: argmax
   * (ties to the lower id) for greedy rows, the seeded draw for sampled ones.
   */
  @ParameterizedTest(name = "{0} {1}")
  @CsvSource({"mixtral, bf16", "qwen2, f32"})
  void nextTokensFollowTheSamplersRules(String arch, String dtype) {
    try (LoadedModel m = load(arch, dtype);
        ModuleExecutor ex = create(m)) {
      int h = m.config().hiddenSize();
      int vocab = m.config().vocabSize();
      int rows = 6;
      RowBatch batch = new RowBatch().reset(rows, h, vocab);
      SplittableRandom r = new SplittableRandom(4);
      for (int i = 0; i < rows * h; i++) {
        batch.input()[i] = (float) r.nextGaussian();
      }
      float[] in = Arrays.copyOf(batch.input(), rows * h);
      NextTokens next = new NextTokens().reset(rows);
      for (int i = 0; i < rows; i++) {
        next.set(i, i % 2 == 0 ? SamplingParams.greedy(8)
            : SamplingParams.seeded(0.8, 1000 + i, 8), i);
      }
      ex.lmHeadNextTokens(batch, next);
      RowBatch plain = new RowBatch().reset(rows, h, vocab);
      System.arraycopy(in, 0, plain.input(), 0, rows * h);
      ex.lmHead(plain);
      Sampler sampler = new Sampler();
      for (int i = 0; i < rows; i++) {
        assertThat(next.failure(i)).isNull();
        assertThat(next.token(i)).as("row %d", i).isEqualTo(sampler.sample(plain.output(),
            i * vocab, vocab, next.params(i), i));
      }
    }
  }
}

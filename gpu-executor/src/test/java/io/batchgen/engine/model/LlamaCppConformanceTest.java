package io.batchgen.engine.model;

import static org.assertj.core.api.Assertions.assertThat;

import io.batchgen.core.model.ModuleExecutor;
import io.batchgen.engine.backend.Backends;
import io.batchgen.engine.forward.SimpleForward;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * An independent check of the engine's math: llama.cpp itself (node-llama-cpp's prebuilt CPU
 * binaries, {@code tools/llamacpp}) loads our GGUF export of a generated model and computes logits
 * for every position; the cpu backend must agree within the stored type's tolerance and pick the
 * same argmax everywhere. llama.cpp keeps its KV cache in f16 and multiplies bf16/Q8_0 weights
 * against activations rounded to the same type, hence the looser bounds for those.
 *
 * <p>Opt-in, because it needs Node.js and npm: {@code ./mvnw -B -Pllamacpp -pl gpu-executor test
 * -Dtest=LlamaCppConformanceTest} (the profile runs {@code npm install} in
 * {@code tools/llamacpp} and sets {@code batchgen.llamacpp.dir}).
 */
@EnabledIfSystemProperty(named = "batchgen.llamacpp.dir", matches = ".+")
class LlamaCppConformanceTest {
  @TempDir
  static Path tmp;

  @ParameterizedTest(name = "{0} {1}")
  @CsvSource({
      "mixtral, f32, 2e-3", "qwen2_moe, f32, 2e-3", "qwen3_moe, f32, 2e-3", "olmoe, f32, 2e-3",
      "llama, f32, 2e-3", "qwen2, f32, 2e-3", "qwen3, f32, 2e-3",
      "mixtral, f16, 2e-3", "qwen3_moe, bf16, 2e-2", "llama, bf16, 2e-2",
      "qwen3_moe, q8_0, 5e-2", "qwen2, q8_0, 5e-2"})
  void logitsAgreeWithLlamaCpp(String arch, String dtype, double tolerance) throws Exception {
    Path gguf = tmp.resolve(arch + "-" + dtype + ".gguf");
    ModelConfig config = TinyModels.config("tiny", arch);
    if (config.arch() == Architecture.OLMOE) {
      // llama.cpp sizes OLMoE's attn_k_norm as n_embd, i.e. it supports the released models,
      // which have as many KV heads as query heads; the tiny preset uses GQA.
      config = withKvHeads(config, config.numHeads());
    }
    new TinyModelWriter(config, 11, TinyModels.dtype(dtype, true)).writeGguf(gguf);
    int[] tokens = new SplittableRandom(3).ints(12, 1, config.vocabSize()).toArray();

    float[] theirs = llamaCppLogits(gguf, tokens);
    float[] ours;
    try (LoadedModel model = ModelLoader.load(gguf);
        ModuleExecutor cpu = Backends.create("cpu", model, 2)) {
      ours = SimpleForward.logits(cpu, tokens);
    }
    assertThat(theirs).hasSameSizeAs(ours);
    int vocab = config.vocabSize();
    float scale = 0;
    float worst = 0;
    for (int i = 0; i < ours.length; i++) {
      scale = Math.max(scale, Math.abs(ours[i]));
      worst = Math.max(worst, Math.abs(ours[i] - theirs[i]));
    }
    assertThat(worst / scale).as("max |ours - llama.cpp| / max |ours|")
        .isLessThanOrEqualTo((float) tolerance);
    for (int p = 0; p < tokens.length; p++) {
      assertThat(argmax(ours, p * vocab, vocab)).as("argmax at position %d", p)
          .isEqualTo(argmax(theirs, p * vocab, vocab));
    }
  }

  private static float[] llamaCppLogits(Path gguf, int[] tokens)
      throws IOException, InterruptedException {
    Path dir = Path.of(System.getProperty("batchgen.llamacpp.dir"));
    Path out = tmp.resolve(gguf.getFileName() + ".logits");
    String ids = Arrays.stream(tokens).mapToObj(Integer::toString)
        .collect(Collectors.joining(","));
    Process p = new ProcessBuilder(List.of(System.getProperty("batchgen.node", "node"),
        dir.resolve("logits.mjs").toString(), gguf.toString(), ids, out.toString()))
        .directory(dir.toFile()).redirectErrorStream(true).start();
    String log = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(5, TimeUnit.MINUTES)).as("llama.cpp finished").isTrue();
    assertThat(p.exitValue()).as("llama.cpp exit status; output:%n%s", log).isZero();
    ByteBuffer b = ByteBuffer.wrap(Files.readAllBytes(out)).order(ByteOrder.LITTLE_ENDIAN);
    float[] logits = new float[b.remaining() / 4];
    b.asFloatBuffer().get(logits);
    return logits;
  }

  private static int argmax(float[] a, int off, int n) {
    int best = 0;
    for (int i = 1; i < n; i++) {
      if (a[off + i] > a[off + best]) {
        best = i;
      }
    }
    return best;
  }

  private static ModelConfig withKvHeads(ModelConfig c, int kvHeads) {
    return new ModelConfig(c.arch(), c.vocabSize(), c.hiddenSize(), c.numLayers(), c.numHeads(),
        kvHeads, c.headDim(), c.numExperts(), c.topK(), c.expertFfnSize(), c.normTopkProb(),
        c.sharedExpertFfnSize(), c.rmsEps(), c.ropeTheta(), c.ropeScaling(), c.ropeStyle(),
        c.qkNorm(), c.attentionBias(), c.clipQkv(), c.tieWordEmbeddings(), c.maxPositions(),
        c.eosTokenIds(), c.bosTokenId());
  }
}

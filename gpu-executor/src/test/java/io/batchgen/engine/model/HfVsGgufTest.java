package io.batchgen.engine.model;

import static org.assertj.core.api.Assertions.assertThat;

import io.batchgen.core.model.ModuleExecutor;
import io.batchgen.engine.backend.Backends;
import io.batchgen.engine.forward.SimpleForward;
import java.nio.file.Path;
import java.util.SplittableRandom;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The HF and GGUF copies of one generated model hold the same values (llama.cpp's Q/K permutation
 * and fused expert tensors included), so their logits agree: to float rounding for f32/bf16/f16,
 * and to Q8_0's quantisation error against the f32 original.
 */
class HfVsGgufTest {
  @TempDir
  static Path tmp;

  @ParameterizedTest(name = "{0} hf {1} vs gguf {2}")
  @CsvSource({
      "mixtral, f32, f32, 1e-4", "llama, f32, f32, 1e-4", "qwen2_moe, bf16, bf16, 1e-4",
      "qwen3_moe, f16, f16, 1e-4", "olmoe, f32, f32, 1e-4", "qwen2, bf16, bf16, 1e-4",
      "qwen3, f32, f32, 1e-4", "llama, f32, q8_0, 0.02", "qwen3_moe, f32, q8_0, 0.02",
      // a few near-tied routing choices flip under quantisation in this one; measured 0.067
      "mixtral, f32, q8_0, 0.1"})
  void sameLogits(String arch, String hfDtype, String ggufDtype, double tolerance) {
    Path hf = TinyModels.write("tiny", arch, hfDtype, 5, tmp.resolve(arch + hfDtype));
    Path gguf = TinyModels.writeGguf("tiny", arch, ggufDtype, 5,
        tmp.resolve(arch + ggufDtype + ".gguf"));
    try (LoadedModel a = ModelLoader.load(hf); LoadedModel b = ModelLoader.load(gguf);
        ModuleExecutor ea = Backends.create("cpu", a, 2);
        ModuleExecutor eb = Backends.create("cpu", b, 2)) {
      assertThat(b.shape()).isEqualTo(a.shape());
      assertThat(b.config().arch()).isEqualTo(a.config().arch());
      assertThat(b.config().normTopkProb()).isEqualTo(a.config().normTopkProb());
      int[] tokens = new SplittableRandom(9).ints(17, 0, a.config().vocabSize()).toArray();
      float[] la = SimpleForward.logits(ea, tokens);
      float[] lb = SimpleForward.logits(eb, tokens);
      float scale = 0;
      float worst = 0;
      double sq = 0;
      double sqDiff = 0;
      for (int i = 0; i < la.length; i++) {
        scale = Math.max(scale, Math.abs(la[i]));
        worst = Math.max(worst, Math.abs(la[i] - lb[i]));
        sq += (double) la[i] * la[i];
        sqDiff += (double) (la[i] - lb[i]) * (la[i] - lb[i]);
      }
      if (ggufDtype.equals("q8_0")) {
        // Quantisation may flip a near-tied routing choice in a few rows: bound the RMS error.
        assertThat(Math.sqrt(sqDiff / sq)).as("rms(hf - gguf) / rms(hf)")
            .isLessThanOrEqualTo(tolerance);
      } else {
        assertThat(worst / scale).as("max |hf - gguf| / max |hf|").isLessThanOrEqualTo(
            (float) tolerance);
      }
    }
  }
}

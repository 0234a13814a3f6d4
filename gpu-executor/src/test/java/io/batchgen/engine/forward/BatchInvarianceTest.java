package io.batchgen.engine.forward;

import static org.assertj.core.api.Assertions.assertThat;

import io.batchgen.core.model.ModuleExecutor;
import io.batchgen.engine.backend.Backends;
import io.batchgen.engine.backend.VectorWidth;
import io.batchgen.engine.model.LoadedModel;
import io.batchgen.engine.model.ModelLoader;
import io.batchgen.engine.model.TinyModels;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * A sequence's logits on the cpu backend (the cuda backend in {@code CudaBatchInvarianceTest})
 * are bitwise identical whether it runs alone, inside a
 * batch of 32 mixed-length sequences (prefill and decode rows mixed, other rows routed to the
 * same experts), split into decode steps, or on a different number of threads; at every vector
 * width the kernels can run (forced).
 */
class BatchInvarianceTest {
  /** The backend under test with {@code threads} workers at {@code width} (cpu here). */
  ModuleExecutor create(LoadedModel m, int threads, VectorWidth width) {
    return Backends.create("cpu", m, threads, width);
  }

  @TempDir
  static Path tmp;

  static final int SEQS = 32;
  static final int TARGET = 17;

  @ParameterizedTest(name = "{0} {1} {2}")
  @CsvSource({"mixtral, f32, W256", "qwen2_moe, bf16, W256", "olmoe, f16, W256", "qwen3, bf16, W256",
      "mixtral, f32, W128", "qwen2_moe, bf16, W512"})
  void logitsDoNotDependOnBatchComposition(String arch, String dtype, VectorWidth width) {
    Path dir = tmp.resolve(arch + dtype);
    if (!dir.resolve("config.json").toFile().exists()) {
      TinyModels.write("tiny", arch, dtype, 3, dir);
    }
    try (LoadedModel m = ModelLoader.load(dir);
        ModuleExecutor cpu = create(m, 2, width);
        ModuleExecutor cpu1 = create(m, 1, width)) {
      int vocab = m.config().vocabSize();
      SplittableRandom rnd = new SplittableRandom(42);
      int[][] prompts = new int[SEQS][];
      for (int s = 0; s < SEQS; s++) {
        prompts[s] = rnd.ints(1 + rnd.nextInt(40), 0, vocab).toArray();
      }
      int[] target = rnd.ints(24, 0, vocab).toArray();
      prompts[TARGET] = target;

      float[] alone = SimpleForward.logits(cpu, target);
      assertThat(SimpleForward.logits(cpu1, target)).as("1 thread vs 2 threads")
          .containsExactly(alone);

      // 0. one token at a time (single-row batches take the along-k kernels, the 24-row
      //    prefill the across-rows kernels: both must compute the same arithmetic)
      try (SimpleForward.Session s = new SimpleForward.Session(cpu, 1, 64, 16)) {
        float[] got = new float[target.length * vocab];
        for (int i = 0; i < target.length; i++) {
          float[] one = s.step(new int[] {0}, List.of(new int[] {target[i]})).get(0);
          System.arraycopy(one, 0, got, i * vocab, vocab);
        }
        assertThat(got).as("decoded one token at a time").containsExactly(alone);
      }

      // 1. the whole prompt as one prefill segment among 31 others of mixed lengths
      try (SimpleForward.Session s = new SimpleForward.Session(cpu, SEQS, 64, 16)) {
        int[] all = new int[SEQS];
        List<int[]> chunks = new ArrayList<>();
        for (int i = 0; i < SEQS; i++) {
          all[i] = i;
          chunks.add(prompts[i]);
        }
        List<float[]> out = s.step(all, chunks);
        assertThat(out.get(TARGET)).as("prefill inside a batch of " + SEQS)
            .containsExactly(alone);
      }

      // 2. prefix prefill alone-ish, then the rest as decode rows mixed with other sequences'
      //    prefills and decodes, in a different batch order each step
      try (SimpleForward.Session s = new SimpleForward.Session(cpu, SEQS, 128, 8)) {
        float[] got = new float[target.length * vocab];
        int done = 0;
        int[] prefix = Arrays.copyOf(target, 9);
        System.arraycopy(s.step(new int[] {TARGET}, List.of(prefix)).get(0), 0, got, 0,
            9 * vocab);
        done = 9;
        int step = 0;
        while (done < target.length) {
          List<Integer> seqs = new ArrayList<>();
          List<int[]> chunks = new ArrayList<>();
          for (int i = 0; i < SEQS; i++) {
            int seq = (i * 7 + step) % SEQS;
            if (seq == TARGET) {
              seqs.add(seq);
              chunks.add(new int[] {target[done]});
            } else if (s.length(seq) + 3 <= 128) {
              int len = s.length(seq) == 0 ? prompts[seq].length : 1 + (seq + step) % 3;
              seqs.add(seq);
              chunks.add(s.length(seq) == 0 ? prompts[seq] : rnd.ints(len, 0, vocab).toArray());
            }
          }
          List<float[]> out = s.step(seqs.stream().mapToInt(Integer::intValue).toArray(), chunks);
          System.arraycopy(out.get(seqs.indexOf(TARGET)), 0, got, done * vocab, vocab);
          done++;
          step++;
        }
        assertThat(got).as("decode rows inside mixed batches").containsExactly(alone);
      }
    }
  }
}

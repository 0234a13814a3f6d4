package io.batchgen.engine.run;

import static org.assertj.core.api.Assertions.assertThat;

import io.batchgen.core.model.ModuleExecutor;
import io.batchgen.core.runtime.FinishReason;
import io.batchgen.core.runtime.GenerationRequest;
import io.batchgen.core.runtime.SequenceResult;
import io.batchgen.core.runtime.RuntimeConfig;
import io.batchgen.core.runtime.SchedulingMode;
import io.batchgen.core.sampling.SamplingParams;
import io.batchgen.engine.backend.Backends;
import io.batchgen.engine.forward.SimpleForward;
import io.batchgen.engine.model.LoadedModel;
import io.batchgen.engine.model.ModelLoader;
import io.batchgen.engine.model.TinyModels;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The engine facade on a generated tiny model and the real cpu backend. */
class EngineTest {
  @TempDir
  static Path tmp;
  static Path model;

  @BeforeAll
  static void writeModel() {
    model = TinyModels.write("tiny", "qwen2_moe", "f32", 11, tmp.resolve("tiny"));
  }

  private static List<GenerationRequest> requests(int n, int vocab) {
    java.util.Random r = new java.util.Random(4);
    List<GenerationRequest> out = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      int[] p = new int[2 + r.nextInt(30)];
      for (int j = 0; j < p.length; j++) {
        p[j] = r.nextInt(vocab - 1);
      }
      out.add(new GenerationRequest("q" + i, p, SamplingParams.greedy(3 + i % 6)
          .withIgnoreEos(true)));
    }
    return out;
  }

  @Test
  void generateStreamsEveryResultMatchingAPlainGreedyDriver() throws Exception {
    RuntimeConfig cfg = RuntimeConfig.defaults().withKv(16, 64L << 20, 64L << 20);
    Map<String, int[]> got = new ConcurrentHashMap<>();
    List<GenerationRequest> work;
    try (Engine engine = Engine.open(model, "cpu", 2, cfg)) {
      work = requests(12, engine.shape().vocabSize());
      engine.generate(work, 5, r -> {
        assertThat(r.reason()).as(r.id() + " " + r.error()).isEqualTo(FinishReason.LENGTH);
        got.put(r.id(), r.tokens());
      });
      assertThat(engine.metrics().finishedSequences()).isEqualTo(12);
      assertThat(engine.metrics().meanExpertBatchRows()).isGreaterThan(1);
    }
    try (LoadedModel m = ModelLoader.load(model);
        ModuleExecutor ref = Backends.create("cpu", m, 1)) {
      for (GenerationRequest r : work) {
        assertThat(got.get(r.id())).as(r.id()).containsExactly(SimpleForward.greedy(ref,
            r.promptTokens(), r.sampling().maxNewTokens()));
      }
    }
  }

  @Test
  void lockStepAndOffloadedCoroutineRunsAgreeOnTheRealBackend() throws Exception {
    Map<String, int[]> lockStep = new ConcurrentHashMap<>();
    Map<String, int[]> offloaded = new ConcurrentHashMap<>();
    RuntimeConfig base = RuntimeConfig.defaults().withKv(16, 64L << 20, 64L << 20);
    try (Engine e = Engine.open(model, "cpu", 2, base.withMode(SchedulingMode.LOCK_STEP))) {
      e.generate(requests(10, e.shape().vocabSize()), 10, r -> lockStep.put(r.id(), r.tokens()));
    }
    // A device pool of a few blocks: attention runs in small groups, KV stays on the host.
    try (Engine e = Engine.open(model, "cpu", 2, base.withKv(16, 1L << 20, 64L << 20)
        .withKvOffload(true))) {
      long perBlock = e.runtime().metrics().kvBlocksTotal();
      assertThat(perBlock).isPositive();
      e.generate(requests(10, e.shape().vocabSize()), 10,
          r -> offloaded.put(r.id(), r.tokens()));
    }
    assertThat(offloaded.keySet()).isEqualTo(lockStep.keySet());
    lockStep.forEach((id, t) -> assertThat(offloaded.get(id)).as(id).containsExactly(t));
  }

  @Test
  void textPromptsAndStopStringsGoThroughTheModelTokenizer() throws Exception {
    try (Engine engine = Engine.open(model, "cpu", 2, RuntimeConfig.defaults()
        .withKv(16, 64L << 20, 64L << 20))) {
      SamplingParams p = SamplingParams.greedy(12).withIgnoreEos(true);
      List<String> texts = engine.complete(List.of("hello world", "a b c"), p);
      assertThat(texts).hasSize(2).doesNotContainNull();
      // Stop at the text of the first few generated tokens.
      int[] prompt = engine.tokenizer().encode("hello world");
      SequenceResult[] full = new SequenceResult[1];
      engine.generate(List.of(new GenerationRequest("f", prompt, p)), 1, r -> full[0] = r);
      String text = engine.tokenizer().decode(full[0].tokens());
      if (text.length() >= 4) {
        String stop = text.substring(1, 3);
        SequenceResult[] stopped = new SequenceResult[1];
        engine.generate(List.of(new GenerationRequest("s", prompt,
            p.withStopStrings(List.of(stop)))), 1, r -> stopped[0] = r);
        assertThat(stopped[0].reason()).isEqualTo(FinishReason.STOP);
        assertThat(engine.tokenizer().decode(stopped[0].tokens())).contains(stop);
        assertThat(stopped[0].tokens().length).isLessThanOrEqualTo(full[0].tokens().length);
      }
    }
  }
}

package io.batchgen.core.runtime;

import static org.assertj.core.api.Assertions.assertThat;

import io.batchgen.core.model.ModuleKind;
import io.batchgen.core.sampling.SamplingParams;
import io.batchgen.core.testing.ReferenceGenerator;
import io.batchgen.core.testing.TinyMoeExecutor;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Coroutine scheduling, every policy, and lock-step give the same greedy tokens. */
class ModeInvarianceTest {

  @ParameterizedTest
  @ValueSource(booleans = {false, true})
  void coroutineAndLockStepProduceIdenticalGreedyOutputs(boolean sharedExpert) {
    List<int[]> prompts = Harness.prompts(77, 20, 30, TinyMoeExecutor.VOCAB);
    Map<String, int[]> lockStep = run(sharedExpert, prompts,
        Harness.config(SchedulingMode.LOCK_STEP));
    List<SchedulingPolicy> policies = List.of(SchedulingPolicy.sweep(),
        SchedulingPolicy.largestBatch(),
        SchedulingPolicy.oldestWait(), SchedulingPolicy.memoryPressureFirst(0.0),
        SchedulingPolicy.modelOrder());
    for (SchedulingPolicy policy : policies) {
      Map<String, int[]> coroutine = run(sharedExpert, prompts,
          Harness.config(SchedulingMode.COROUTINE).withPolicy(policy));
      assertThat(coroutine.keySet()).isEqualTo(lockStep.keySet());
      lockStep.forEach((id, tokens) -> assertThat(coroutine.get(id)).as(id)
          .containsExactly(tokens));
    }
    for (int i = 0; i < prompts.size(); i++) {
      assertThat(lockStep.get("p" + i)).as("p" + i).containsExactly(ReferenceGenerator.greedy(
          new TinyMoeExecutor(31, sharedExpert, 0), prompts.get(i), 4 + i % 7));
    }
  }

  @org.junit.jupiter.api.Test
  void aPromptAloneAndInABatchGiveTheSameTokens() {
    List<int[]> prompts = Harness.prompts(5, 12, 20, TinyMoeExecutor.VOCAB);
    Map<String, int[]> together = run(false, prompts, Harness.config(SchedulingMode.COROUTINE));
    for (int i = 0; i < prompts.size(); i++) {
      try (Harness h = new Harness(new TinyMoeExecutor(31, false, 0),
          Harness.config(SchedulingMode.COROUTINE))) {
        h.submit("alone", prompts.get(i), SamplingParams.greedy(4 + i % 7));
        h.runToCompletion();
        assertThat(h.results.get("alone").tokens()).containsExactly(together.get("p" + i));
      }
    }
  }

  @org.junit.jupiter.api.Test
  void coroutineModeGathersLargerExpertBatchesFromManySequences() {
    List<int[]> prompts = Harness.prompts(8, 32, 6, TinyMoeExecutor.VOCAB);
    RuntimeConfig cfg = Harness.config(SchedulingMode.COROUTINE);
    try (Harness h = new Harness(new TinyMoeExecutor(31, false, 0), cfg)) {
      for (int i = 0; i < prompts.size(); i++) {
        h.submit("p" + i, prompts.get(i), SamplingParams.greedy(8));
      }
      h.runToCompletion();
      RuntimeMetrics m = h.metrics.snapshot();
      // 32 decoding sequences, top-2 of 4 experts: ~16 rows per expert batch if grouped.
      assertThat(m.meanExpertBatchRows()).isGreaterThan(4);
      assertThat(m.meanBatchRows(ModuleKind.ATTENTION)).isGreaterThan(4);
    }
  }

  private static Map<String, int[]> run(boolean shared, List<int[]> prompts, RuntimeConfig cfg) {
    try (Harness h = new Harness(new TinyMoeExecutor(31, shared, 0), cfg)) {
      for (int i = 0; i < prompts.size(); i++) {
        h.submit("p" + i, prompts.get(i), SamplingParams.greedy(4 + i % 7));
      }
      h.runToCompletion();
      return h.tokens();
    }
  }
}

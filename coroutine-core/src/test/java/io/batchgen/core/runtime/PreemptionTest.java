package io.batchgen.core.runtime;

import static org.assertj.core.api.Assertions.assertThat;

import io.batchgen.core.model.ModuleKind;
import io.batchgen.core.sampling.SamplingParams;
import io.batchgen.core.testing.TinyMoeExecutor;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** A KV budget far below the demand must only slow things down, never change the tokens. */
class PreemptionTest {
  private static final List<int[]> PROMPTS = Harness.prompts(21, 14, 14, TinyMoeExecutor.VOCAB);

  private static SamplingParams params(int i) {
    SamplingParams p = i % 3 == 0 ? SamplingParams.seeded(0.9, 100 + i, 6 + i)
        .withTopP(0.95).withTopK(20) : SamplingParams.greedy(6 + i);
    return p.withIgnoreEos(true);
  }

  private static Harness run(RuntimeConfig cfg) {
    Harness h = new Harness(new TinyMoeExecutor(9, true), cfg);
    for (int i = 0; i < PROMPTS.size(); i++) {
      h.submit("s" + i, PROMPTS.get(i), params(i));
    }
    h.runToCompletion();
    return h;
  }

  @ParameterizedTest
  @CsvSource({"COROUTINE, PARK", "COROUTINE, RECOMPUTE", "COROUTINE, AUTO",
      "LOCK_STEP, PARK", "LOCK_STEP, RECOMPUTE"})
  void tinyKvBudgetCompletesEverySequenceWithUnchangedOutput(SchedulingMode mode,
      PreemptionMode preemption) {
    Map<String, int[]> unconstrained;
    try (Harness h = run(Harness.config(mode))) {
      unconstrained = h.tokens();
      assertThat(h.metrics.snapshot().preemptions()).isZero();
    }
    // 4-token blocks, 2 layers: 16 blocks hold ~2 sequences at full length out of 14.
    long bytesPerBlock = new TinyMoeExecutor(9, true).kvBytesPerBlock(4);
    RuntimeConfig tight = Harness.config(mode).withKv(4, 16 * bytesPerBlock, 1L << 24)
        .withPreemption(preemption);
    try (Harness h = run(tight)) {
      assertThat(h.results.values()).allSatisfy(r -> {
        assertThat(r.reason()).as(r.id() + " " + r.error()).isEqualTo(FinishReason.LENGTH);
      });
      assertThat(h.results).hasSize(PROMPTS.size());
      for (String id : unconstrained.keySet()) {
        assertThat(h.tokens().get(id)).as(id).containsExactly(unconstrained.get(id));
      }
      RuntimeMetrics m = h.metrics.snapshot();
      assertThat(m.kvBlocksTotal()).isEqualTo(16);
      assertThat(m.kvBlocksPeak()).isLessThanOrEqualTo(16);
      assertThat(m.preemptions()).isPositive();
      if (preemption == PreemptionMode.PARK) {
        assertThat(m.parkPreemptions()).isPositive();
        assertThat(m.recomputePreemptions()).isZero();
      } else if (preemption == PreemptionMode.RECOMPUTE) {
        assertThat(m.recomputePreemptions()).isPositive();
        assertThat(m.parkPreemptions()).isZero();
      }
      assertThat(m.kvBlocksUsed()).isZero();
      assertThat(m.hostKvBytesUsed()).isZero();
      assertThat(m.generatedTokens()).isEqualTo(
          unconstrained.values().stream().mapToInt(t -> t.length).sum());
      assertThat(m.batches().get(ModuleKind.LM_HEAD)).isPositive();
    }
  }

  @ParameterizedTest
  @CsvSource({"PARK", "RECOMPUTE"})
  void fullHostTierFallsBackToRecompute(PreemptionMode preemption) {
    long bytesPerBlock = new TinyMoeExecutor(9, true).kvBytesPerBlock(4);
    RuntimeConfig tight = Harness.config(SchedulingMode.COROUTINE)
        .withKv(4, 16 * bytesPerBlock, 0).withPreemption(preemption);
    try (Harness h = run(tight)) {
      assertThat(h.results).hasSize(PROMPTS.size());
      assertThat(h.metrics.snapshot().parkPreemptions()).isZero();
      assertThat(h.metrics.snapshot().recomputePreemptions()).isPositive();
    }
  }

  @org.junit.jupiter.api.Test
  void sequenceThatCanNeverFitFailsWithAnErrorNotAnOom() {
    long bytesPerBlock = new TinyMoeExecutor(9, true).kvBytesPerBlock(4);
    RuntimeConfig tight = Harness.config(SchedulingMode.COROUTINE)
        .withKv(4, 6 * bytesPerBlock, 1L << 20);
    try (Harness h = new Harness(new TinyMoeExecutor(9, true), tight)) {
      h.submit("long", new int[] {1, 2, 3}, SamplingParams.greedy(40).withIgnoreEos(true));
      h.submit("short", new int[] {4}, SamplingParams.greedy(3).withIgnoreEos(true));
      h.runToCompletion();
      SequenceResult r = h.results.get("long");
      assertThat(r.reason()).isEqualTo(FinishReason.ERROR);
      assertThat(r.error()).contains("KV blocks").contains("raise the KV cache budget");
      assertThat(r.tokens()).hasSizeGreaterThan(5);
      assertThat(h.results.get("short").reason()).isEqualTo(FinishReason.LENGTH);
    }
  }
}

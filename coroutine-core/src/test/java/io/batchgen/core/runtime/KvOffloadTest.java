package io.batchgen.core.runtime;

import static org.assertj.core.api.Assertions.assertThat;

import io.batchgen.core.sampling.SamplingParams;
import io.batchgen.core.snapshot.SequenceSnapshot;
import io.batchgen.core.snapshot.SnapshotCodec;
import io.batchgen.core.testing.TinyMoeExecutor;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * KV offload: every sequence's KV lives in the host tier and one layer of one attention batch at
 * a time is paged into a small device pool. Tokens must not change; expert batches must grow
 * compared with a lock-step run under the same device budget.
 */
class KvOffloadTest {
  private static final List<int[]> PROMPTS = Harness.prompts(61, 24, 12, TinyMoeExecutor.VOCAB);
  private static final long BLOCK = new TinyMoeExecutor(13, true).kvBytesPerBlock(4);

  private static Harness run(RuntimeConfig cfg) {
    Harness h = new Harness(new TinyMoeExecutor(13, true), cfg);
    for (int i = 0; i < PROMPTS.size(); i++) {
      SamplingParams p = i % 4 == 0 ? SamplingParams.seeded(0.7, i, 4 + i % 9)
          : SamplingParams.greedy(4 + i % 9);
      h.submit("s" + i, PROMPTS.get(i), p.withIgnoreEos(true));
    }
    h.runToCompletion();
    return h;
  }

  @Test
  void offloadedRunMatchesResidentRunAndBatchesExpertsWider() {
    Map<String, int[]> resident;
    try (Harness h = run(Harness.config(SchedulingMode.LOCK_STEP))) {
      resident = h.tokens();
    }
    // 16 blocks: a full-length sequence needs 12 (6 per layer) resident, so lock-step runs ~1-2.
    RuntimeConfig tightLockStep = Harness.config(SchedulingMode.LOCK_STEP)
        .withKv(4, 16 * BLOCK, 1L << 24);
    double lockStepExpertRows;
    try (Harness h = run(tightLockStep)) {
      assertThat(h.results).hasSize(PROMPTS.size());
      lockStepExpertRows = h.metrics.snapshot().meanExpertBatchRows();
    }
    RuntimeConfig offload = Harness.config(SchedulingMode.COROUTINE)
        .withKv(4, 16 * BLOCK, 1L << 24).withKvOffload(true);
    try (Harness h = run(offload)) {
      assertThat(h.results.values()).allSatisfy(r -> assertThat(r.reason())
          .as(r.id() + " " + r.error()).isEqualTo(FinishReason.LENGTH));
      resident.forEach((id, t) -> assertThat(h.tokens().get(id)).as(id).containsExactly(t));
      RuntimeMetrics m = h.metrics.snapshot();
      assertThat(m.kvBlocksPeak()).isLessThanOrEqualTo(16);
      assertThat(m.preemptions()).isZero();
      assertThat(m.kvBlocksUsed()).isZero();
      assertThat(m.hostKvBytesUsed()).isZero();
      assertThat(m.meanExpertBatchRows()).isGreaterThan(2 * lockStepExpertRows);
      // Attention batches are cut by the device pool: one layer of a few sequences at a time.
      assertThat(h.batches.stream().filter(b -> b.key().kind()
          == io.batchgen.core.model.ModuleKind.ATTENTION)
          .allMatch(b -> b.rows().stream().map(ModuleBatchObserver.Row::sequenceId).distinct()
              .count() <= 16)).isTrue();
    }
  }

  @Test
  void snapshotsMoveBetweenOffloadedAndResidentRuntimes() {
    int[] prompt = {4, 8, 15, 16, 23, 42};
    SamplingParams p = SamplingParams.seeded(0.9, 5, 16).withIgnoreEos(true);
    int[] expected;
    try (Harness h = new Harness(new TinyMoeExecutor(13, true),
        Harness.config(SchedulingMode.COROUTINE))) {
      h.submit("m", prompt, p);
      h.runToCompletion();
      expected = h.results.get("m").tokens();
    }
    RuntimeConfig offload = Harness.config(SchedulingMode.COROUTINE)
        .withKv(4, 16 * BLOCK, 1L << 24).withKvOffload(true);
    for (boolean fromOffload : new boolean[] {true, false}) {
      RuntimeConfig src = fromOffload ? offload : Harness.config(SchedulingMode.COROUTINE);
      RuntimeConfig dst = fromOffload ? Harness.config(SchedulingMode.COROUTINE) : offload;
      byte[] bytes;
      try (Harness h = new Harness(new TinyMoeExecutor(13, true), src)) {
        h.submit("m", prompt, p);
        while (h.scheduler.find("m").generatedCount() < 5) {
          h.scheduler.runOnce();
        }
        SequenceSnapshot snap = h.scheduler.snapshot("m", true, true);
        assertThat(snap.hasKv()).isTrue();
        bytes = SnapshotCodec.encode(snap);
      }
      try (Harness h = new Harness(new TinyMoeExecutor(13, true), dst)) {
        h.scheduler.restore(SnapshotCodec.decode(bytes), r -> h.results.put(r.id(), r), 0);
        h.runToCompletion();
        assertThat(h.results.get("m").tokens()).as("from offload " + fromOffload)
            .containsExactly(expected);
      }
    }
  }
}

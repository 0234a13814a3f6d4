package io.batchgen.core.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.batchgen.core.sampling.SamplingParams;
import io.batchgen.core.snapshot.SequenceSnapshot;
import io.batchgen.core.snapshot.SnapshotCodec;
import io.batchgen.core.testing.TinyMoeExecutor;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** A sequence snapshotted mid-decode continues token-for-token in a fresh runtime. */
class SnapshotRestoreTest {
  private static final int[] PROMPT = {5, 9, 14, 2, 33, 61, 7, 7, 20, 41, 3};
  private static final List<int[]> OTHERS = Harness.prompts(4, 5, 12, TinyMoeExecutor.VOCAB);

  private static SamplingParams params(boolean seeded) {
    SamplingParams p = seeded ? SamplingParams.seeded(1.1, 4242, 24).withTopK(30).withTopP(0.9)
        .withMinP(0.01) : SamplingParams.greedy(24);
    return p.withIgnoreEos(true);
  }

  private static void submitAll(Harness h, boolean seeded) {
    h.submit("x", PROMPT, params(seeded));
    for (int i = 0; i < OTHERS.size(); i++) {
      h.submit("o" + i, OTHERS.get(i), SamplingParams.seeded(0.8, i, 10 + i));
    }
  }

  @ParameterizedTest
  @CsvSource({"false, true", "false, false", "true, true", "true, false"})
  void snapshotMidDecodeRestoresWithIdenticalContinuation(boolean seeded, boolean includeKv) {
    int[] uninterrupted;
    try (Harness h = new Harness(new TinyMoeExecutor(17, true), Harness.config(
        SchedulingMode.COROUTINE))) {
      submitAll(h, seeded);
      h.runToCompletion();
      uninterrupted = h.results.get("x").tokens();
    }
    assertThat(uninterrupted).hasSize(24);

    byte[] bytes;
    try (Harness h = new Harness(new TinyMoeExecutor(17, true), Harness.config(
        SchedulingMode.COROUTINE))) {
      submitAll(h, seeded);
      // Run until x has generated a few tokens and is in the middle of a step (layer > 0).
      while (true) {
        assertThat(h.scheduler.runOnce()).isTrue();
        SequenceCoroutine x = h.scheduler.find("x");
        if (x.generatedCount() >= 7 && x.inStep() && x.layer() > 0) {
          break;
        }
      }
      SequenceSnapshot snap = h.scheduler.snapshot("x", true, includeKv);
      assertThat(snap.generated()).hasSize(7);
      assertThat(snap.hasKv()).isEqualTo(includeKv);
      bytes = SnapshotCodec.encode(snap);
      h.runToCompletion();
      assertThat(h.results).doesNotContainKey("x").hasSize(OTHERS.size());
    }

    // A fresh runtime with another block size and batch limits, and a new executor instance.
    RuntimeConfig other = RuntimeConfig.defaults().withKv(3, 1L << 20, 1L << 20)
        .withBatchLimits(5, 16, 512, 9, 2);
    try (Harness h = new Harness(new TinyMoeExecutor(17, true), other)) {
      h.submit("y", new int[] {1, 2}, SamplingParams.greedy(5));
      h.scheduler.restore(SnapshotCodec.decode(bytes), r -> h.results.put(r.id(), r),
          System.nanoTime());
      h.runToCompletion();
      assertThat(h.results.get("x").tokens()).containsExactly(uninterrupted);
      assertThat(h.results.get("x").reason()).isEqualTo(FinishReason.LENGTH);
    }
  }

  @org.junit.jupiter.api.Test
  void restoringTamperedKvChangesTheContinuation() {
    // The control for the test above: the restored KV is really read.
    try (Harness h = new Harness(new TinyMoeExecutor(17, true), Harness.config(
        SchedulingMode.COROUTINE))) {
      h.submit("x", PROMPT, params(false));
      while (h.scheduler.find("x").generatedCount() < 7) {
        h.scheduler.runOnce();
      }
      SequenceSnapshot good = h.scheduler.snapshot("x", true, true);
      float[] kv = good.kv().clone();
      for (int i = 0; i < kv.length; i++) {
        kv[i] = -kv[i];
      }
      SequenceSnapshot bad = new SequenceSnapshot(good.id(), good.tokens(), good.promptLength(),
          good.sampling(), good.position(), kv, good.numLayers(), good.kvDim(),
          good.vocabSize(), 0);
      int[][] out = new int[2][];
      for (int v = 0; v < 2; v++) {
        try (Harness d = new Harness(new TinyMoeExecutor(17, true),
            Harness.config(SchedulingMode.COROUTINE))) {
          d.scheduler.restore(v == 0 ? good : bad, r -> d.results.put(r.id(), r), 0);
          d.runToCompletion();
          out[v] = d.results.get("x").tokens();
        }
      }
      assertThat(out[1]).isNotEqualTo(out[0]);
    }
  }

  @org.junit.jupiter.api.Test
  void migrationDetachesQueuedBeforeRunningAndEverySequenceFinishesOnce() {
    java.util.Map<String, int[]> expected;
    try (Harness h = new Harness(new TinyMoeExecutor(17, true), Harness.config(
        SchedulingMode.COROUTINE).withMaxRunningSequences(3))) {
      for (int i = 0; i < 8; i++) {
        h.submit("q" + i, OTHERS.get(i % OTHERS.size()), SamplingParams.greedy(6 + i));
      }
      h.runToCompletion();
      expected = h.tokens();
    }
    try (Harness src = new Harness(new TinyMoeExecutor(17, true), Harness.config(
        SchedulingMode.COROUTINE).withMaxRunningSequences(3));
        Harness dst = new Harness(new TinyMoeExecutor(17, true), Harness.config(
            SchedulingMode.COROUTINE))) {
      for (int i = 0; i < 8; i++) {
        src.submit("q" + i, OTHERS.get(i % OTHERS.size()), SamplingParams.greedy(6 + i));
      }
      for (int b = 0; b < 40; b++) {
        src.scheduler.runOnce();
      }
      List<SequenceSnapshot> moved = src.scheduler.detachForMigration(6, true);
      // Five were never admitted (at most 3 run): the youngest queued go first, then running.
      assertThat(moved).extracting(SequenceSnapshot::id)
          .startsWith("q7", "q6", "q5", "q4", "q3");
      assertThat(moved.get(5).generated()).isNotEmpty();
      for (SequenceSnapshot s : moved) {
        dst.scheduler.restore(SnapshotCodec.decode(SnapshotCodec.encode(s)),
            r -> dst.results.put(r.id(), r), 0);
      }
      src.runToCompletion();
      dst.runToCompletion();
      java.util.Map<String, int[]> all = new java.util.HashMap<>(src.tokens());
      dst.tokens().forEach((id, t) -> assertThat(all.put(id, t)).as(id).isNull());
      assertThat(all.keySet()).isEqualTo(expected.keySet());
      expected.forEach((id, t) -> assertThat(all.get(id)).as(id).containsExactly(t));
    }
  }

  @org.junit.jupiter.api.Test
  void snapshotOfAnotherModelIsRefused() {
    SequenceSnapshot snap = new SequenceSnapshot("z", new int[] {1, 2, 3}, 2,
        SamplingParams.greedy(4), 0, null, 3, 8, 64, 0);
    try (Harness h = new Harness(new TinyMoeExecutor(1, false),
        Harness.config(SchedulingMode.COROUTINE))) {
      assertThatThrownBy(() -> h.scheduler.restore(snap, r -> { }, 0))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("3 layers").hasMessageContaining("restore it on the same model");
    }
  }
}

package io.batchgen.core.runtime;

import static org.assertj.core.api.Assertions.assertThat;

import io.batchgen.core.sampling.SamplingParams;
import io.batchgen.core.snapshot.SequenceSnapshot;
import io.batchgen.core.testing.TinyMoeExecutor;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The work gauges the scheduler keeps as running totals ({@link LiveWork}) equal, after every
 * module batch, a plain pass over the live sequences (the way they were computed before), through
 * admission, decode, preemption (park and recompute), KV offload, cancellation, migration out and
 * restore.
 */
class LiveWorkTest {
  private static final List<int[]> PROMPTS = Harness.prompts(33, 16, 14, TinyMoeExecutor.VOCAB);
  private static final long BLOCK = new TinyMoeExecutor(9, true).kvBytesPerBlock(4);

  private static SamplingParams params(int i) {
    return SamplingParams.greedy(3 + (i * 5) % 17).withIgnoreEos(true);
  }

  @ParameterizedTest
  @CsvSource({"ROOMY, AUTO", "TIGHT, PARK", "TIGHT, RECOMPUTE", "OFFLOAD, AUTO"})
  void totalsEqualAPassOverTheLiveSequencesAfterEveryBatch(String kv,
      PreemptionMode preemption) {
    RuntimeConfig base = Harness.config(SchedulingMode.COROUTINE).withPreemption(preemption)
        .withAdmissionOrder(AdmissionOrder.LONGEST_FIRST);
    RuntimeConfig cfg = switch (kv) {
      case "TIGHT" -> base.withKv(4, 16 * BLOCK, 1L << 24);
      case "OFFLOAD" -> base.withKv(4, 16 * BLOCK, 1L << 24).withKvOffload(true);
      default -> base;
    };
    TinyMoeExecutor executor = new TinyMoeExecutor(9, true);
    int maxPositions = executor.shape().maxPositions();
    try (Harness h = new Harness(executor, cfg);
        Harness other = new Harness(new TinyMoeExecutor(9, true), cfg)) {
      for (int i = 0; i < PROMPTS.size(); i++) {
        h.submit("s" + i, PROMPTS.get(i), params(i));
        assertMatchesRecount(h, maxPositions);
      }
      int batches = 0;
      boolean cancelled = false;
      boolean moved = false;
      while (h.scheduler.runOnce()) {
        batches++;
        assertMatchesRecount(h, maxPositions);
        if (!cancelled && h.metrics.snapshot().generatedTokens() >= 10) {
          cancelled = h.scheduler.cancel("s5");
          assertMatchesRecount(h, maxPositions);
        }
        if (!moved && h.metrics.snapshot().generatedTokens() >= 20) {
          // Migration out of h (queued and started sequences, with their KV) and into other.
          List<SequenceSnapshot> out = h.scheduler.detachForMigration(4, true, true);
          assertThat(out).isNotEmpty();
          assertMatchesRecount(h, maxPositions);
          for (SequenceSnapshot s : out) {
            other.scheduler.restore(s, r -> other.results.put(r.id(), r), System.nanoTime());
            assertMatchesRecount(other, maxPositions);
          }
          moved = true;
        }
      }
      while (other.scheduler.runOnce()) {
        assertMatchesRecount(other, maxPositions);
      }
      assertThat(cancelled).isTrue();
      assertThat(moved).isTrue();
      assertThat(batches).isPositive();
      assertThat(h.results.size() + other.results.size()).isEqualTo(PROMPTS.size());
      if (kv.equals("TIGHT")) {
        assertThat(h.metrics.snapshot().preemptions()).as("preemptions").isPositive();
      }
      for (Harness done : List.of(h, other)) {
        RuntimeMetrics m = done.metrics.snapshot();
        assertThat(new long[] {m.positionsLeft(), m.newTokensBound(), m.cachedPositions(),
            m.liveGenerated()}).containsOnly(0L);
      }
    }
  }

  /** The gauges published now against the plain pass over the live sequences. */
  private static void assertMatchesRecount(Harness h, int maxPositions) {
    long positions = 0;
    long bound = 0;
    long cached = 0;
    long generated = 0;
    for (SequenceSlot slot : h.scheduler.liveSlots()) {
      SequenceCoroutine s = slot.seq;
      int tokenBound = Math.min(s.params.maxNewTokens(), maxPositions - s.promptLength);
      positions += s.numTokens() - s.position();
      bound += Math.max(0, tokenBound - s.generatedCount());
      cached += s.position();
      generated += s.generatedCount();
    }
    RuntimeMetrics m = h.metrics.snapshot();
    assertThat(new long[] {m.positionsLeft(), m.newTokensBound(), m.cachedPositions(),
        m.liveGenerated()}).as("positions left, new-token bound, cached, generated")
        .containsExactly(positions, bound, cached, generated);
  }
}

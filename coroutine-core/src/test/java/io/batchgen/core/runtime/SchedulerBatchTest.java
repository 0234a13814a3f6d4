package io.batchgen.core.runtime;

import static org.assertj.core.api.Assertions.assertThat;

import io.batchgen.core.model.ModuleKey;
import io.batchgen.core.model.ModuleKind;
import io.batchgen.core.runtime.ModuleBatchObserver.Row;
import io.batchgen.core.sampling.SamplingParams;
import io.batchgen.core.testing.RecordingExecutor;
import io.batchgen.core.testing.ReferenceGenerator;
import io.batchgen.core.testing.TinyMoeExecutor;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Which rows go into which module batch, checked against the executor's own record. */
class SchedulerBatchTest {

  @Test
  void lockStepFirstStepRunsExactlyTheExpectedBatches() {
    RecordingExecutor ex = new RecordingExecutor(new TinyMoeExecutor(11, false));
    try (Harness h = new Harness(ex, Harness.config(SchedulingMode.LOCK_STEP))) {
      h.submit("a", new int[] {1, 2, 3}, SamplingParams.greedy(2));
      h.submit("b", new int[] {4, 5}, SamplingParams.greedy(2));
      h.runToCompletion();

      List<RecordingExecutor.Call> calls = ex.calls();
      // Rebuild the lock-step schedule of the first step from the routing the model produced.
      List<Harness.Batch> expected = new ArrayList<>();
      List<String> order = List.of("a", "b");
      Map<String, Integer> length = Map.of("a", 3, "b", 2);
      int call = 0;
      for (int layer = 0; layer < TinyMoeExecutor.LAYERS; layer++) {
        List<Row> attRows = new ArrayList<>();
        for (String id : order) {
          for (int p = 0; p < length.get(id); p++) {
            attRows.add(new Row(id, p, 0));
          }
        }
        expected.add(new Harness.Batch(ModuleKey.attention(layer), attRows));
        int[] routing = calls.get(call).topExperts();
        call += 1;
        Map<Integer, List<Row>> perExpert = new HashMap<>();
        Map<String, Integer> lastExpert = new HashMap<>();
        for (int i = 0; i < attRows.size(); i++) {
          for (int j = 0; j < TinyMoeExecutor.TOP_K; j++) {
            int e = routing[i * TinyMoeExecutor.TOP_K + j];
            Row row = attRows.get(i);
            perExpert.computeIfAbsent(e, x -> new ArrayList<>())
                .add(new Row(row.sequenceId(), row.position(), j));
            lastExpert.merge(row.sequenceId(), e, Math::max);
          }
        }
        for (int e = 0; e < TinyMoeExecutor.EXPERTS; e++) {
          if (perExpert.containsKey(e)) {
            expected.add(new Harness.Batch(ModuleKey.expert(layer, e), perExpert.get(e)));
            call += 1;
          }
        }
        // A sequence posts its next await when its last expert row comes back.
        List<String> next = new ArrayList<>(order);
        next.sort((x, y) -> Integer.compare(lastExpert.get(x), lastExpert.get(y)));
        order = next;
      }
      List<Row> head = new ArrayList<>();
      for (String id : order) {
        head.add(new Row(id, length.get(id) - 1, 0));
      }
      expected.add(new Harness.Batch(ModuleKey.lmHead(), head));

      assertThat(h.batches.subList(0, expected.size())).containsExactlyElementsOf(expected);
      // Second step: both decode one token, oldest first.
      assertThat(h.batches.get(expected.size()))
          .isEqualTo(new Harness.Batch(ModuleKey.attention(0),
              List.of(new Row("a", 3, 0), new Row("b", 2, 0))));
      assertThat(h.results.get("a").tokens())
          .containsExactly(ReferenceGenerator.greedy(new TinyMoeExecutor(11, false),
              new int[] {1, 2, 3}, 2));
    }
  }

  @Test
  void everyExpertBatchHoldsExactlyTheRowsRoutedToItAndLimitsHold() {
    RecordingExecutor ex = new RecordingExecutor(new TinyMoeExecutor(5, true));
    RuntimeConfig cfg = RuntimeConfig.defaults().withKv(4, 1L << 24, 1L << 24)
        .withBatchLimits(6, 12, 80, 7, 3);
    List<int[]> prompts = Harness.prompts(3, 24, 20, TinyMoeExecutor.VOCAB);
    try (Harness h = new Harness(ex, cfg)) {
      for (int i = 0; i < prompts.size(); i++) {
        h.submit("s" + i, prompts.get(i), SamplingParams.greedy(3 + i % 9));
      }
      h.runToCompletion();
      List<RecordingExecutor.Call> calls = ex.calls();
      assertThat(calls).hasSameSizeAs(h.batches);

      Map<String, Integer> routed = new HashMap<>();
      Map<String, Integer> served = new HashMap<>();
      for (int b = 0; b < calls.size(); b++) {
        Harness.Batch batch = h.batches.get(b);
        RecordingExecutor.Call c = calls.get(b);
        assertThat(c.key()).isEqualTo(batch.key());
        assertThat(c.rows()).isEqualTo(batch.rows().size());
        ModuleKey key = batch.key();
        switch (key.kind()) {
          case ATTENTION -> {
            assertThat(c.rows()).isLessThanOrEqualTo(12);
            int context = 0;
            for (int s = 0; s < c.segPositions().length; s++) {
              context += c.segPositions()[s] + c.segRows()[s];
            }
            assertThat(context).as("KV positions read by one attention batch")
                .isLessThanOrEqualTo(80);
            assertThat(batch.rows().stream().map(Row::sequenceId).distinct().count())
                .isEqualTo(c.segPositions().length);
            for (int i = 0; i < c.rows(); i++) {
              Row row = batch.rows().get(i);
              for (int j = 0; j < TinyMoeExecutor.TOP_K; j++) {
                routed.merge(key.layer() + "/" + c.topExperts()[i * TinyMoeExecutor.TOP_K + j]
                    + "/" + row.sequenceId() + "/" + row.position() + "/" + j, 1, Integer::sum);
              }
              routed.merge(key.layer() + "/shared/" + row.sequenceId() + "/" + row.position()
                  + "/0", 1, Integer::sum);
            }
          }
          case EXPERT, SHARED_EXPERT -> {
            assertThat(c.rows()).isBetween(1, 7);
            String e = key.kind() == ModuleKind.EXPERT ? String.valueOf(key.expert()) : "shared";
            for (Row row : batch.rows()) {
              served.merge(key.layer() + "/" + e + "/" + row.sequenceId() + "/" + row.position()
                  + "/" + row.rank(), 1, Integer::sum);
            }
          }
          case LM_HEAD -> assertThat(c.rows()).isBetween(1, 3);
        }
      }
      assertThat(served).isEqualTo(routed);
      // Expert-level batching: expert batches gather rows of several sequences.
      assertThat(h.batches.stream().filter(b -> b.key().kind() == ModuleKind.EXPERT)
          .anyMatch(b -> b.rows().stream().map(Row::sequenceId).distinct().count() > 1))
          .isTrue();
      for (int i = 0; i < prompts.size(); i++) {
        assertThat(h.results.get("s" + i).tokens()).as("s" + i).containsExactly(
            ReferenceGenerator.greedy(new TinyMoeExecutor(5, true), prompts.get(i), 3 + i % 9));
      }
    }
  }

  @Test
  void starvationGuardServesARowThePolicyWouldNeverPick() {
    // This policy never runs the LM head while anything else waits.
    SchedulingPolicy neverHead = view -> {
      for (int i = 0; i < view.size(); i++) {
        if (view.key(i).kind() != ModuleKind.LM_HEAD) {
          return i;
        }
      }
      return 0;
    };
    assertThat(finishesUnderEndlessLoad(neverHead, 50)).as("with the guard").isTrue();
    assertThat(finishesUnderEndlessLoad(neverHead, 1_000_000)).as("without it").isFalse();
  }

  /**
   * Keeps 5 long prompts prefilling one token per step (work that never needs the LM head) for
   * 3000 batches next to one short prompt: does the short one ever get its LM head?
   */
  private static boolean finishesUnderEndlessLoad(SchedulingPolicy policy, int limit) {
    RuntimeConfig cfg = Harness.config(SchedulingMode.COROUTINE).withPolicy(policy)
        .withStarvationLimitBatches(limit).withBatchLimits(1, 32, 1 << 20, 64, 64);
    try (Harness h = new Harness(new TinyMoeExecutor(2, false, 2048, new int[0]), cfg)) {
      h.submit("first", new int[] {7, 8, 9}, SamplingParams.greedy(2).withIgnoreEos(true));
      int[] longPrompt = new int[1500];
      for (int i = 0; i < longPrompt.length; i++) {
        longPrompt[i] = (i * 7) % TinyMoeExecutor.VOCAB;
      }
      for (int i = 0; i < 5; i++) {
        h.submit("load" + i, longPrompt, SamplingParams.greedy(1));
      }
      for (int b = 0; b < 3000; b++) {
        h.scheduler.runOnce();
        if (h.results.containsKey("first")) {
          return true;
        }
      }
      return false;
    }
  }
}

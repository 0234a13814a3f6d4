package io.batchgen.core.runtime;

import static org.assertj.core.api.Assertions.assertThat;

import io.batchgen.core.sampling.SamplingParams;
import io.batchgen.core.snapshot.SequenceSnapshot;
import io.batchgen.core.testing.TinyMoeExecutor;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Which waiting sequence starts first, and that the order never changes what one generates. */
class AdmissionOrderTest {
  /** id → max new tokens, submitted in this order. */
  private static final Map<String, Integer> BUDGETS = Map.of("a", 2, "b", 6, "c", 4, "d", 6);
  private static final String[] SUBMITTED = {"a", "b", "c", "d"};

  /** One sequence runs at a time, so results arrive in admission order. */
  private static Harness run(AdmissionOrder order) {
    Harness h = new Harness(new TinyMoeExecutor(11, false),
        Harness.config(SchedulingMode.COROUTINE).withMaxRunningSequences(1)
            .withAdmissionOrder(order));
    int p = 1;
    for (String id : SUBMITTED) {
      h.submit(id, new int[] {p++, 7, 9}, SamplingParams.greedy(BUDGETS.get(id)));
    }
    h.runToCompletion();
    return h;
  }

  @Test
  void longestFirstAdmitsTheLargestBudgetFirstTiesByArrival() {
    try (Harness longest = run(AdmissionOrder.LONGEST_FIRST);
        Harness arrival = run(AdmissionOrder.ARRIVAL)) {
      assertThat(longest.results.keySet()).containsExactly("b", "d", "c", "a");
      assertThat(arrival.results.keySet()).containsExactly("a", "b", "c", "d");
      assertThat(longest.tokens()).containsOnlyKeys(arrival.tokens().keySet());
      arrival.tokens().forEach((id, tokens) ->
          assertThat(longest.tokens().get(id)).as(id).containsExactly(tokens));
    }
  }

  @Test
  void queuedSequencesLeaveForAnotherExecutorLongestFirstOrYoungestFirst() {
    for (AdmissionOrder order : AdmissionOrder.values()) {
      try (Harness h = new Harness(new TinyMoeExecutor(11, false),
          Harness.config(SchedulingMode.COROUTINE).withAdmissionOrder(order))) {
        int p = 1;
        for (String id : SUBMITTED) {
          h.submit(id, new int[] {p++, 7, 9}, SamplingParams.greedy(BUDGETS.get(id)));
        }
        List<String> moved = h.scheduler.detachForMigration(2, false, false).stream()
            .map(SequenceSnapshot::id).toList();
        assertThat(moved).as(order.name()).containsExactlyElementsOf(
            order == AdmissionOrder.LONGEST_FIRST ? List.of("b", "d") : List.of("d", "c"));
        h.runToCompletion();
        assertThat(h.results.keySet()).as("what stayed ran here").containsExactlyInAnyOrder(
            order == AdmissionOrder.LONGEST_FIRST ? new String[] {"a", "c"}
                : new String[] {"a", "b"});
      }
    }
  }

  @Test
  void aMoveOfSoMuchWorkStopsOnceItsSequencesCarryIt() {
    try (Harness h = new Harness(new TinyMoeExecutor(11, false),
        Harness.config(SchedulingMode.COROUTINE)
            .withAdmissionOrder(AdmissionOrder.LONGEST_FIRST))) {
      int p = 1;
      for (String id : SUBMITTED) {
        h.submit(id, new int[] {p++, 7, 9}, SamplingParams.greedy(BUDGETS.get(id)));
      }
      // Work of a queued sequence: 3 positions to prefill + its budget (nothing finished yet):
      // b and d 9 tokens each, c 7, a 5. Longest first: b, then d would pass 9 tokens.
      assertThat(h.scheduler.detachForMigration(4, 9, false, false, id -> true))
          .extracting(SequenceSnapshot::id).containsExactly("b");
      assertThat(h.scheduler.detachForMigration(4, 10, false, false, id -> true))
          .as("at most one sequence's worth beyond").extracting(SequenceSnapshot::id)
          .containsExactly("d", "c");
      h.runToCompletion();
    }
  }

  @Test
  void theRuntimeDefaultIsFirstComeFirstServed() {
    assertThat(RuntimeConfig.defaults().admissionOrder()).isEqualTo(AdmissionOrder.ARRIVAL);
  }
}

package io.batchgen.core.runtime;

import static org.assertj.core.api.Assertions.assertThat;

import io.batchgen.core.sampling.SamplingParams;
import io.batchgen.core.testing.TinyMoeExecutor;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * What a caller hears of the work done on its sequences before their results arrive
 * ({@link ResultListener#inFlightPositions}): every position a step processed, until the
 * sequence leaves.
 */
class InFlightPositionsTest {
  private static final int[] LONG_PROMPT = {5, 9, 14, 2, 33, 61, 7, 7, 20, 41, 3};
  private static final int[] SHORT_PROMPT = {4, 8, 15, 16, 23};

  /** One caller: its results, and the running sum of what it was told of positions in flight. */
  private static final class Caller implements ResultListener {
    final Map<String, SequenceResult> results = new HashMap<>();
    long inFlight;

    @Override
    public void onResult(SequenceResult r) {
      results.put(r.id(), r);
    }

    @Override
    public void inFlightPositions(long delta) {
      inFlight += delta;
    }
  }

  @Test
  void eachStepAddsWhatItProcessedAndALeavingSequenceTakesAllOfItsShareAway() {
    try (Harness h = new Harness(new TinyMoeExecutor(17, true), Harness.config(
        SchedulingMode.COROUTINE))) {
      Caller caller = new Caller();
      long now = System.nanoTime();
      h.scheduler.submit(new GenerationRequest("long", LONG_PROMPT,
          SamplingParams.greedy(40).withIgnoreEos(true)), caller, now);
      h.scheduler.submit(new GenerationRequest("short", SHORT_PROMPT,
          SamplingParams.greedy(4).withIgnoreEos(true)), caller, now);

      // Run until the short one finished and the long one, between steps, has a few tokens.
      SequenceCoroutine longOne;
      while (true) {
        assertThat(h.scheduler.runOnce()).isTrue();
        assertThat(caller.inFlight).isNotNegative();
        longOne = h.scheduler.find("long");
        if (caller.results.containsKey("short") && longOne.generatedCount() >= 6
            && !longOne.inStep()) {
          break;
        }
      }
      // Its prompt, then one position (the token it fed back) for each token after the first.
      assertThat(caller.inFlight)
          .isEqualTo(LONG_PROMPT.length + longOne.generatedCount() - 1L);

      // Detached for a migration: its work no longer counts here.
      h.scheduler.snapshot("long", true, false);
      assertThat(caller.inFlight).isZero();
      h.runToCompletion();
      assertThat(caller.results).containsOnlyKeys("short");
    }
  }

  @Test
  void nothingIsLeftInFlightWhenEverySequenceHasItsResult() {
    try (Harness h = new Harness(new TinyMoeExecutor(17, true), Harness.config(
        SchedulingMode.COROUTINE))) {
      Caller caller = new Caller();
      long now = System.nanoTime();
      int i = 0;
      for (int[] p : Harness.prompts(3, 12, 20, TinyMoeExecutor.VOCAB)) {
        h.scheduler.submit(new GenerationRequest("r" + i, p,
            SamplingParams.greedy(3 + 2 * i).withIgnoreEos(true)), caller, now);
        i++;
      }
      long most = 0;
      while (h.scheduler.runOnce()) {
        most = Math.max(most, caller.inFlight);
      }
      assertThat(caller.results).hasSize(12);
      assertThat(most).isPositive();
      assertThat(caller.inFlight).isZero();
    }
  }
}

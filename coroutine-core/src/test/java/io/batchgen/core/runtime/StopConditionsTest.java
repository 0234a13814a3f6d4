package io.batchgen.core.runtime;

import static org.assertj.core.api.Assertions.assertThat;

import io.batchgen.core.sampling.Detokenizer;
import io.batchgen.core.sampling.SamplingParams;
import io.batchgen.core.testing.TinyMoeExecutor;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

class StopConditionsTest {
  private static final int[] PROMPT = {3, 1, 4, 1, 5, 9, 2, 6};
  /** Every token is three characters, e.g. 7 -> "t07". */
  private static final Detokenizer DETOK = (tokens, offset, count) -> {
    StringBuilder b = new StringBuilder();
    for (int i = offset; i < offset + count; i++) {
      b.append(String.format("t%02d", tokens[i]));
    }
    return b.toString();
  };

  private static SequenceResult run(TinyMoeExecutor ex, SamplingParams p) {
    try (Harness h = new Harness(ex, Harness.config(SchedulingMode.COROUTINE), DETOK)) {
      h.submit("r", PROMPT, p);
      h.runToCompletion();
      return h.results.get("r");
    }
  }

  private static int[] free(int n) {
    return run(new TinyMoeExecutor(41, false), SamplingParams.seeded(1.5, 8, n)
        .withIgnoreEos(true)).tokens();
  }

  private static int firstIndex(int[] a, int v) {
    for (int i = 0; i < a.length; i++) {
      if (a[i] == v) {
        return i;
      }
    }
    return -1;
  }

  @Test
  void maxNewTokensEndsWithLength() {
    SequenceResult r = run(new TinyMoeExecutor(41, false), SamplingParams.greedy(7)
        .withIgnoreEos(true));
    assertThat(r.tokens()).hasSize(7);
    assertThat(r.reason()).isEqualTo(FinishReason.LENGTH);
    assertThat(r.promptTokens()).isEqualTo(PROMPT.length);
  }

  @Test
  void stopTokenIdEndsWithStopAndIsTheLastToken() {
    int[] all = free(20);
    int stop = all[5];
    SequenceResult r = run(new TinyMoeExecutor(41, false), SamplingParams.seeded(1.5, 8, 20)
        .withIgnoreEos(true).withStopTokenIds(stop));
    assertThat(r.reason()).isEqualTo(FinishReason.STOP);
    assertThat(r.tokens()).containsExactly(Arrays.copyOf(all, firstIndex(all, stop) + 1));
  }

  @Test
  void modelEosStopsUnlessIgnored() {
    int[] all = free(20);
    int eos = all[4];
    TinyMoeExecutor withEos = new TinyMoeExecutor(41, false, eos);
    SequenceResult stopped = run(withEos, SamplingParams.seeded(1.5, 8, 20));
    assertThat(stopped.reason()).isEqualTo(FinishReason.STOP);
    assertThat(stopped.tokens()).containsExactly(Arrays.copyOf(all, firstIndex(all, eos) + 1));
    SequenceResult ignored = run(withEos, SamplingParams.seeded(1.5, 8, 20).withIgnoreEos(true));
    assertThat(ignored.tokens()).containsExactly(all);
  }

  @Test
  void stopStringSpanningTokensEndsGeneration() {
    int[] all = free(20);
    String text = DETOK.decode(all, 0, all.length);
    String stop = text.substring(3 * 6 + 1, 3 * 8 - 1); // from inside token 6 into token 7
    int end = text.indexOf(stop) + stop.length();
    int expectedTokens = (end + 2) / 3;
    SequenceResult r = run(new TinyMoeExecutor(41, false), SamplingParams.seeded(1.5, 8, 20)
        .withIgnoreEos(true).withStopStrings(List.of("never-there", stop)));
    assertThat(r.reason()).isEqualTo(FinishReason.STOP);
    assertThat(r.tokens()).containsExactly(Arrays.copyOf(all, expectedTokens));
  }

  @Test
  void modelMaxPositionsEndsWithLength() {
    TinyMoeExecutor shortModel = new TinyMoeExecutor(41, false, 12, new int[0]);
    SequenceResult r = run(shortModel, SamplingParams.greedy(50).withIgnoreEos(true));
    assertThat(r.reason()).isEqualTo(FinishReason.LENGTH);
    assertThat(r.tokens()).hasSize(12 - PROMPT.length);
  }

  @Test
  void badRequestsFinishWithAnErrorThatSaysWhy() {
    try (Harness h = new Harness(new TinyMoeExecutor(41, false),
        Harness.config(SchedulingMode.COROUTINE))) {
      h.submit("bad", new int[] {1, 64}, SamplingParams.greedy(3));
      h.submit("ok", new int[] {1, 2}, SamplingParams.greedy(3));
      h.submit("ok", new int[] {1, 2}, SamplingParams.greedy(3));
      assertThat(h.results.get("bad").reason()).isEqualTo(FinishReason.ERROR);
      assertThat(h.results.get("bad").error()).contains("token id 64")
          .contains("vocabulary of 64");
      assertThat(h.results.get("ok").error()).contains("already running");
      h.results.clear();
      h.runToCompletion();
      assertThat(h.results.get("ok").reason()).isEqualTo(FinishReason.LENGTH);
    }
  }
}

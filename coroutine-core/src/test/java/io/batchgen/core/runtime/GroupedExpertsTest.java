package io.batchgen.core.runtime;

import static org.assertj.core.api.Assertions.assertThat;

import io.batchgen.core.model.ModuleKind;
import io.batchgen.core.sampling.SamplingParams;
import io.batchgen.core.testing.RecordingExecutor;
import io.batchgen.core.testing.TinyMoeExecutor;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * An executor that groups experts (a GPU backend's one launch per layer) gets every expert of a
 * layer with rows waiting in one call, and the tokens are those of one call per expert.
 */
class GroupedExpertsTest {

  @ParameterizedTest
  @EnumSource(SchedulingMode.class)
  void groupingExpertsChangesNoTokenAndGathersSeveralExpertsPerCall(SchedulingMode mode) {
    List<int[]> prompts = Harness.prompts(21, 24, 12, TinyMoeExecutor.VOCAB);
    Map<String, int[]> oneByOne = run(new RecordingExecutor(new TinyMoeExecutor(31, true, 0)),
        prompts, mode);
    RecordingExecutor grouped = new RecordingExecutor(new TinyMoeExecutor(31, true, 0), true);
    Map<String, int[]> together = run(grouped, prompts, mode);
    assertThat(together.keySet()).isEqualTo(oneByOne.keySet());
    oneByOne.forEach((id, tokens) -> assertThat(together.get(id)).as(id)
        .containsExactly(tokens));

    List<int[]> calls = grouped.groupCalls();
    assertThat(calls).isNotEmpty();
    assertThat(calls.stream().mapToInt(c -> c.length).max().orElse(0))
        .as("experts per grouped call").isGreaterThan(1);
    for (int[] experts : calls) {
      assertThat(Arrays.stream(experts).distinct().count()).as("each expert once per call")
          .isEqualTo(experts.length);
    }
    long expertCalls = grouped.calls().stream()
        .filter(c -> c.key().kind() == ModuleKind.EXPERT).count();
    assertThat(expertCalls).as("every expert batch went through a grouped call")
        .isEqualTo(calls.stream().mapToInt(c -> c.length).sum());
  }

  private static Map<String, int[]> run(RecordingExecutor ex, List<int[]> prompts,
      SchedulingMode mode) {
    try (Harness h = new Harness(ex, Harness.config(mode))) {
      for (int i = 0; i < prompts.size(); i++) {
        h.submit("p" + i, prompts.get(i), SamplingParams.greedy(3 + i % 5));
      }
      h.runToCompletion();
      return h.tokens();
    }
  }
}

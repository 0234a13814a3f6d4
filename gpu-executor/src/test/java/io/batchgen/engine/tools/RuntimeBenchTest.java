package io.batchgen.engine.tools;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.batchgen.core.runtime.GenerationRequest;
import io.batchgen.engine.model.TinyModels;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

class RuntimeBenchTest {

  private static String run(String... args) throws Exception {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (PrintStream out = new PrintStream(bytes, true, StandardCharsets.UTF_8)) {
      new RuntimeBench(out, RuntimeBench.parse(args)).run();
    }
    return bytes.toString(StandardCharsets.UTF_8);
  }

  @Test
  void oneBudgetBothModesEndsWithTheSummaryLine() throws Exception {
    String out = run("--models", "tiny", "--prompts", "6", "--runs", "1", "--budgets", "tight",
        "--minOutput", "2", "--maxOutput", "6", "--threads", "1");
    String[] lines = out.strip().split("\n");
    assertThat(lines[lines.length - 1]).startsWith("bench runtime: ratio=")
        .contains("tiny_tight_lock_step_tokps=", "tiny_tight_coroutine_tokps=")
        .doesNotContain("tiny_ample_");
    assertThat(out).contains("budget=tight mode=LOCK_STEP:", "budget=tight mode=COROUTINE:",
        "experts ", "prefill positions ");
  }

  @Test
  void oneModeAloneHasNoRatio() throws Exception {
    String out = run("--models", "tiny", "--prompts", "4", "--runs", "1", "--budgets", "ample",
        "--modes", "coroutine", "--minOutput", "2", "--maxOutput", "4", "--threads", "1");
    assertThat(out).contains("ratio=NaN", "tiny_ample_coroutine_tokps=")
        .doesNotContain("LOCK_STEP");
  }

  @Test
  void badBudgetOrModeIsNamedBeforeAnyWork() {
    assertThatThrownBy(() -> run("--budgets", "ample,loose"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("--budgets").hasMessageContaining("[loose]");
    assertThatThrownBy(() -> run("--modes", "lockstep"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("--modes").hasMessageContaining("[lockstep]");
  }

  @Test
  void benchWorkloadIsFixedPerRowAndHeavyTailed() {
    var shape = TinyModels.config("bench", "mixtral").shape();
    List<GenerationRequest> a = RuntimeBench.workload(shape, 512, 42, 32, 256);
    List<GenerationRequest> b = RuntimeBench.workload(shape, 512, 42, 32, 256);
    assertThat(a).isEqualTo(b);
    int[] outs = a.stream().mapToInt(r -> r.sampling().maxNewTokens()).sorted().toArray();
    assertThat(outs[0]).isGreaterThanOrEqualTo(32);
    assertThat(outs[outs.length - 1]).isEqualTo(256);
    assertThat(outs[outs.length - 1]).isGreaterThan(4 * outs[outs.length / 2]);
    assertThat(a.stream().mapToInt(r -> r.promptTokens().length).distinct().count())
        .isGreaterThan(50);
    assertThat(RuntimeBench.median(List.of(3.0, 1.0, 2.0))).isEqualTo(2.0);
  }
}

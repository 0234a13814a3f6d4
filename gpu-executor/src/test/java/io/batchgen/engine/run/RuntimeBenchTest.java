package io.batchgen.engine.run;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
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
}

package io.batchgen.engine.tools;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class OffloadBenchTest {

  private static String run(String... args) throws Exception {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (PrintStream out = new PrintStream(bytes, true, StandardCharsets.UTF_8)) {
      new OffloadBench(out, OffloadBench.parse(args)).run();
    }
    return bytes.toString(StandardCharsets.UTF_8);
  }

  @Test
  void tinyModelEndsWithTheSummaryLineAndLayerWiseReadsMorePerToken() throws Exception {
    String out = run("--models", "tiny", "--budgets", "25", "--prompts", "16", "--batch", "2",
        "--promptLength", "4", "--newTokens", "4", "--runs", "1", "--threads", "1");
    String[] lines = out.strip().split("\n");
    String last = lines[lines.length - 1];
    assertThat(last).matches("bench offload: ratio=[0-9.]+ speedup_25=[0-9.]+ .*")
        .contains("ratio_tiny_25=", "module_mb_per_token_tiny_25=", "layer_tokps_tiny_25=");
    double ratio = Double.parseDouble(last.split(" ")[2].substring("ratio=".length()));
    // 16 prompts in flight against lock-step steps of 2: each load serves many more tokens
    assertThat(ratio).isGreaterThan(2);
    assertThat(out).contains("budget=25% module-batched:", "budget=25% layer-wise:");
  }

  @Test
  void badBudgetIsNamedBeforeAnyWork() {
    assertThatThrownBy(() -> run("--budgets", "10,abc"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("--budgets").hasMessageContaining("[abc]");
    assertThatThrownBy(() -> run("--batch", "0"))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("--batch");
  }
}

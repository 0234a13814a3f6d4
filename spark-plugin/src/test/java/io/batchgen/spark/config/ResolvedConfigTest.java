package io.batchgen.spark.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Map;
import org.junit.jupiter.api.Test;

class ResolvedConfigTest {

  @Test
  void optionBeatsSessionConfBeatsDefault() {
    ResolvedConfig c = ResolvedConfig.resolve(Map.of("maxnewtokens", "7"),
        Map.of("spark.batchgen.generate.maxNewTokens", "9",
            "spark.batchgen.generate.temperature", "0.5"));
    assertThat(c.get(BatchGenConfig.MAX_NEW_TOKENS)).isEqualTo(7);
    assertThat(c.get(BatchGenConfig.TEMPERATURE)).isEqualTo(0.5);
    assertThat(c.get(BatchGenConfig.TOP_P)).isEqualTo(1.0);
    assertThat(c.isSet(BatchGenConfig.TOP_P)).isFalse();
  }

  @Test
  void sizesAndDurationsUseSparkForms() {
    ResolvedConfig c = ResolvedConfig.resolve(Map.of("kvCacheBudget", "512m"),
        Map.of("spark.batchgen.rebalance.loadReportInterval", "250ms"));
    assertThat(c.get(BatchGenConfig.KV_BUDGET)).isEqualTo(512L << 20);
    assertThat(c.get(BatchGenConfig.LOAD_REPORT_INTERVAL_MS)).isEqualTo(250L);
  }

  @Test
  void weightBudgetIsASizeAHeapFractionOrAuto() {
    var sized = ResolvedConfig.resolve(Map.of("weightsBudget", "2g"), Map.of())
        .get(BatchGenConfig.WEIGHTS_BUDGET);
    assertThat(sized.resolve(1L << 40)).isEqualTo(2L << 30);
    var fraction = ResolvedConfig.resolve(Map.of(),
        Map.of("spark.batchgen.memory.weights.budget", "0.5")).get(BatchGenConfig.WEIGHTS_BUDGET);
    assertThat(fraction.resolve(4L << 30)).isEqualTo(2L << 30);
    assertThat(ResolvedConfig.resolve(Map.of(), Map.of()).get(BatchGenConfig.WEIGHTS_BUDGET)
        .resolve(4L << 30)).isEqualTo(1L << 30);
    assertThatThrownBy(() -> ResolvedConfig.resolve(Map.of("weightsBudget", "1.5"), Map.of()))
        .hasMessageContaining("option 'weightsBudget'")
        .hasMessageContaining("fraction of the heap must be in (0, 1]");
    assertThatThrownBy(() -> ResolvedConfig.resolve(Map.of("weightsBudget", "lots"), Map.of()))
        .hasMessageContaining("size such as 512m");
  }

  @Test
  void rebalanceIsABooleanOptionOfTheJob() {
    assertThat(ResolvedConfig.resolve(Map.of(), Map.of()).get(BatchGenConfig.TASK_REBALANCE))
        .isTrue();
    assertThat(ResolvedConfig.resolve(Map.of("rebalance", "false"), Map.of())
        .get(BatchGenConfig.TASK_REBALANCE)).isFalse();
    assertThatThrownBy(() -> ResolvedConfig.resolve(Map.of("rebalance", "never"), Map.of()))
        .hasMessageContaining("option 'rebalance'")
        .hasMessageContaining("expected true or false");
  }

  @Test
  void unknownOptionSuggestsTheClosestName() {
    assertThatThrownBy(() -> ResolvedConfig.resolve(Map.of("temprature", "1"), Map.of()))
        .hasMessageContaining("Unknown option 'temprature'")
        .hasMessageContaining("Did you mean 'temperature'?");
  }

  @Test
  void unknownSessionKeyIsAnError() {
    assertThatThrownBy(() -> ResolvedConfig.resolve(Map.of(),
        Map.of("spark.batchgen.generate.maxNewTokes", "1")))
        .hasMessageContaining("spark.batchgen.generate.maxNewTokes")
        .hasMessageContaining("Did you mean 'spark.batchgen.generate.maxNewTokens'?");
  }

  @Test
  void invalidValueNamesTheOptionAndTheRule() {
    assertThatThrownBy(() -> ResolvedConfig.resolve(Map.of("maxNewTokens", "-1"), Map.of()))
        .hasMessageContaining("'-1'").hasMessageContaining("option 'maxNewTokens'")
        .hasMessageContaining(">= 1");
    assertThatThrownBy(() -> ResolvedConfig.resolve(Map.of("backend", "tpu"), Map.of()))
        .hasMessageContaining("expected one of reference, cpu, cuda, auto");
    assertThatThrownBy(() -> ResolvedConfig.resolve(Map.of("kvCacheBudget", "lots"), Map.of()))
        .hasMessageContaining("size such as 512m");
  }

  @Test
  void missingRequiredSettingSaysHowToSetIt() {
    ResolvedConfig c = ResolvedConfig.resolve(Map.of(), Map.of());
    assertThatThrownBy(() -> c.get(BatchGenConfig.MODEL))
        .hasMessageContaining("option 'model'")
        .hasMessageContaining("spark.batchgen.model.path");
  }
}

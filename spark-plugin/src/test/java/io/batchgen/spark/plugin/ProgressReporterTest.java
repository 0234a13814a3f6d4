package io.batchgen.spark.plugin;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class ProgressReporterTest {

  @Test
  void lineShowsTokensRateAndEtaOfAcceptedWork() {
    String line = ProgressReporter.line(12_345, 500, 64, 10, 30_000);
    assertThat(line).contains("12,345 tokens generated", "500 tokens/s", "64 sequences running",
        "10 queued", "30,000 tokens to go", "ETA 1m0s");
  }

  @Test
  void etaIsUnknownBeforeARateIsMeasured() {
    assertThat(ProgressReporter.line(0, 0, 1, 0, 100)).endsWith("ETA unknown");
  }

  @Test
  void durationsReadNaturally() {
    assertThat(ProgressReporter.formatSeconds(42)).isEqualTo("42s");
    assertThat(ProgressReporter.formatSeconds(125)).isEqualTo("2m5s");
    assertThat(ProgressReporter.formatSeconds(7_380)).isEqualTo("2h3m");
  }
}

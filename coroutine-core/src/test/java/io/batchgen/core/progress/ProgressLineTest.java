package io.batchgen.core.progress;

import static org.assertj.core.api.Assertions.assertThat;

import io.batchgen.core.progress.ProgressSnapshot.State;
import java.time.Duration;
import org.junit.jupiter.api.Test;

class ProgressLineTest {
  @Test
  void theLineHasRowsPercentFailedRateElapsedAndEta() {
    ProgressSnapshot s = new ProgressSnapshot("j", State.RUNNING, 12_345, 20_000, "footers", 3, 1,
        2, 500_000, 900_000, 4321.4, Duration.ofSeconds(62), Duration.ofMillis(37_200), 1000);
    assertThat(ProgressLine.format(s)).isEqualTo(
        "batchgen: 12,345/20,000 rows (61.7%), 3 failed, 4,321 tok/s, elapsed 1m02s, ETA 38s");
  }

  @Test
  void durations() {
    assertThat(ProgressLine.duration(Duration.ofMillis(200), true)).isEqualTo("1s");
    assertThat(ProgressLine.duration(Duration.ofMillis(200), false)).isEqualTo("0s");
    assertThat(ProgressLine.duration(Duration.ofSeconds(187), true)).isEqualTo("3m07s");
    assertThat(ProgressLine.duration(Duration.ofSeconds(7500), true)).isEqualTo("2h05m");
  }
}

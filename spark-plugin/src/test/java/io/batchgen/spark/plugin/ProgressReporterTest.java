package io.batchgen.spark.plugin;

import static org.assertj.core.api.Assertions.assertThat;

import io.batchgen.core.progress.ProgressSnapshot;
import io.batchgen.core.progress.ProgressSnapshot.State;
import java.time.Duration;
import org.junit.jupiter.api.Test;

class ProgressReporterTest {

  @Test
  void aWritesLineHasTheWholeJobThenItsTasksAndWorkLeft() {
    ProgressSnapshot s = new ProgressSnapshot("j", State.RUNNING, 5_000, 20_000,
        "Parquet footers", 2, 1, 4, 300_000, 700_000, 8_000, Duration.ofSeconds(40),
        Duration.ofSeconds(121), 1_200_000);
    assertThat(ProgressReporter.jobLine(s)).isEqualTo("batchgen: 5,000/20,000 rows (25.0%), 2"
        + " failed, 8,000 tok/s, elapsed 40s, ETA 2m01s; 1/4 tasks committed, rows from Parquet"
        + " footers, ~1,200,000 tokens of work left");
  }

  @Test
  void theExecutorsLineForUntrackedWorkClaimsNoEta() {
    String line = ProgressReporter.line(12_345, 500, 64, 10, 30_000);
    assertThat(line).contains("12,345 tokens generated", "500 tokens/s", "64 sequences running",
        "10 queued", "30,000 tokens to go").doesNotContain("ETA");
  }
}

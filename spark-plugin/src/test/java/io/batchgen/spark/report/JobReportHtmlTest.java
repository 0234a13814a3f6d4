package io.batchgen.spark.report;

import static org.assertj.core.api.Assertions.assertThat;

import io.batchgen.core.rebalance.Move;
import io.batchgen.spark.plugin.JobTelemetry;
import io.batchgen.spark.plugin.JobTelemetry.Sample;
import io.batchgen.spark.plugin.MoveStatus;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** The report page draws what the job's data says, escapes what it quotes, and fetches nothing. */
class JobReportHtmlTest {
  static final long T0 = 1_700_000_000_000L;

  static long[] sizes(long... counts) {
    long[] s = new long[io.batchgen.core.runtime.RuntimeMetrics.EXPERT_BATCH_BUCKETS];
    System.arraycopy(counts, 0, s, 0, counts.length);
    return s;
  }

  static JobReport report() {
    JobReport.Job job = new JobReport.Job("abc123", "/out/<t>", "/models/m", "overwrite", "0.1",
        T0, T0 + 4000, 100, 2, 0, 900, 3000);
    // executor 1: a baseline before the job, then 1,000 tokens a second; executor 2 restarted
    // its runtime (counts fell), so its expert batches count as they are
    Map<String, List<Sample>> telemetry = Map.of(
        "1", List.of(new Sample(T0 - 500, 100, 0, 0, 0, 64, sizes(5, 5), 0, 0),
            new Sample(T0 + 1000, 1100, 8, 2, 32, 64, sizes(5, 15, 2), 3, 0),
            new Sample(T0 + 2000, 2100, 8, 0, 16, 64, sizes(5, 25, 4), 3, 0)),
        "2", List.of(new Sample(T0 + 1000, 50, 4, 0, 8, 32, sizes(9, 9), 0, 0),
            new Sample(T0 + 3000, 40, 2, 0, 4, 32, sizes(1, 2, 3), 0, 3)));
    MoveStatus move = new MoveStatus(7, "1", "2", Move.Kind.IN_FLIGHT_WITH_KV, "DONE",
        MoveStatus.Ending.DESTINATION_LOST, "HOSTED", 3, 4096,
        new MoveStatus.Timing(0.1, 0.2, 0.3, 0.4, 1.25));
    return new JobReport(job, Map.of("stop", 60L, "length", 38L, "error", 2L),
        List.of("Bad prompt row in [x] at row 3: <script>alert(1)</script>"),
        List.of(new JobReport.Partition(0, "1", 3.5, 50, 1, 1500),
            new JobReport.Partition(1, "2", 1.25, 50, 1, 1500)), telemetry, List.of(move));
  }

  /** The {@code data-points} of the chart with {@code id}. */
  static int points(String html, String id) {
    Matcher m = Pattern.compile("id=\"" + id + "\">\\s*<svg[^>]* data-points=\"(\\d+)\"")
        .matcher(html);
    assertThat(m.find()).as("chart " + id).isTrue();
    return Integer.parseInt(m.group(1));
  }

  @Test
  void everyChartIsDrawnFromTheJobsData() {
    String html = JobReportHtml.render(report());

    assertThat(points(html, "tokens-per-second")).isEqualTo(3); // 2 intervals + 1
    assertThat(points(html, "kv-use")).isEqualTo(4);
    assertThat(points(html, "finish-reasons")).isEqualTo(3);
    assertThat(points(html, "migrations")).isEqualTo(4);
    assertThat(html).contains("data-name=\"executor 1\" data-points=\"2\"")
        .contains("<title>executor 1: 1,000 at 2</title>")
        .contains("data-label=\"length\" data-value=\"38\"")
        .contains("data-label=\"2-3\" data-value=\"22\"") // 20 on executor 1 + 2 on executor 2
        .contains("data-name=\"moved in\" data-label=\"2\" data-value=\"3\"")
        .contains("<td>DONE (DESTINATION_LOST in HOSTED)</td>");
    assertThat(JobReportHtml.expertBatchSizes(report())).startsWith(1, 22, 7);
  }

  @Test
  void quotedTextIsEscapedAndNothingIsFetched() {
    String html = JobReportHtml.render(report());

    assertThat(html).contains("&lt;script&gt;alert(1)&lt;/script&gt;")
        .contains("<code>/out/&lt;t&gt;</code>").doesNotContain("<script")
        .doesNotContainPattern("(src|href)=\"https?:");
    // the slowest partition first
    int slow = html.indexOf("<tr><td class=\"n\">0</td><td>1</td><td class=\"n\">3.50</td>");
    int fast = html.indexOf("<tr><td class=\"n\">1</td><td>2</td><td class=\"n\">1.25</td>");
    assertThat(slow).isPositive().isLessThan(fast);
  }

  @Test
  void aJobWithoutLoadSamplesSaysSoInsteadOfDrawingNothing() {
    JobReport r = report();
    String html = JobReportHtml.render(new JobReport(r.job(), r.finishReasons(), List.of(),
        r.partitions(), Map.of(), List.of()));

    assertThat(points(html, "tokens-per-second")).isZero();
    assertThat(html).contains("no load reports arrived during the job")
        .contains("The rebalancer ordered no move during the job.");
  }

  @Test
  void telemetryStaysBoundedEvenlySpacedWithTheNewestSample() {
    JobTelemetry t = new JobTelemetry(8);
    for (int i = 1; i <= 100; i++) {
      t.record("1", new Sample(T0 + i, i, 0, 0, 0, 0, sizes(), 0, 0));
    }
    List<Sample> all = t.window(0, Long.MAX_VALUE).get("1");
    assertThat(t.size()).isEqualTo(all.size()).isLessThanOrEqualTo(9);
    // every 16th report is kept, and the newest
    assertThat(all).extracting(Sample::tokensGenerated)
        .containsExactly(16L, 32L, 48L, 64L, 80L, 96L, 100L);
    // a window starts with the last sample before it, the baseline for differences
    assertThat(t.window(T0 + 50, T0 + 70).get("1")).extracting(Sample::tokensGenerated)
        .containsExactly(48L, 64L);
    // an executor that did not report during the window is not in it: its counts before say
    // nothing of the job (a report of the whole before-sample would count earlier jobs' work)
    assertThat(t.window(T0 + 101, T0 + 200)).isEmpty();
  }
}

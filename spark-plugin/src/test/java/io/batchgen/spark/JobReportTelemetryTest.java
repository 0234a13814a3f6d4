package io.batchgen.spark;

import static org.assertj.core.api.Assertions.assertThat;

import io.batchgen.engine.tools.CommandArgs;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A job short enough to start and end between two of the executors' periodic load reports still
 * has its work in its report: each write task reports the executor's load before it commits.
 * The periodic reports are an hour apart here, so only the registration's report (before the
 * job) and the tasks' own reports can be seen.
 */
class JobReportTelemetryTest {
  @TempDir
  static Path dir;
  static SparkSession spark;

  @BeforeAll
  static void setUp() {
    spark = TestData.localSession("batchgen-report-telemetry-test",
        Map.of("spark.batchgen.rebalance.loadReportInterval", "1h"));
  }

  @AfterAll
  static void tearDown() {
    spark.stop();
  }

  @Test
  void theReportOfAJobBetweenTwoLoadReportsCountsItsExpertBatches() throws Exception {
    String input = dir.resolve("prompts.parquet").toString();
    TestData.prompts(spark, 12).write().parquet(input);
    BatchGenJob.Summary s = BatchGenJob.run(spark, CommandArgs.parse(new String[] {"--model",
        TestData.tinyModel(dir).toString(), "--input", input, "--output",
        dir.resolve("out").toString(), "--maxNewTokens", "3"}, BatchGenJob.options(), Set.of()));
    assertThat(s.rows()).isEqualTo(12);

    String html = Files.readString(Path.of(java.net.URI.create(s.report()).getPath()));
    Matcher m = Pattern.compile("id=\"expert-batch-sizes\">\\s*<svg[^>]* data-points=\"(\\d+)\"")
        .matcher(html);
    assertThat(m.find()).as("the expert-batch chart").isTrue();
    assertThat(Integer.parseInt(m.group(1))).as("size buckets with batches").isPositive();
  }
}

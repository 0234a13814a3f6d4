package io.batchgen.spark;

import static org.assertj.core.api.Assertions.assertThat;

import io.batchgen.engine.tools.CommandArgs;
import java.nio.file.Path;
import java.util.Set;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The spark-submit job's summary counts what this job did, also when it appends. */
class BatchGenJobTest {
  @TempDir
  static Path dir;
  static SparkSession spark;

  @BeforeAll
  static void setUp() {
    spark = SparkSession.builder().master("local[2]").appName("batchgen-job-test")
        .config("spark.ui.enabled", "false")
        .config("spark.plugins", "io.batchgen.spark.BatchGenPlugin").getOrCreate();
  }

  @AfterAll
  static void tearDown() {
    spark.stop();
  }

  private static BatchGenJob.Summary run(String input, String output, String mode) {
    return BatchGenJob.run(spark, CommandArgs.parse(new String[] {"--model",
        TestData.tinyModel(dir).toString(), "--input", input, "--output", output,
        "--maxNewTokens", "2", "--mode", mode}, BatchGenJob.options(), Set.of()));
  }

  @Test
  void theSummaryCountsThisJobsRowsAndTokens() {
    String first = dir.resolve("first.parquet").toString();
    String second = dir.resolve("second.parquet").toString();
    TestData.prompts(spark, 12).write().parquet(first);
    TestData.prompts(spark, 5).selectExpr("id + 100 as id", "prompt").write().parquet(second);
    String out = dir.resolve("out").toString();

    BatchGenJob.Summary a = run(first, out, "overwrite");
    assertThat(a.rows()).isEqualTo(12);
    assertThat(a.generatedTokens()).isEqualTo(24);
    BatchGenJob.Summary b = run(second, out, "append");
    assertThat(b.rows()).isEqualTo(5);
    assertThat(b.generatedTokens()).isEqualTo(10);
    assertThat(spark.read().parquet(out).count()).isEqualTo(17);
  }
}

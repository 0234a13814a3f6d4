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

/**
 * The spark-submit job's summary counts what this job did, also when it appends; each job leaves
 * its report beside the table (the last job's), which Spark's readers skip and an overwrite
 * replaces with the rest.
 */
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
  void theSummaryCountsThisJobsRowsAndTokens() throws Exception {
    String first = dir.resolve("first.parquet").toString();
    String second = dir.resolve("second.parquet").toString();
    TestData.prompts(spark, 12).write().parquet(first);
    TestData.prompts(spark, 5).selectExpr("id + 100 as id", "prompt").write().parquet(second);
    String out = dir.resolve("out").toString();

    BatchGenJob.Summary a = run(first, out, "overwrite");
    assertThat(a.rows()).isEqualTo(12);
    assertThat(a.generatedTokens()).isEqualTo(24);
    assertThat(a.report()).isEqualTo(new org.apache.hadoop.fs.Path(out,
        "_batchgen_report.html").toString());
    String reportA = report(a);
    assertThat(reportA).startsWith("<!DOCTYPE html>").contains("<h2>Slowest partitions</h2>")
        .contains("id=\"finish-reasons\"").doesNotContain("<script");
    BatchGenJob.Summary b = run(second, out, "append");
    assertThat(b.rows()).isEqualTo(5);
    assertThat(b.generatedTokens()).isEqualTo(10);
    assertThat(spark.read().parquet(out).count()).isEqualTo(17);
    // the report is the last job's; the manifest keeps every job
    String reportB = report(b);
    assertThat(reportB).isNotEqualTo(reportA).contains("data-label=\"length\"");

    BatchGenJob.Summary c = run(second, out, "overwrite");
    assertThat(spark.read().parquet(out).count()).isEqualTo(5);
    assertThat(report(c)).isNotEqualTo(reportB);
    try (var files = java.nio.file.Files.list(Path.of(out))) {
      assertThat(files.map(f -> f.getFileName().toString())
          .filter(n -> n.endsWith(".html"))).containsExactly("_batchgen_report.html");
    }
  }

  private static String report(BatchGenJob.Summary s) {
    try {
      return java.nio.file.Files.readString(Path.of(java.net.URI.create(s.report()).getPath()));
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }
}

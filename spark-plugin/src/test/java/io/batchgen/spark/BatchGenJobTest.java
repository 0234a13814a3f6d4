package io.batchgen.spark;

import static org.assertj.core.api.Assertions.assertThat;

import io.batchgen.core.progress.JobSize;
import io.batchgen.core.progress.ProgressSnapshot;
import io.batchgen.engine.tools.CommandArgs;
import io.batchgen.spark.plugin.BatchGenDriverPlugin;
import io.batchgen.spark.progress.ProgressDisplay;
import io.batchgen.spark.sql.InputSize;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The spark-submit job's summary counts what this job did, also when it appends; each job leaves
 * its report beside the table (the last job's), which Spark's readers skip and an overwrite
 * replaces with the rest; its progress knows the input's size from the Parquet footers and, off
 * a terminal, prints plain lines.
 */
class BatchGenJobTest {
  @TempDir
  static Path dir;
  static SparkSession spark;

  @BeforeAll
  static void setUp() {
    spark = SparkSession.builder().master("local[2]").appName("batchgen-job-test")
        .config("spark.ui.enabled", "false")
        .config("spark.batchgen.progress.interval", "200ms")
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

  @Test
  void offATerminalProgressIsPlainLinesSizedByTheFootersEndingAtHundredPercent() {
    String input = dir.resolve("progress.parquet").toString();
    TestData.prompts(spark, 300).repartition(3).write().parquet(input);
    ByteArrayOutputStream buf = new ByteArrayOutputStream();
    PrintStream out = new PrintStream(buf, true, StandardCharsets.UTF_8);
    CommandArgs a = CommandArgs.parse(new String[] {"--model",
        TestData.tinyModel(dir).toString(), "--input", input, "--output",
        dir.resolve("progress-out").toString(), "--maxNewTokens", "24", "--progress", "auto"},
        BatchGenJob.options(), Set.of());

    BatchGenJob.Summary s = BatchGenJob.run(spark, a,
        BatchGenJob.display(a, ProgressDisplay.Mode.PLAIN, out));

    assertThat(s.rows()).isEqualTo(300);
    String text = buf.toString(StandardCharsets.UTF_8);
    assertThat(text).doesNotContain("\r");
    List<String> lines = text.lines().toList();
    assertThat(lines).hasSizeGreaterThanOrEqualTo(2).allMatch(l -> l.startsWith("batchgen: "));
    assertThat(lines).allMatch(l -> l.contains("/300 rows ("));
    assertThat(lines.subList(0, lines.size() - 1)).noneMatch(l -> l.contains("100%"));
    assertThat(lines.get(lines.size() - 1)).contains("300/300 rows (100%), 0 failed")
        .endsWith("done");
  }

  @Test
  void theSizeComesFromTheFootersAndPerRowCapsAreNoBound() {
    String input = dir.resolve("sized.parquet").toString();
    TestData.prompts(spark, 40).selectExpr("id", "prompt", "cast(4 as int) as max_new_tokens")
        .repartition(2).write().parquet(input);
    JobSize size = InputSize.ofParquet(spark, input, Map.of("model", TestData.tinyModel(dir).toString(),
        "maxNewTokens", "9"), spark.read().parquet(input).schema());
    assertThat(size.rows()).isEqualTo(40);
    assertThat(size.basis()).isEqualTo("Parquet footers");
    assertThat(size.promptTokens()).isPositive();
    assertThat(size.maxNewTokens()).isEqualTo(-1);
  }

  @Test
  void aDataFrameWriteLearnsItsRowsFromTheInputShuffle() {
    // Long enough (about a second of generation) for Spark's listener bus to have told the
    // write about its stages before it commits.
    TestData.prompts(spark, 120).write().format("batchgen")
        .option("model", TestData.tinyModel(dir).toString()).option("maxNewTokens", "8")
        .option("numPartitions", "2").mode("overwrite").save(dir.resolve("df-out").toString());

    ProgressSnapshot last = BatchGenDriverPlugin.active().orElseThrow().progress().lastEnded()
        .orElseThrow().snapshot();
    assertThat(last.state()).isEqualTo(ProgressSnapshot.State.COMMITTED);
    assertThat(last.rowsDone()).isEqualTo(120);
    assertThat(last.rowsTotal()).isEqualTo(120);
    assertThat(last.totalBasis()).isEqualTo("input shuffle records");
    assertThat(last.tasksDone()).isEqualTo(2);
    assertThat(last.tasks()).isEqualTo(2);
  }
}

package io.batchgen.spark.sql;

import static org.assertj.core.api.Assertions.assertThat;

import io.batchgen.spark.TestData;
import io.batchgen.spark.config.ResolvedConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.catalyst.InternalRow;
import org.apache.spark.sql.catalyst.expressions.GenericInternalRow;
import org.apache.spark.sql.connector.write.DataWriter;
import org.apache.spark.sql.connector.write.DataWriterFactory;
import org.apache.spark.sql.connector.write.WriterCommitMessage;
import org.apache.spark.unsafe.types.UTF8String;
import org.apache.spark.util.SerializableConfiguration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The commit protocol with two attempts of the same partition, as a retried or speculative task
 * produces: both write and commit their files, the driver commits one, and the output holds
 * every id once; an aborted job leaves the output folder as it was.
 */
class CommitProtocolTest {
  @TempDir
  static Path dir;
  static SparkSession spark;
  static Path model;

  @BeforeAll
  static void setUp() {
    model = TestData.tinyModel(dir);
    spark = SparkSession.builder().master("local[1]").appName("commit-protocol-test")
        .config("spark.ui.enabled", "false")
        .config("spark.plugins", "io.batchgen.spark.BatchGenPlugin").getOrCreate();
  }

  @AfterAll
  static void tearDown() {
    spark.stop();
  }

  private BatchGenBatchWrite write(String out, boolean truncate) {
    JobOptions options = JobOptions.from(ResolvedConfig.resolve(
        Map.of("model", model.toString(), "maxNewTokens", "2"), Map.of()));
    SparkPromptRows rows = SparkPromptRows.bind("test rows", TestData.promptSchema(),
        options.promptSchema());
    ResultTable table = new ResultTable(out, ResultTable.jobIdOf("0123456789abcdef"));
    table.prepare(spark.sparkContext().hadoopConfiguration(), truncate);
    return new BatchGenBatchWrite(new WriteJob(options, rows, table, null), truncate, "query-1",
        new SerializableConfiguration(spark.sparkContext().hadoopConfiguration()), List.of(),
        "sha256:test", JobReports.Start.now(), null);
  }

  private static WriterCommitMessage attempt(DataWriterFactory factory, long taskId)
      throws Exception {
    DataWriter<InternalRow> w = factory.createWriter(0, taskId);
    try {
      for (Row r : TestData.promptRows(5)) {
        w.write(new GenericInternalRow(new Object[] {r.getLong(0),
            UTF8String.fromString(r.getString(1))}));
      }
      return w.commit();
    } finally {
      w.close();
    }
  }

  private static long parquetFiles(Path out) throws Exception {
    try (Stream<Path> s = Files.list(out)) {
      return s.filter(p -> p.getFileName().toString().endsWith(".parquet")).count();
    }
  }

  @Test
  void onlyTheCommittedAttemptOfAPartitionIsPublished() throws Exception {
    String out = dir.resolve("two-attempts").toString();
    BatchGenBatchWrite write = write(out, false);
    DataWriterFactory factory = write.createBatchWriterFactory(null);
    WriterCommitMessage first = attempt(factory, 11);
    WriterCommitMessage second = attempt(factory, 12);  // a speculative copy, also finished
    assertThat(first).isNotEqualTo(second);

    write.commit(new WriterCommitMessage[] {second});

    List<Row> rows = spark.read().parquet(out).collectAsList();
    assertThat(rows).hasSize(5);
    assertThat(rows.stream().map(r -> r.getLong(0)).distinct()).hasSize(5);
    assertThat(parquetFiles(Path.of(out))).isEqualTo(1);
    assertThat(Path.of(out, "_temporary")).doesNotExist();
    assertThat(Path.of(out, "_SUCCESS")).exists();
  }

  @Test
  void anAbortedJobLeavesNothingVisibleAndKeepsCommittedTasksForAResume() throws Exception {
    Path out = dir.resolve("aborted");
    BatchGenBatchWrite write = write(out.toString(), false);
    DataWriterFactory factory = write.createBatchWriterFactory(null);
    WriterCommitMessage done = attempt(factory, 21);

    write.abort(new WriterCommitMessage[] {done});

    assertThat(Files.exists(out) ? parquetFiles(out) : 0).isZero();
    assertThat(out.resolve("_SUCCESS")).doesNotExist();
    assertThat(out.resolve("_temporary/0123456789ab/attempts")).doesNotExist();
    try (Stream<Path> kept = Files.list(out.resolve("_temporary/0123456789ab/tasks"))) {
      assertThat(kept.map(p -> p.getFileName().toString()).filter(n -> !n.endsWith(".crc")))
          .containsExactly("part-00000-0123456789ab-t21.parquet");
    }
  }
}

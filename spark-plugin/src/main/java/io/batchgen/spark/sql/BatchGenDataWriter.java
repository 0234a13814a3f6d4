package io.batchgen.spark.sql;

import io.batchgen.io.GenerationResult;
import io.batchgen.io.ParquetResultWriter;
import io.batchgen.io.PromptRequest;
import io.batchgen.io.ResultSchema;
import io.batchgen.io.RowError;
import io.batchgen.spark.runtime.ExecutorRuntimes;
import io.batchgen.spark.runtime.ModelRuntime;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.function.Consumer;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.catalyst.InternalRow;
import org.apache.spark.sql.connector.metric.CustomTaskMetric;
import org.apache.spark.sql.connector.write.DataWriter;
import org.apache.spark.sql.connector.write.WriterCommitMessage;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One write task: submits each prompt row to the executor's shared runtime as it arrives and
 * writes each result to this attempt's staging file as soon as it finishes, holding at most
 * {@code maxInflightRows} rows and one Parquet row group in memory.
 *
 * <p>Lifecycle (Spark's): {@link #write} per row on the task thread, then {@link #commit} (waits
 * for the remaining rows, closes the file) or {@link #abort} (cancels the rows still running and
 * deletes the file), then {@link #close}.
 */
final class BatchGenDataWriter implements DataWriter<InternalRow> {
  private static final Logger LOG = LoggerFactory.getLogger(BatchGenDataWriter.class);

  private final PromptRows rows;
  private final Configuration conf;
  private final Path file;
  private final PartitionGenerator generator;
  private final ParquetResultWriter writer;
  private final Consumer<GenerationResult> sink;
  private final long startNanos = System.nanoTime();
  private long rowNumber;

  BatchGenDataWriter(JobOptions options, PromptRows rows, String stagingDir, Configuration conf,
      int partitionId, long taskId) {
    this.rows = rows;
    this.conf = conf;
    this.file = new Path(stagingDir, String.format("part-%05d-%d.parquet", partitionId, taskId));
    ModelRuntime runtime = ExecutorRuntimes.acquire(options.engine());
    this.generator = new PartitionGenerator(options, runtime, "w" + taskId);
    this.writer = ParquetResultWriter.open(file, conf,
        new ResultSchema(rows.idType(), options.includeTokenIds()));
    this.sink = writer::write;
  }

  @Override
  public void write(InternalRow row) throws IOException {
    Object read = rows.read(row, rowNumber++);
    try {
      if (read instanceof RowError error) {
        generator.reject(error);
        generator.drain(sink);
      } else {
        generator.submit((PromptRequest) read, sink);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("batchgen write task interrupted", e);
    }
  }

  @Override
  public WriterCommitMessage commit() throws IOException {
    try {
      generator.finish(sink);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("batchgen write task interrupted while finishing", e);
    }
    writer.close();
    LOG.info("batchgen task wrote {} rows ({} failed), {} tokens generated, to {}",
        writer.rowsWritten(), generator.failedRows(), generator.generatedTokens(),
        file.getName());
    return new TaskCommit(file.getName(), writer.rowsWritten(), generator.failedRows(),
        generator.promptTokens(), generator.generatedTokens());
  }

  @Override
  public void abort() throws IOException {
    generator.close();
    try {
      writer.close();
    } catch (RuntimeException e) {
      LOG.debug("Closing the aborted result file {} failed: {}", file, e.toString());
    }
    try {
      file.getFileSystem(conf).delete(file, false);
    } catch (IOException e) {
      throw new UncheckedIOException("Could not delete aborted result file " + file, e);
    }
  }

  @Override
  public void close() {
    generator.close();
  }

  @Override
  public CustomTaskMetric[] currentMetricsValues() {
    return generator.metricsValues(System.nanoTime() - startNanos);
  }
}

package io.batchgen.spark.sql;

import io.batchgen.io.BadRowPolicy;
import io.batchgen.io.GenerationResult;
import io.batchgen.io.ParquetResultWriter;
import io.batchgen.io.PromptBatch;
import io.batchgen.io.PromptRequest;
import io.batchgen.io.ResultSchema;
import io.batchgen.io.RowError;
import io.batchgen.spark.plugin.ExecutorRuntimeHost;
import io.batchgen.spark.plugin.RunningTasks;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.function.Consumer;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.RootAllocator;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;
import org.apache.spark.TaskContext;
import org.apache.spark.sql.catalyst.InternalRow;
import org.apache.spark.sql.connector.metric.CustomTaskMetric;
import org.apache.spark.sql.connector.write.DataWriter;
import org.apache.spark.sql.connector.write.WriterCommitMessage;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One write task: reads its rows (sorted by id) through arrow-io's row assembly in small Arrow
 * batches, skips the ids an earlier run finished (resume), turns repeated ids into one error row
 * each, submits the rest to the executor's shared runtime, and writes each result to this
 * attempt's file as soon as it finishes, holding at most {@code maxInflightRows} rows and one
 * Parquet row group in memory.
 *
 * <p>Lifecycle (Spark's): {@link #write} per row on the task thread, then {@link #commit} (waits
 * for the remaining rows, closes the file and makes it durable, see {@link ResultTable}) or
 * {@link #abort} (cancels the rows still running and deletes the file), then {@link #close}.
 */
final class BatchGenDataWriter implements DataWriter<InternalRow> {
  private static final Logger LOG = LoggerFactory.getLogger(BatchGenDataWriter.class);
  /** Rows per Arrow batch: small, so rows reach the runtime without waiting for many more. */
  private static final int BATCH_ROWS = 64;

  private final WriteJob job;
  private final Configuration conf;
  private final Path file;
  private final BufferAllocator allocator;
  private final SparkPromptRows.Reader reader;
  private final DuplicateIdGuard guard;
  private final PartitionGenerator generator;
  private final ParquetResultWriter writer;
  private final Consumer<GenerationResult> sink;
  private final long startNanos = System.nanoTime();
  private final int partitionId;
  private final String executorId;
  /** This attempt's entry in the executor's progress reports; closed when the task ends. */
  private final RunningTasks.Registration progressRegistration;
  private long skippedDone;
  private long stopRows;
  private long lengthRows;
  private final java.util.List<String> sampleErrors = new java.util.ArrayList<>();

  BatchGenDataWriter(WriteJob job, Configuration conf, int partitionId, long taskId) {
    this.job = job;
    this.conf = conf;
    this.file = job.table().attemptFile(partitionId, taskId);
    this.partitionId = partitionId;
    this.executorId = ExecutorRuntimeHost.get().executorId();
    String source = "the DataFrame being written (partition " + partitionId + ")";
    JobOptions options = job.options();
    this.allocator = new RootAllocator();
    PartitionGenerator gen = null;
    ParquetResultWriter opened = null;
    SparkPromptRows.Reader rowReader = null;
    try {
      // Rows arrive sorted by id, so repeated ids are adjacent: the guard finds them with
      // constant memory, and the reader's per-task hash set is not needed. Bad rows come back
      // as errors whatever onError says: the generator applies it, with the Spark wording.
      rowReader = job.rows().reader(source, allocator, BadRowPolicy.ERROR_RECORD, false);
      gen = new PartitionGenerator(options, ExecutorRuntimeHost.get().runtime(), "w" + taskId,
          source);
      opened = ParquetResultWriter.open(file, conf,
          new ResultSchema(job.rows().idType(), options.includeTokenIds()));
    } catch (RuntimeException e) {
      if (rowReader != null) {
        rowReader.close();
      }
      if (gen != null) {
        gen.close();
      }
      allocator.close();
      throw e;
    }
    this.generator = gen;
    this.reader = rowReader;
    this.writer = opened;
    TaskContext task = TaskContext.get();
    this.progressRegistration = ExecutorRuntimeHost.get().tasks().register(
        new RunningTasks.Key(job.table().jobId(), task == null ? -1 : task.stageId(),
            partitionId, taskId), generator.tally());
    this.sink = this::record;
    this.guard = new DuplicateIdGuard(source, options.idColumn(), options.requestLines(),
        new PromptBatch.RowVisitor() {
      @Override
      public void request(long rowNumber, PromptRequest request) {
        try {
          generator.submit(rowNumber, request, sink);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw new IllegalStateException("batchgen write task interrupted", e);
        }
      }

      @Override
      public void error(RowError error) {
        generator.reject(error);
        try {
          generator.drain(sink);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw new IllegalStateException("batchgen write task interrupted", e);
        }
      }
    });
  }

  @Override
  public void write(InternalRow row) {
    DoneIds done = job.doneIds();
    if (done != null && done.contains(job.rows().idText(row))) {
      skippedDone++;
      generator.tally().skipped();
      return;
    }
    reader.add(row);
    if (reader.pending() >= BATCH_ROWS) {
      reader.flush().forEachRow(guard);
    }
  }

  /** Writes one result and counts it for the job report. */
  private void record(GenerationResult r) {
    switch (r.finishReason()) {
      case STOP -> stopRows++;
      case LENGTH -> lengthRows++;
      default -> {
        if (sampleErrors.size() < TaskCommit.SAMPLE_ERRORS && r.error() != null) {
          sampleErrors.add(r.error().length() <= TaskCommit.ERROR_CHARS ? r.error()
              : r.error().substring(0, TaskCommit.ERROR_CHARS) + "…");
        }
      }
    }
    writer.write(r);
  }

  @Override
  public WriterCommitMessage commit() throws IOException {
    if (reader.pending() > 0) {
      reader.flush().forEachRow(guard);
    }
    guard.flush();
    try {
      generator.finish(sink);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("batchgen write task interrupted while finishing", e);
    }
    writer.close();
    // the driver's job report then sees this executor's counters with this task's work in them
    ExecutorRuntimeHost.get().reportLoadNow();
    String name = job.table().commitTask(file, conf);
    LOG.info("batchgen task wrote {} rows ({} failed, {} skipped as done), {} tokens generated,"
        + " to {}", writer.rowsWritten(), generator.failedRows(), skippedDone,
        generator.generatedTokens(), name);
    return new TaskCommit(name, partitionId, writer.rowsWritten(), generator.failedRows(),
        skippedDone, generator.promptTokens(), generator.generatedTokens(),
        generator.tally().counts(), executorId, (System.nanoTime() - startNanos) / 1e9,
        stopRows, lengthRows, sampleErrors);
  }

  @Override
  public void abort() throws IOException {
    progressRegistration.close();
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
    progressRegistration.close();
    generator.close();
    reader.close();
    allocator.close();
  }

  @Override
  public CustomTaskMetric[] currentMetricsValues() {
    return generator.metricsValues(System.nanoTime() - startNanos);
  }
}

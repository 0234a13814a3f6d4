package io.batchgen.spark.sql;

import io.batchgen.io.BadRowPolicy;
import io.batchgen.io.GenerationResult;
import io.batchgen.io.IdType;
import io.batchgen.io.OpenAiBatchDataset;
import io.batchgen.io.OpenAiBatchReader;
import io.batchgen.io.ParquetPromptReader;
import io.batchgen.io.PromptBatch;
import io.batchgen.io.PromptDataset;
import io.batchgen.io.PromptRequest;
import io.batchgen.io.PromptSchema;
import io.batchgen.io.RowError;
import io.batchgen.spark.plugin.ExecutorRuntimeHost;
import java.io.IOException;
import java.util.ArrayDeque;
import java.util.HashSet;
import java.util.Iterator;
import java.util.Set;
import java.util.function.Consumer;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;
import org.apache.spark.TaskContext;
import org.apache.spark.sql.catalyst.InternalRow;
import org.apache.spark.sql.connector.metric.CustomTaskMetric;
import org.apache.spark.sql.connector.read.PartitionReader;

/**
 * One read task: streams its slices of the prompt files into the executor's shared runtime and
 * returns each completion as soon as it finishes (so rows come back in finishing order), holding
 * at most {@code maxInflightRows} rows in flight.
 */
final class BatchGenPartitionReader implements PartitionReader<InternalRow> {
  private static final int READ_BATCH_ROWS = 256;

  private final JobOptions options;
  private final IdType idType;
  private final Configuration conf;
  private final Iterator<PromptSlice> slices;
  private final PartitionGenerator generator;
  private final RepeatedIds repeated;
  private final ArrayDeque<GenerationResult> ready = new ArrayDeque<>();
  private final Consumer<GenerationResult> sink = ready::add;
  private final long startNanos = System.nanoTime();
  private final Set<Long> errorRows = new HashSet<>();
  private ParquetPromptReader reader;
  private PromptSlice slice;
  private long row;
  private long itemRow;
  private long batchEnd;
  private Iterator<PromptRequest> requests;
  private Iterator<RowError> errors;
  /** The open JSONL slice's reader, and what it read but this reader has not handed out. */
  private OpenAiBatchDataset.Opened lines;
  private final ArrayDeque<Object[]> lineItems = new ArrayDeque<>();
  private boolean linesDone;
  private boolean finished;
  private InternalRow current;

  BatchGenPartitionReader(JobOptions options, IdType idType, PromptPartition partition,
      Configuration conf, RepeatedIds repeated) {
    this.options = options;
    this.idType = idType;
    this.conf = conf;
    this.repeated = repeated;
    this.slices = partition.slices().iterator();
    TaskContext task = TaskContext.get();
    String scope = "r" + (task == null ? System.identityHashCode(this) : task.taskAttemptId());
    this.generator = new PartitionGenerator(options, ExecutorRuntimeHost.get().runtime(), scope,
        "prompts partition " + partition.index());
  }

  @Override
  public boolean next() throws IOException {
    try {
      while (ready.isEmpty()) {
        Object in = nextInput();
        if (in == null) {
          if (finished) {
            return false;
          }
          generator.finish(sink);
          finished = true;
        } else if (in instanceof RowError error) {
          generator.reject(error);
          generator.drain(sink);
        } else {
          generator.submit(slice.file(), itemRow, (PromptRequest) in, sink);
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("batchgen read task interrupted", e);
    }
    current = ResultRows.toRow(ready.poll(), idType, options.includeTokenIds());
    return true;
  }

  @Override
  public InternalRow get() {
    return current;
  }

  /**
   * The next request or row error of this partition's slices, in row order, or null when all are
   * read. Slices are sorted by file and row, so one pass of one reader per file serves them all
   * (a JSONL slice starts its own reader at its first line's byte).
   */
  private Object nextInput() {
    while (true) {
      if (slice == null || (slice.lines() ? linesDone : row >= slice.rowEnd())) {
        if (!slices.hasNext()) {
          return null;
        }
        PromptSlice next = slices.next();
        if (next.lines()) {
          openLines(next);
        } else if (reader == null || slice == null || !next.file().equals(slice.file())
            || next.rowStart() < row) {
          openFile(next.file());
        }
        slice = next;
      }
      Object item;
      long at;
      if (slice.lines()) {
        Object[] next = nextLine();
        if (next == null) {
          continue;
        }
        at = (Long) next[0];
        item = next[1];
      } else {
        item = nextRowOfFile();
        if (item == null) {
          throw new IllegalStateException("Prompt file [" + slice.file() + "] ended at row " + row
              + " but the plan expected rows up to " + slice.rowEnd() + "; was it changed while "
              + "the job ran?");
        }
        at = row++;
        if (at < slice.rowStart()) {
          continue;
        }
      }
      String id = item instanceof RowError e ? e.id() : ((PromptRequest) item).id();
      if (repeated.repeated(id)) {
        if (!repeated.isFirst(id, slice.file(), at)) {
          continue; // a later copy: its id's first copy carries the error row
        }
        RepeatedIds.First first = repeated.first().get(id);
        item = new RowError(slice.file(), at, id, slice.lines() ? OpenAiBatchReader.CUSTOM_ID
            : options.idColumn(), DuplicateIdGuard.duplicateMessage(id, first.copies()),
            slice.lines());
      }
      itemRow = at;
      return item;
    }
  }

  private void openLines(PromptSlice next) {
    closeReader();
    lines = OpenAiBatchDataset.open(next.file(), conf).openReader(new Path(next.file()),
        next.byteOffset(), next.rowStart(), BadRowPolicy.ERROR_RECORD);
    linesDone = false;
  }

  /** The next {line, request or row error} of the open JSONL slice; null at its end. */
  private Object[] nextLine() {
    while (lineItems.isEmpty()) {
      PromptBatch batch = lines.reader().next(READ_BATCH_ROWS, slice.rowEnd());
      if (batch == null) {
        linesDone = true;
        closeReader();
        return null;
      }
      batch.forEachRow(new PromptBatch.RowVisitor() {
        @Override
        public void request(long rowNumber, PromptRequest request) {
          lineItems.add(new Object[] {rowNumber, request});
        }

        @Override
        public void error(RowError error) {
          lineItems.add(new Object[] {error.rowNumber(), error});
        }
      });
    }
    return lineItems.poll();
  }

  private void openFile(String file) {
    closeReader();
    // Repeated ids were found dataset-wide before the read (RepeatedIds): no per-file hash set.
    PromptSchema schema = options.promptSchema().withDuplicateIdCheck(false);
    // Bad rows come back as errors whatever onError says: the generator applies it.
    reader = PromptDataset.open(file, conf).openReader(schema, BadRowPolicy.ERROR_RECORD,
        READ_BATCH_ROWS);
    row = 0;
    batchEnd = 0;
  }

  /** The item at {@link #row} of the open file: a request or a row error; null at the end. */
  private Object nextRowOfFile() {
    while (row >= batchEnd) {
      PromptBatch batch = reader.next();
      if (batch == null) {
        return null;
      }
      errorRows.clear();
      for (RowError e : batch.errors()) {
        errorRows.add(e.rowNumber());
      }
      requests = batch.requests().iterator();
      errors = batch.errors().iterator();
      batchEnd += batch.rowCount();
    }
    return errorRows.contains(row) ? errors.next() : requests.next();
  }

  private void closeReader() {
    if (reader != null) {
      reader.close();
      reader = null;
    }
    if (lines != null) {
      lines.close();
      lines = null;
    }
  }

  @Override
  public CustomTaskMetric[] currentMetricsValues() {
    return generator.metricsValues(System.nanoTime() - startNanos);
  }

  @Override
  public void close() {
    generator.close();
    closeReader();
  }
}

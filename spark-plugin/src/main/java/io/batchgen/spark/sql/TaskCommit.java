package io.batchgen.spark.sql;

import io.batchgen.core.progress.TaskCounts;
import java.util.List;
import org.apache.spark.sql.connector.write.WriterCommitMessage;

/**
 * What a write task reports when it commits: the file it made durable under its job's staging
 * folder (see {@link ResultTable}), its counts, and what the job report shows of it.
 *
 * @param file            file name
 * @param partition       the partition the task wrote
 * @param rows            result rows in the file
 * @param failedRows      of which failed (onError=record)
 * @param skippedRows     input rows skipped because an earlier run finished them (resume)
 * @param promptTokens    prompt tokens processed
 * @param generatedTokens completion tokens generated
 * @param progress        the task's final counts for the job's progress
 * @param executor        the executor that ran it
 * @param seconds         from the task's start to its commit
 * @param stopRows        rows that finished with reason stop
 * @param lengthRows      rows that finished with reason length
 * @param sampleErrors    the first few failed rows' errors (no prompt text)
 */
public record TaskCommit(String file, int partition, long rows, long failedRows,
    long skippedRows, long promptTokens, long generatedTokens, TaskCounts progress,
    String executor, double seconds, long stopRows, long lengthRows, List<String> sampleErrors)
    implements WriterCommitMessage {

  /** Errors a task keeps for the report, each cut to {@link #ERROR_CHARS} characters. */
  static final int SAMPLE_ERRORS = 3;
  static final int ERROR_CHARS = 500;

  public TaskCommit {
    sampleErrors = List.copyOf(sampleErrors);
  }
}

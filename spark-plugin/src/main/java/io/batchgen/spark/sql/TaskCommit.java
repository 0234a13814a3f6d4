package io.batchgen.spark.sql;

import io.batchgen.core.progress.TaskCounts;
import org.apache.spark.sql.connector.write.WriterCommitMessage;

/**
 * What a write task reports when it commits: the file it made durable under its job's staging
 * folder (see {@link ResultTable}), and its counts.
 *
 * @param file            file name
 * @param partition       the partition the task wrote
 * @param rows            result rows in the file
 * @param failedRows      of which failed (onError=record)
 * @param skippedRows     input rows skipped because an earlier run finished them (resume)
 * @param promptTokens    prompt tokens processed
 * @param generatedTokens completion tokens generated
 * @param progress        the task's final counts for the job's progress
 */
public record TaskCommit(String file, int partition, long rows, long failedRows,
    long skippedRows, long promptTokens, long generatedTokens, TaskCounts progress)
    implements WriterCommitMessage {
}

package io.batchgen.spark.sql;

import org.apache.spark.sql.connector.write.WriterCommitMessage;

/**
 * What a write task reports when it commits: the file it made durable under its job's staging
 * folder (see {@link ResultTable}), and its counts.
 *
 * @param file            file name
 * @param rows            result rows in the file
 * @param failedRows      of which failed (onError=record)
 * @param skippedRows     input rows skipped because an earlier run finished them (resume)
 * @param promptTokens    prompt tokens processed
 * @param generatedTokens completion tokens generated
 */
public record TaskCommit(String file, long rows, long failedRows, long skippedRows,
    long promptTokens, long generatedTokens) implements WriterCommitMessage {
}

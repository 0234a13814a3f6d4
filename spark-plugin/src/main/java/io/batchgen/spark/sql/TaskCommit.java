package io.batchgen.spark.sql;

import org.apache.spark.sql.connector.write.WriterCommitMessage;

/**
 * What a write task reports when it commits: the file it wrote under the job's staging folder,
 * and its counts.
 *
 * @param file            file name within the staging folder
 * @param rows            result rows in the file
 * @param failedRows      of which failed (onError=record)
 * @param promptTokens    prompt tokens processed
 * @param generatedTokens completion tokens generated
 */
public record TaskCommit(String file, long rows, long failedRows, long promptTokens,
    long generatedTokens) implements WriterCommitMessage {
}

/**
 * Whole-job progress on the driver and on the command line: the {@link
 * io.batchgen.spark.progress.ProgressBoard} (owned by the driver plugin) keeps one {@link
 * io.batchgen.core.progress.JobProgress} per running batchgen write, fed by the executors' task
 * reports, the write's task commits and a Spark listener (failed attempts, lost executors, the
 * input shuffle's record count); {@link io.batchgen.spark.progress.ProgressDisplay} shows it on a
 * terminal or as plain lines.
 */
package io.batchgen.spark.progress;

/**
 * Whole-job progress as plain, Spark-free values: how many rows a job has, how many are done
 * (each row counted once, whatever task attempts ran it), how much work is left in tokens, the
 * measured throughput, and the ETA that follows. Executors keep a {@link
 * io.batchgen.core.progress.TaskTally} per task; the driver folds the tallies' {@link
 * io.batchgen.core.progress.TaskCounts} into one {@link io.batchgen.core.progress.JobProgress};
 * {@link io.batchgen.core.progress.ProgressLine} renders its snapshots for people.
 */
package io.batchgen.core.progress;

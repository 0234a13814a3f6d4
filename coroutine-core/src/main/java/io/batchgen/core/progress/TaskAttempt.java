package io.batchgen.core.progress;

/**
 * One attempt of a task: which partition it computes, its attempt id (unique in the
 * application, Spark's task id) and where it runs.
 */
public record TaskAttempt(int partition, long attemptId, String executorId) {
}

package io.batchgen.core.progress;

import java.io.Serializable;

/**
 * What one task attempt has done so far, as its executor reports it (and, final, as its commit
 * message carries it).
 *
 * @param finished    rows with a result (written or failed), and their tokens
 * @param leading     of those, the rows none of whose predecessors (in the order the task
 *                    submitted them) is still running: an unbiased sample of the task's rows,
 *                    where {@code finished} over-represents short outputs while long ones run
 * @param failedRows  of the finished rows, those that failed
 * @param skippedRows rows skipped without work because an earlier run finished them (resume)
 * @param inFlightRows rows submitted and not finished
 * @param inFlightTokens positions those rows have processed on this executor so far (prompt
 *                    positions prefilled, tokens fed back): work done that {@code finished}
 *                    counts only once they finish. A row migrated away counts again when its
 *                    result is back.
 */
public record TaskCounts(RowSample finished, RowSample leading, long failedRows,
    long skippedRows, long inFlightRows, long inFlightTokens) implements Serializable {
  public static final TaskCounts NONE =
      new TaskCounts(RowSample.NONE, RowSample.NONE, 0, 0, 0, 0);

  /** Counts with nothing known of the work done on the rows in flight. */
  public TaskCounts(RowSample finished, RowSample leading, long failedRows, long skippedRows,
      long inFlightRows) {
    this(finished, leading, failedRows, skippedRows, inFlightRows, 0);
  }

  /** Input rows this attempt is done with: finished or skipped. */
  public long rowsDone() {
    return finished.rows() + skippedRows;
  }
}

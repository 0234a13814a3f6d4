package io.batchgen.core.progress;

/**
 * What a job's planner knows of its size before any row runs.
 *
 * @param rows           input rows; -1 when not known at planning (a DataFrame that is not a
 *                       plain Parquet scan)
 * @param promptTokens   estimated prompt tokens of all rows; -1 when unknown
 * @param maxNewTokens   the most tokens a row may generate (the job's max_new_tokens); -1 when
 *                       rows set their own
 * @param basis          where {@code rows} comes from, for people ("Parquet footers")
 */
public record JobSize(long rows, long promptTokens, long maxNewTokens, String basis) {
  /** Nothing known yet. */
  public static final JobSize UNKNOWN = new JobSize(-1, -1, -1, "unknown");

  public boolean rowsKnown() {
    return rows >= 0;
  }

  /** Upper bound of the tokens the job generates; -1 when unknown. */
  public long maxOutputTokens() {
    return rows < 0 || maxNewTokens < 0 ? -1 : rows * maxNewTokens;
  }

  /** The same size with {@code rows} learned later (e.g. from Spark's shuffle records). */
  public JobSize withRows(long knownRows, String from) {
    return new JobSize(knownRows, promptTokens, maxNewTokens, from);
  }
}

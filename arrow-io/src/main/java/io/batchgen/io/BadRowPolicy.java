package io.batchgen.io;

/** What a reader does with a row it cannot turn into a {@link PromptRequest}. */
public enum BadRowPolicy {
  /** Throw a {@link BadInputException} naming the row, the column and the fix (the default). */
  FAIL,
  /**
   * Keep going and report the row as a {@link RowError} in the batch, so that the caller writes
   * an error result for it ({@link GenerationResult#failed}). Nothing is dropped silently.
   */
  ERROR_RECORD
}

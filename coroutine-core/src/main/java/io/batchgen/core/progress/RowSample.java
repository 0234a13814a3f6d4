package io.batchgen.core.progress;

import java.io.Serializable;

/**
 * A group of finished rows and the tokens they took.
 *
 * @param rows         rows in the group
 * @param promptTokens their prompt tokens
 * @param outputTokens their generated tokens
 */
public record RowSample(long rows, long promptTokens, long outputTokens) implements Serializable {
  public static final RowSample NONE = new RowSample(0, 0, 0);

  public RowSample plus(RowSample o) {
    return new RowSample(rows + o.rows, promptTokens + o.promptTokens,
        outputTokens + o.outputTokens);
  }

  /** Prompt and generated tokens together: the work the rows took. */
  public long tokens() {
    return promptTokens + outputTokens;
  }

  /** Tokens per row; 0 for an empty group. */
  public double tokensPerRow() {
    return rows == 0 ? 0 : tokens() / (double) rows;
  }
}

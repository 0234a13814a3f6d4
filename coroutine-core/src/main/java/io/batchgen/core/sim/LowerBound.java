package io.batchgen.core.sim;

import io.batchgen.core.runtime.RuntimeConfig;

/**
 * The completion-time bound of {@code bench rebalance}: no placement finishes before every
 * executor has done an equal share of the work at full-batch efficiency, nor before the longest
 * sequence has run its own steps one after another.
 *
 * <p><b>Full-batch efficiency</b> comes from the {@link CostModel} and the runtime's limits, for
 * an executor holding all the sequences it may ({@code maxRunningSequences}). A prompt position
 * costs its share of attention calls of {@code maxAttentionRows} rows (the most one call takes)
 * and of expert calls holding an even share of every held sequence's prefill chunk (up to
 * {@code maxExpertRows}); a generated position its share of attention calls of
 * {@code min(maxRunningSequences, maxAttentionRows)} decode rows and of expert calls with an
 * even share of those; a sampled token its share of an LM head call of
 * {@code min(maxRunningSequences, maxLmHeadRows)} rows. Attention's reads of cached positions do
 * not batch and are counted exactly per row. This is an executor's efficiency when full, as the
 * issue defines the bound; a schedule beats it only where decode rows ride in expert calls
 * filled by other sequences' prefill chunks.
 *
 * <p><b>Serial time</b> of a row: its prefill chunks and decode steps alone, each chunk's tokens
 * concentrated on the fewest experts they can reach (top-k distinct per token), so no routing
 * can make the row faster.
 *
 * @param workNanos   total work at full-batch efficiency divided by the executors
 * @param serialNanos the longest row's serial time
 * @param serialRow   that row
 */
public record LowerBound(double workNanos, double serialNanos, int serialRow) {

  /** The bound: the larger of the two. */
  public double nanos() {
    return Math.max(workNanos, serialNanos);
  }

  public static LowerBound of(Workload w, CostModel c, RuntimeConfig rc, int executors) {
    int held = rc.maxRunningSequences();
    int prefillRows = rc.maxAttentionRows();
    int decodeRows = Math.min(held, rc.maxAttentionRows());
    // Expert calls gather the rows of every attention call of their layer: all the chunks of
    // the held sequences in prefill, one row each in decode.
    double prefillExpertRows = expertRows((double) held * rc.prefillChunkTokens(), c, rc);
    double decodeExpertRows = expertRows(decodeRows, c, rc);
    double prefillToken = c.layers() * tokenNanos(c, prefillRows, prefillExpertRows);
    double decodeToken = c.layers() * tokenNanos(c, decodeRows, decodeExpertRows);
    int lmRows = Math.min(held, rc.maxLmHeadRows());
    double lmToken = c.lmHead().nanos(lmRows, 0) / lmRows;
    double perContext = c.layers() * c.attention().perContextNanos();
    int chunk = rc.prefillChunkTokens();
    double work = 0;
    double serial = 0;
    int serialRow = 0;
    for (int row = 0; row < w.rows(); row++) {
      int p = w.promptLength(row);
      int o = w.outputLength(row);
      long context = 0;
      double alone = 0;
      for (int q = 0; q < p; q += chunk) {
        int r = Math.min(chunk, p - q);
        context += q + r;
        alone += c.layers() * (c.attention().nanos(r, q + r)
            + c.topK() * c.expert().nanos(r, 0));
      }
      alone += c.lmHead().nanos(1, 0);
      // Decode steps read positions p+1 .. p+o-1.
      long decodeContext = (long) (o - 1) * (2L * p + o) / 2;
      context += decodeContext;
      alone += (o - 1) * (c.layers() * (c.attention().nanos(1, 0) + c.topK()
          * c.expert().nanos(1, 0)) + c.lmHead().nanos(1, 0))
          + perContext * decodeContext;
      work += p * prefillToken + (o - 1) * decodeToken + o * lmToken + perContext * context;
      if (alone > serial) {
        serial = alone;
        serialRow = row;
      }
    }
    return new LowerBound(work / executors, serial, serialRow);
  }

  /** Rows one expert call holds when {@code tokens} tokens spread evenly over the experts. */
  private static double expertRows(double tokens, CostModel c, RuntimeConfig rc) {
    return Math.max(1, Math.min(rc.maxExpertRows(), tokens * c.topK() / c.experts()));
  }

  /** One token's share of one layer: attention in calls of {@code attentionRows} rows, its
   * {@code topK} expert rows in calls of {@code expertRows}. Cached-position reads apart. */
  private static double tokenNanos(CostModel c, double attentionRows, double expertRows) {
    return c.attention().nanos(attentionRows, 0) / attentionRows
        + c.topK() * c.expert().nanos(expertRows, 0) / expertRows;
  }
}

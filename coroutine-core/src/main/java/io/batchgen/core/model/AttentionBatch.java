package io.batchgen.core.model;

/**
 * A reusable batch for one layer's attention module: several sequences, each contributing a run
 * of consecutive token positions (a prefill chunk, or one decode token).
 *
 * <p>For every row the module must: RMS-normalise {@link #hidden()}, project Q/K/V, apply the
 * position encoding at the row's position, write K and V into the sequence's KV blocks for this
 * layer, attend causally over every cached position up to and including its own, project out, add
 * the result into {@link #hidden()} (the residual stream, updated in place), then write the
 * post-attention RMS norm of the new residual into {@link #ffnInput()} and the layer's routing
 * decision into {@link #topExperts()} / {@link #topWeights()}.
 *
 * <p>Routing contract: {@code topK} entries per row, ordered by descending weight, ties broken by
 * the lower expert id; weights exactly as the architecture defines them (softmax then top-k,
 * renormalised only where the config says). Dense models report expert 0 with weight 1.
 *
 * <p>A segment is one sequence: rows {@code [rowStart, rowStart + rowCount)}, positions
 * {@code [position, position + rowCount)}, and its block table for this layer (block ids in
 * position order, covering at least {@code position + rowCount} positions). Positions before
 * {@code position} are already in the cache.
 *
 * <p>Not thread-safe: owned by the runtime thread, lent to the executor for one call.
 */
public final class AttentionBatch {
  private int layer;
  private int rows;
  private int hiddenSize;
  private int topK;
  private KvStore kv;
  private float[] hidden = new float[0];
  private float[] ffnInput = new float[0];
  private int[] topExperts = new int[0];
  private float[] topWeights = new float[0];

  private int segments;
  private int[] segRowStart = new int[0];
  private int[] segRowCount = new int[0];
  private int[] segPosition = new int[0];
  private int[][] segBlocks = new int[0][];

  /** Starts a new batch for {@code layer} with room for {@code rows} rows; clears the segments. */
  public AttentionBatch reset(int layer, int rows, int hiddenSize, int topK, KvStore kv) {
    this.layer = layer;
    this.rows = rows;
    this.hiddenSize = hiddenSize;
    this.topK = topK;
    this.kv = kv;
    hidden = RowBatch.ensure(hidden, (long) rows * hiddenSize);
    ffnInput = RowBatch.ensure(ffnInput, (long) rows * hiddenSize);
    topExperts = RowBatch.ensure(topExperts, rows * topK);
    topWeights = RowBatch.ensure(topWeights, (long) rows * topK);
    segments = 0;
    return this;
  }

  /**
   * Adds one sequence's run of rows. Segments must be added in row order and cover the rows
   * without gaps; {@code blocks} is referenced, not copied.
   */
  public void addSegment(int rowStart, int rowCount, int position, int[] blocks) {
    int expectedStart = segments == 0 ? 0 : segRowStart[segments - 1] + segRowCount[segments - 1];
    if (rowStart != expectedStart || rowCount <= 0 || rowStart + rowCount > rows) {
      throw new IllegalArgumentException("Segment rows [" + rowStart + ", " + (rowStart + rowCount)
          + ") do not continue the batch at row " + expectedStart + " of " + rows);
    }
    // Grow keeping the segments added so far (RowBatch.ensure does not copy).
    if (segRowStart.length < segments + 1) {
      int cap = Math.max(segments + 1, segRowStart.length * 2);
      segRowStart = java.util.Arrays.copyOf(segRowStart, cap);
      segRowCount = java.util.Arrays.copyOf(segRowCount, cap);
      segPosition = java.util.Arrays.copyOf(segPosition, cap);
    }
    if (segBlocks.length < segments + 1) {
      int[][] grown = new int[Math.max(segments + 1, segBlocks.length * 2)][];
      System.arraycopy(segBlocks, 0, grown, 0, segments);
      segBlocks = grown;
    }
    segRowStart[segments] = rowStart;
    segRowCount[segments] = rowCount;
    segPosition[segments] = position;
    segBlocks[segments] = blocks;
    segments++;
  }

  public int layer() {
    return layer;
  }

  public int rows() {
    return rows;
  }

  public int hiddenSize() {
    return hiddenSize;
  }

  public int topK() {
    return topK;
  }

  public KvStore kv() {
    return kv;
  }

  /** {@code (rows, hidden)}: in, the residual stream entering the layer; out, after attention. */
  public float[] hidden() {
    return hidden;
  }

  /** {@code (rows, hidden)}, out: post-attention RMS norm of the residual, the experts' input. */
  public float[] ffnInput() {
    return ffnInput;
  }

  /** {@code (rows, topK)}, out: routed expert ids per row. */
  public int[] topExperts() {
    return topExperts;
  }

  /** {@code (rows, topK)}, out: routing weights matching {@link #topExperts()}. */
  public float[] topWeights() {
    return topWeights;
  }

  public int segments() {
    return segments;
  }

  public int segmentRowStart(int s) {
    return segRowStart[s];
  }

  public int segmentRowCount(int s) {
    return segRowCount[s];
  }

  /** Position of the segment's first row; earlier positions are already cached. */
  public int segmentPosition(int s) {
    return segPosition[s];
  }

  /** Block table of the segment's sequence for this layer, in position order. */
  public int[] segmentBlocks(int s) {
    return segBlocks[s];
  }
}

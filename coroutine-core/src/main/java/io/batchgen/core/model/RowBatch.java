package io.batchgen.core.model;

/**
 * A reusable row-major batch for modules that map each row independently: routed experts, the
 * shared expert and the LM head. The runtime gathers the rows of all waiting sequences into
 * {@link #input()}, calls the module, and scatters {@link #output()} back.
 *
 * <p>Shapes: input {@code (rows, inWidth)}, output {@code (rows, outWidth)}. Arrays may be larger
 * than needed; only the first {@code rows} rows are meaningful. Not thread-safe: owned by the
 * runtime thread, lent to the executor for the duration of one call.
 */
public final class RowBatch {
  private int rows;
  private int inWidth;
  private int outWidth;
  private float[] input = new float[0];
  private float[] output = new float[0];

  /** Sizes the batch for {@code rows} rows, growing the arrays when needed (never shrinking). */
  public RowBatch reset(int rows, int inWidth, int outWidth) {
    if (rows < 0 || inWidth <= 0 || outWidth <= 0) {
      throw new IllegalArgumentException(
          "RowBatch needs rows >= 0 and positive widths, got rows=" + rows + ", inWidth=" + inWidth
              + ", outWidth=" + outWidth);
    }
    this.rows = rows;
    this.inWidth = inWidth;
    this.outWidth = outWidth;
    input = ensure(input, (long) rows * inWidth);
    output = ensure(output, (long) rows * outWidth);
    return this;
  }

  public int rows() {
    return rows;
  }

  public int inWidth() {
    return inWidth;
  }

  public int outWidth() {
    return outWidth;
  }

  /** {@code (rows, inWidth)} row-major. */
  public float[] input() {
    return input;
  }

  /** {@code (rows, outWidth)} row-major, written by the module. */
  public float[] output() {
    return output;
  }

  static float[] ensure(float[] a, long needed) {
    if (needed > Integer.MAX_VALUE - 8) {
      throw new IllegalArgumentException("Batch of " + needed + " floats is too large for one"
          + " module call; lower the module batch size");
    }
    return a.length >= needed ? a : new float[(int) Math.max(needed, a.length + (a.length >> 1))];
  }

  static int[] ensure(int[] a, int needed) {
    return a.length >= needed ? a : new int[Math.max(needed, a.length + (a.length >> 1))];
  }
}

package io.batchgen.core.model;

/**
 * A reusable batch for every routed expert of one layer at once: the rows of each expert lie
 * together, in the order the groups were added, so a backend can run all of them in one grouped
 * launch (see {@link ModuleExecutor#experts}). Group g covers rows
 * {@code [groupStart(g), groupStart(g) + groupRows(g))} and runs expert {@code groupExpert(g)}.
 *
 * <p>Shapes: input {@code (rows, hidden)} (post-attention norms), output {@code (rows, hidden)}
 * (expert FFN outputs, not scaled by routing weights). Not thread-safe: owned by the caller, lent
 * to the executor for one call.
 */
public final class ExpertGroups {
  private final RowBatch rows = new RowBatch();
  private int groups;
  private int[] expert = new int[0];
  private int[] start = new int[1];

  /** Starts an empty batch of width {@code hidden} for {@code capacity} rows. */
  public ExpertGroups reset(int capacity, int hidden) {
    rows.reset(capacity, hidden, hidden);
    groups = 0;
    start[0] = 0;
    return this;
  }

  /**
   * Appends a group of {@code count} rows for {@code expertId}; the caller then fills its rows of
   * {@link #input()}. Returns the group's first row.
   *
   * @throws IllegalArgumentException when the rows would pass the capacity or count is not positive
   */
  public int addGroup(int expertId, int count) {
    int first = start[groups];
    if (count <= 0 || first + count > rows.rows()) {
      throw new IllegalArgumentException("Expert group of " + count + " rows at row " + first
          + " does not fit a batch of " + rows.rows() + " rows");
    }
    if (expert.length == groups) {
      expert = java.util.Arrays.copyOf(expert, Math.max(4, groups * 2));
      start = java.util.Arrays.copyOf(start, expert.length + 1);
    }
    expert[groups] = expertId;
    start[groups + 1] = first + count;
    groups++;
    return first;
  }

  /** Rows in use: the end of the last group. */
  public int rows() {
    return start[groups];
  }

  public int hidden() {
    return rows.inWidth();
  }

  public int groups() {
    return groups;
  }

  public int groupExpert(int g) {
    return expert[g];
  }

  public int groupStart(int g) {
    return start[g];
  }

  public int groupRows(int g) {
    return start[g + 1] - start[g];
  }

  /** {@code (capacity, hidden)} row-major; rows past {@link #rows()} are ignored. */
  public float[] input() {
    return rows.input();
  }

  /** {@code (capacity, hidden)} row-major, written by the module. */
  public float[] output() {
    return rows.output();
  }
}

package io.batchgen.engine.backend.cuda;

import io.batchgen.core.model.AttentionBatch;
import java.util.Arrays;

/**
 * An attention batch's row metadata as the kernels read it, in one int array uploaded at once:
 * {@code rowPos (rows) | rowTable (rows) | tables}, where row r's position is {@code rowPos[r]}
 * and its sequence's block table starts at {@code tables[rowTable[r]]} (only the blocks the
 * segment reaches are copied).
 *
 * @param rows  rows of the batch
 * @param ints  the packed array
 */
record AttentionMeta(int rows, int[] ints) {

  static AttentionMeta of(AttentionBatch b, int blockSize) {
    int rows = b.rows();
    int tableInts = 0;
    for (int s = 0; s < b.segments(); s++) {
      tableInts += blocksNeeded(b.segmentPosition(s) + b.segmentRowCount(s), blockSize);
    }
    int[] ints = new int[2 * rows + tableInts];
    int t = 2 * rows;
    for (int s = 0; s < b.segments(); s++) {
      int need = blocksNeeded(b.segmentPosition(s) + b.segmentRowCount(s), blockSize);
      System.arraycopy(b.segmentBlocks(s), 0, ints, t, need);
      for (int i = 0; i < b.segmentRowCount(s); i++) {
        int r = b.segmentRowStart(s) + i;
        ints[r] = b.segmentPosition(s) + i;
        ints[rows + r] = t - 2 * rows;
      }
      t += need;
    }
    return new AttentionMeta(rows, ints);
  }

  private static int blocksNeeded(int positions, int blockSize) {
    return (positions + blockSize - 1) / blockSize;
  }

  int rowPosition(int r) {
    return ints[r];
  }

  /** The block holding position {@code pos} of row {@code r}'s sequence, as the kernels find it. */
  int block(int r, int pos, int blockSize) {
    return ints[2 * rows + ints[rows + r] + pos / blockSize];
  }

  @Override
  public String toString() {
    return "AttentionMeta[rows=" + rows + ", ints=" + Arrays.toString(ints) + "]";
  }
}

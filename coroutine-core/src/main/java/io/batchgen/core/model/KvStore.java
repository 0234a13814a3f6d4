package io.batchgen.core.model;

/**
 * Device (or simulated device) memory for the paged KV cache, created by a
 * {@link ModuleExecutor}. The runtime's block pool decides which block holds what; the store only
 * holds the bytes.
 *
 * <p>A block holds the keys and values of {@link #blockSize()} consecutive token positions of
 * <em>one layer</em>, so a sequence has one block table per layer and the runtime may page layers
 * independently. The copy methods move a whole block in the canonical layout
 * {@code (2, blockSize, numKvHeads, headDim)} — K first, then V — whatever layout the backend uses
 * internally, so snapshots taken on one backend restore on another.
 *
 * <p>Called from the runtime thread only. Closing frees the memory; using a closed store is an
 * error.
 */
public interface KvStore extends AutoCloseable {

  /** Blocks this store can hold. */
  int numBlocks();

  /** Token positions per block. */
  int blockSize();

  /** Floats in one block: {@code 2 * blockSize * numKvHeads * headDim}. */
  int floatsPerBlock();

  /** Copies block {@code block} into {@code dst[offset .. offset + floatsPerBlock())}. */
  void readBlock(int block, float[] dst, int offset);

  /** Overwrites block {@code block} from {@code src[offset .. offset + floatsPerBlock())}. */
  void writeBlock(int block, float[] src, int offset);

  /**
   * Writes positions {@code [from, from + count)} of {@code block}: keys from {@code k[kOff ..]},
   * values from {@code v[vOff ..]}, {@code count * kvDim} floats each (kvDim =
   * {@code floatsPerBlock() / (2 * blockSize())}); other positions keep their contents. Paging
   * a layer in from the host tier uses this. The default goes through a whole-block copy; stores
   * that can address positions directly override it.
   */
  default void writePositions(int block, int from, int count, float[] k, int kOff, float[] v,
      int vOff) {
    int kvDim = floatsPerBlock() / (2 * blockSize());
    float[] tmp = new float[floatsPerBlock()];
    readBlock(block, tmp, 0);
    System.arraycopy(k, kOff, tmp, from * kvDim, count * kvDim);
    System.arraycopy(v, vOff, tmp, (blockSize() + from) * kvDim, count * kvDim);
    writeBlock(block, tmp, 0);
  }

  /**
   * Reads positions {@code [from, from + count)} of {@code block} into {@code k[kOff ..]} and
   * {@code v[vOff ..]} (the inverse of {@link #writePositions}). The default goes through a
   * whole-block copy.
   */
  default void readPositions(int block, int from, int count, float[] k, int kOff, float[] v,
      int vOff) {
    int kvDim = floatsPerBlock() / (2 * blockSize());
    float[] tmp = new float[floatsPerBlock()];
    readBlock(block, tmp, 0);
    System.arraycopy(tmp, from * kvDim, k, kOff, count * kvDim);
    System.arraycopy(tmp, (blockSize() + from) * kvDim, v, vOff, count * kvDim);
  }

  @Override
  void close();
}

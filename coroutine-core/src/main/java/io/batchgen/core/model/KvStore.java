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

  @Override
  void close();
}

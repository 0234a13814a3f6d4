package io.batchgen.core.kv;

import io.batchgen.core.model.KvStore;

/**
 * The paged KV cache's bookkeeping: which blocks of a {@link KvStore} are free, and which belong
 * to which sequence. Blocks are per layer, all the same size; a sequence holding {@code P}
 * positions holds {@code ceil(P / blockSize)} blocks in every layer.
 *
 * <p>Memory accounting only; the policy (who is admitted, who is preempted) lives in the
 * scheduler. Allocation is all-or-nothing, so running out of blocks is a {@code false}, never an
 * out-of-memory error. Not thread-safe: used by the scheduler thread only.
 */
public final class KvBlockPool implements AutoCloseable {
  private final KvStore store;
  private final int numLayers;
  private final int blockSize;
  private final int kvDim;
  private final int[] free;
  private int freeCount;
  private int peakUsed;
  private final float[] blockScratch;

  /**
   * @param store     the memory; the pool closes it
   * @param numLayers layers of the model (one table per layer)
   * @param kvDim     {@code numKvHeads * headDim}: floats of K (and of V) per token per layer
   */
  public KvBlockPool(KvStore store, int numLayers, int kvDim) {
    if (store.floatsPerBlock() != 2 * store.blockSize() * kvDim) {
      throw new IllegalArgumentException("KV store reports " + store.floatsPerBlock()
          + " floats per block but the model needs 2 * blockSize(" + store.blockSize()
          + ") * kvDim(" + kvDim + "); the executor's createKvStore does not match its shape");
    }
    this.store = store;
    this.numLayers = numLayers;
    this.blockSize = store.blockSize();
    this.kvDim = kvDim;
    this.free = new int[store.numBlocks()];
    // Hand out low block ids first: deterministic layouts make failures reproducible.
    for (int i = 0; i < free.length; i++) {
      free[i] = free.length - 1 - i;
    }
    this.freeCount = free.length;
    this.blockScratch = new float[store.floatsPerBlock()];
  }

  public KvStore store() {
    return store;
  }

  public int blockSize() {
    return blockSize;
  }

  public int numLayers() {
    return numLayers;
  }

  public int totalBlocks() {
    return free.length;
  }

  public int freeBlocks() {
    return freeCount;
  }

  public int usedBlocks() {
    return free.length - freeCount;
  }

  public int peakUsedBlocks() {
    return peakUsed;
  }

  /** Blocks per layer that {@code positions} positions occupy. */
  public int blocksFor(int positions) {
    return (positions + blockSize - 1) / blockSize;
  }

  /** Blocks (all layers) a sequence of {@code positions} positions occupies. */
  public int totalBlocksFor(int positions) {
    return blocksFor(positions) * numLayers;
  }

  /** Extra blocks (all layers) {@code handle} needs to cover {@code positions} positions. */
  public int additionalBlocks(KvHandle handle, int positions) {
    return Math.max(0, blocksFor(positions) - handle.blocksPerLayer) * numLayers;
  }

  /**
   * Grows {@code handle} to cover {@code positions} positions in every layer. Returns false, and
   * changes nothing, when the pool has too few free blocks.
   */
  public boolean ensure(KvHandle handle, int positions) {
    int perLayer = blocksFor(positions);
    int extra = perLayer - handle.blocksPerLayer;
    if (extra <= 0) {
      return true;
    }
    if (extra * numLayers > freeCount) {
      return false;
    }
    for (int l = 0; l < numLayers; l++) {
      int[] old = handle.tables[l];
      int[] grown = new int[perLayer];
      System.arraycopy(old, 0, grown, 0, old.length);
      for (int b = old.length; b < perLayer; b++) {
        grown[b] = free[--freeCount];
      }
      handle.tables[l] = grown;
    }
    handle.blocksPerLayer = perLayer;
    peakUsed = Math.max(peakUsed, usedBlocks());
    return true;
  }

  /** Returns every block of {@code handle} to the pool. */
  public void release(KvHandle handle) {
    for (int l = 0; l < numLayers; l++) {
      int[] t = handle.tables[l];
      for (int b = t.length - 1; b >= 0; b--) {
        free[freeCount++] = t[b];
      }
      handle.tables[l] = new int[0];
    }
    handle.blocksPerLayer = 0;
  }

  /**
   * Copies positions {@code [0, positions)} of every layer out of the store, in the
   * block-size-independent layout of {@link KvLayout}.
   */
  public float[] copyOut(KvHandle handle, int positions) {
    float[] out = new float[KvLayout.floats(numLayers, positions, kvDim)];
    int blocks = blocksFor(positions);
    for (int l = 0; l < numLayers; l++) {
      for (int b = 0; b < blocks; b++) {
        store.readBlock(handle.tables[l][b], blockScratch, 0);
        KvLayout.blockToTokens(blockScratch, blockSize, kvDim, b, out, l, positions);
      }
    }
    return out;
  }

  /** Writes positions {@code [0, positions)} of every layer from {@link KvLayout} floats. */
  public void copyIn(KvHandle handle, int positions, float[] tokens) {
    if (tokens.length != KvLayout.floats(numLayers, positions, kvDim)) {
      throw new IllegalArgumentException("KV data holds " + tokens.length + " floats but "
          + positions + " positions of " + numLayers + " layers need "
          + KvLayout.floats(numLayers, positions, kvDim));
    }
    int blocks = blocksFor(positions);
    if (handle.blocksPerLayer < blocks) {
      throw new IllegalStateException("Sequence holds " + handle.blocksPerLayer
          + " blocks per layer but " + positions + " positions need " + blocks);
    }
    for (int l = 0; l < numLayers; l++) {
      for (int b = 0; b < blocks; b++) {
        java.util.Arrays.fill(blockScratch, 0f);
        KvLayout.tokensToBlock(tokens, l, positions, kvDim, b, blockScratch, blockSize);
        store.writeBlock(handle.tables[l][b], blockScratch, 0);
      }
    }
  }

  // ------------------------------------------------------------------ offload mode: one layer

  /**
   * Takes {@code blocks} blocks for a one-layer working set (KV offload mode); null, and nothing
   * taken, when too few are free.
   */
  public int[] allocateLayer(int blocks) {
    if (blocks > freeCount) {
      return null;
    }
    int[] table = new int[blocks];
    for (int b = 0; b < blocks; b++) {
      table[b] = free[--freeCount];
    }
    peakUsed = Math.max(peakUsed, usedBlocks());
    return table;
  }

  /** Returns a table from {@link #allocateLayer}. */
  public void releaseLayer(int[] table) {
    for (int b = table.length - 1; b >= 0; b--) {
      free[freeCount++] = table[b];
    }
  }

  /**
   * Writes positions {@code [0, positions)} of one layer into {@code table}'s blocks from host
   * arrays {@code k} and {@code v}, each {@code (capacity, kvDim)}.
   */
  public void loadLayer(int[] table, float[] k, float[] v, int positions) {
    for (int b = 0; b * blockSize < positions; b++) {
      int first = b * blockSize;
      int count = Math.min(blockSize, positions - first);
      store.writePositions(table[b], 0, count, k, first * kvDim, v, first * kvDim);
    }
  }

  /** Copies positions {@code [from, to)} of one layer out of {@code table}'s blocks. */
  public void saveLayer(int[] table, float[] k, float[] v, int from, int to) {
    for (int b = from / blockSize; b * blockSize < to; b++) {
      int lo = Math.max(from, b * blockSize);
      int hi = Math.min(to, (b + 1) * blockSize);
      store.readPositions(table[b], lo - b * blockSize, hi - lo, k, lo * kvDim, v, lo * kvDim);
    }
  }

  @Override
  public void close() {
    store.close();
  }
}

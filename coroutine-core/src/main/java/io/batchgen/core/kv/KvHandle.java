package io.batchgen.core.kv;

/**
 * One sequence's block tables: for every layer, the ids of the blocks holding its positions in
 * order. Every layer always has the same number of blocks. Each table array has exactly the
 * length in use, so it can be lent to an {@code AttentionBatch} as is.
 *
 * <p>Owned by the scheduler thread; changed only through {@link KvBlockPool}.
 */
public final class KvHandle {
  final int[][] tables;
  int blocksPerLayer;

  public KvHandle(int numLayers) {
    tables = new int[numLayers][];
    for (int l = 0; l < numLayers; l++) {
      tables[l] = new int[0];
    }
  }

  /** Block ids of {@code layer}, in position order; do not modify. */
  public int[] table(int layer) {
    return tables[layer];
  }

  /** Blocks held in each layer. */
  public int blocksPerLayer() {
    return blocksPerLayer;
  }

  /** Blocks held in all layers together. */
  public int totalBlocks() {
    return blocksPerLayer * tables.length;
  }
}

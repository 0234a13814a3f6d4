package io.batchgen.engine.backend;

import io.batchgen.core.model.KvStore;

/**
 * KV blocks as one float array each on the Java heap (so a store is not bounded by the 2^31
 * array limit): the bookkeeping the heap stores share. Subclasses define the layout inside a
 * block and the copies to and from the canonical one.
 */
abstract class HeapBlocks implements KvStore {
  private final float[][] blocks;
  private final int blockSize;
  private boolean closed;

  HeapBlocks(int numBlocks, int blockSize, int floatsPerBlock) {
    if (numBlocks <= 0 || blockSize <= 0) {
      throw new IllegalArgumentException("KV store needs positive numBlocks and blockSize, got "
          + numBlocks + " and " + blockSize);
    }
    this.blockSize = blockSize;
    this.blocks = new float[numBlocks][];
    for (int i = 0; i < numBlocks; i++) {
      blocks[i] = new float[floatsPerBlock];
    }
  }

  @Override
  public final int numBlocks() {
    return blocks.length;
  }

  @Override
  public final int blockSize() {
    return blockSize;
  }

  /** The block's array, for the executors of this package. */
  final float[] block(int id) {
    if (closed) {
      throw new IllegalStateException("KV store is closed");
    }
    if (id < 0 || id >= blocks.length) {
      throw new IllegalArgumentException("KV block " + id + " is outside [0, " + blocks.length
          + ")");
    }
    return blocks[id];
  }

  @Override
  public void close() {
    closed = true;
    java.util.Arrays.fill(blocks, null);
  }
}

package io.batchgen.engine.backend;

import io.batchgen.core.model.KvStore;

/**
 * KV blocks on the Java heap, already in the canonical layout {@code (2, blockSize, kvHeads,
 * headDim)}: K of slot s, head h at {@code (s * kvHeads + h) * headDim}, V at the same offset plus
 * {@link #vOffset()}. One array per block, so the store is not bounded by the 2^31 array limit.
 */
final class HeapKvStore implements KvStore {
  private final float[][] blocks;
  private final int blockSize;
  private final int floatsPerBlock;
  private final int vOffset;
  private boolean closed;

  HeapKvStore(int numBlocks, int blockSize, int kvHeads, int headDim) {
    if (numBlocks <= 0 || blockSize <= 0) {
      throw new IllegalArgumentException("KV store needs positive numBlocks and blockSize, got "
          + numBlocks + " and " + blockSize);
    }
    this.blockSize = blockSize;
    this.vOffset = blockSize * kvHeads * headDim;
    this.floatsPerBlock = 2 * vOffset;
    this.blocks = new float[numBlocks][];
    for (int i = 0; i < numBlocks; i++) {
      blocks[i] = new float[floatsPerBlock];
    }
  }

  @Override
  public int numBlocks() {
    return blocks.length;
  }

  @Override
  public int blockSize() {
    return blockSize;
  }

  @Override
  public int floatsPerBlock() {
    return floatsPerBlock;
  }

  int vOffset() {
    return vOffset;
  }

  /** The block's array, for the executors of this package. */
  float[] block(int id) {
    check(id);
    return blocks[id];
  }

  @Override
  public void readBlock(int block, float[] dst, int offset) {
    System.arraycopy(block(block), 0, dst, offset, floatsPerBlock);
  }

  @Override
  public void writeBlock(int block, float[] src, int offset) {
    System.arraycopy(src, offset, block(block), 0, floatsPerBlock);
  }

  @Override
  public void writePositions(int block, int from, int count, float[] k, int kOff, float[] v,
      int vOff) {
    float[] b = block(block);
    int kvDim = vOffset / blockSize();
    System.arraycopy(k, kOff, b, from * kvDim, count * kvDim);
    System.arraycopy(v, vOff, b, vOffset + from * kvDim, count * kvDim);
  }

  @Override
  public void readPositions(int block, int from, int count, float[] k, int kOff, float[] v,
      int vOff) {
    float[] b = block(block);
    int kvDim = vOffset / blockSize();
    System.arraycopy(b, from * kvDim, k, kOff, count * kvDim);
    System.arraycopy(b, vOffset + from * kvDim, v, vOff, count * kvDim);
  }

  private void check(int id) {
    if (closed) {
      throw new IllegalStateException("KV store is closed");
    }
    if (id < 0 || id >= blocks.length) {
      throw new IllegalArgumentException("KV block " + id + " is outside [0, " + blocks.length
          + ")");
    }
  }

  @Override
  public void close() {
    closed = true;
    java.util.Arrays.fill(blocks, null);
  }
}

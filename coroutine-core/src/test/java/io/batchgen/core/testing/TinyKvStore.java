package io.batchgen.core.testing;

import io.batchgen.core.model.KvStore;

/** Heap KV blocks in the canonical layout {@code (2, blockSize, kvDim)}. */
public final class TinyKvStore implements KvStore {
  private final float[][] blocks;
  private final int blockSize;
  private final int kvDim;
  private boolean closed;

  TinyKvStore(int numBlocks, int blockSize, int kvDim) {
    this.blocks = new float[numBlocks][2 * blockSize * kvDim];
    this.blockSize = blockSize;
    this.kvDim = kvDim;
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
    return 2 * blockSize * kvDim;
  }

  @Override
  public void readBlock(int block, float[] dst, int offset) {
    check();
    System.arraycopy(blocks[block], 0, dst, offset, floatsPerBlock());
  }

  @Override
  public void writeBlock(int block, float[] src, int offset) {
    check();
    System.arraycopy(src, offset, blocks[block], 0, floatsPerBlock());
  }

  /** Key of {@code pos % blockSize} in {@code block}: {@code (kvDim)} at the returned offset. */
  float[] block(int block) {
    check();
    return blocks[block];
  }

  int keyOffset(int slot) {
    return slot * kvDim;
  }

  int valueOffset(int slot) {
    return (blockSize + slot) * kvDim;
  }

  boolean closed() {
    return closed;
  }

  private void check() {
    if (closed) {
      throw new IllegalStateException("KV store used after close");
    }
  }

  @Override
  public void close() {
    closed = true;
  }
}

package io.batchgen.engine.backend;

/**
 * KV blocks on the Java heap, already in the canonical layout {@code (2, blockSize, kvHeads,
 * headDim)}: K of slot s, head h at {@code (s * kvHeads + h) * headDim}, V at the same offset plus
 * {@link #vOffset()}. One array per block, so the store is not bounded by the 2^31 array limit.
 */
final class HeapKvStore extends HeapBlocks {
  private final int floatsPerBlock;
  private final int vOffset;

  HeapKvStore(int numBlocks, int blockSize, int kvHeads, int headDim) {
    super(numBlocks, blockSize, 2 * blockSize * kvHeads * headDim);
    this.vOffset = blockSize * kvHeads * headDim;
    this.floatsPerBlock = 2 * vOffset;
  }

  @Override
  public int floatsPerBlock() {
    return floatsPerBlock;
  }

  int vOffset() {
    return vOffset;
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
}

package io.batchgen.engine.backend.cuda;

import io.batchgen.core.model.KvStore;
import jcuda.driver.CUdeviceptr;

/**
 * The cuda backend's KV blocks in device memory, one allocation for all of them, each block in
 * the canonical layout {@code (2, blockSize, kvHeads, headDim)} fp32, so the {@link KvStore}
 * copies (the host tier parks and restores sequences through them, snapshots read them) are
 * plain memory copies and blocks move between backends unchanged.
 *
 * <p>Called from the runtime thread, between module calls.
 */
final class CudaKvStore implements KvStore {
  private final CudaDevice device;
  private final CUdeviceptr base;
  private final int numBlocks;
  private final int blockSize;
  private final int kvDim;
  private boolean closed;

  CudaKvStore(CudaDevice device, int numBlocks, int blockSize, int kvDim) {
    if (numBlocks <= 0 || blockSize <= 0) {
      throw new IllegalArgumentException("KV store needs positive numBlocks and blockSize, got "
          + numBlocks + " and " + blockSize);
    }
    this.device = device;
    this.numBlocks = numBlocks;
    this.blockSize = blockSize;
    this.kvDim = kvDim;
    this.base = device.alloc(bytesPerBlock(blockSize, kvDim) * numBlocks,
        "KV cache of " + numBlocks + " blocks");
  }

  /** Device bytes of one block of {@code blockSize} positions. */
  static long bytesPerBlock(int blockSize, int kvDim) {
    return 4L * 2 * blockSize * kvDim;
  }

  /** The first block's address; block b starts {@code b * floatsPerBlock()} floats on. */
  CUdeviceptr base() {
    check(0);
    return base;
  }

  @Override
  public int numBlocks() {
    return numBlocks;
  }

  @Override
  public int blockSize() {
    return blockSize;
  }

  @Override
  public int floatsPerBlock() {
    return 2 * blockSize * kvDim;
  }

  private CUdeviceptr at(int block, long floatOffset) {
    return base.withByteOffset(4L * ((long) block * floatsPerBlock() + floatOffset));
  }

  private void check(int block) {
    if (closed) {
      throw new IllegalStateException("KV store is closed");
    }
    if (block < 0 || block >= numBlocks) {
      throw new IllegalArgumentException("KV block " + block + " is outside [0, " + numBlocks
          + ")");
    }
  }

  @Override
  public void readBlock(int block, float[] dst, int offset) {
    check(block);
    device.enter();
    device.download(dst, offset, at(block, 0), floatsPerBlock());
  }

  @Override
  public void writeBlock(int block, float[] src, int offset) {
    check(block);
    device.enter();
    device.upload(at(block, 0), src, offset, floatsPerBlock());
  }

  @Override
  public void writePositions(int block, int from, int count, float[] k, int kOff, float[] v,
      int vOff) {
    check(block);
    device.enter();
    device.upload(at(block, (long) from * kvDim), k, kOff, count * kvDim);
    device.upload(at(block, (long) (blockSize + from) * kvDim), v, vOff, count * kvDim);
  }

  @Override
  public void readPositions(int block, int from, int count, float[] k, int kOff, float[] v,
      int vOff) {
    check(block);
    device.enter();
    device.download(k, kOff, at(block, (long) from * kvDim), count * kvDim);
    device.download(v, vOff, at(block, (long) (blockSize + from) * kvDim), count * kvDim);
  }

  @Override
  public void close() {
    if (!closed) {
      closed = true;
      device.free(base, bytesPerBlock(blockSize, kvDim) * numBlocks);
    }
  }
}

package io.batchgen.engine.backend;

/**
 * The {@code cpu} backend's KV blocks on the Java heap, keys transposed for attention that is
 * vectorised across key positions.
 *
 * <p>Within a block of {@code blockSize} positions, keys are stored per KV head as chunks of L
 * positions (L = the kernels' f32 lanes; the block is padded to whole chunks), each chunk
 * {@code (headDim, L)}: key element d of position t of head h at
 * {@code ((h * chunks + t / L) * headDim + d) * L + t % L}. A score kernel loads one vector of L
 * positions per d and runs L independent sequential FMA chains over d, so a score is the same
 * arithmetic at every width and position. Values keep the canonical layout {@code (blockSize,
 * kvHeads, headDim)} after the keys, as value accumulation is vectorised across d.
 *
 * <p>The {@link io.batchgen.core.model.KvStore} copies convert to and from the canonical layout,
 * so snapshots taken here restore on any backend. Called from the runtime thread; the executor
 * reads blocks from its workers while no copy runs.
 */
final class CpuKvStore extends HeapBlocks {
  private final int kvHeads;
  private final int headDim;
  private final int lanes;
  private final int chunks;
  private final int vOffset;

  CpuKvStore(int numBlocks, int blockSize, int kvHeads, int headDim, int lanes) {
    super(numBlocks, blockSize, (int) internalFloats(blockSize, kvHeads, headDim, lanes));
    this.kvHeads = kvHeads;
    this.headDim = headDim;
    this.lanes = lanes;
    this.chunks = (blockSize + lanes - 1) / lanes;
    this.vOffset = kvHeads * chunks * headDim * lanes;
  }

  /** Floats one block takes here (the keys padded to whole chunks of lanes). */
  static long internalFloats(int blockSize, int kvHeads, int headDim, int lanes) {
    long chunks = (blockSize + lanes - 1) / lanes;
    return kvHeads * chunks * headDim * lanes + (long) blockSize * kvHeads * headDim;
  }

  @Override
  public int floatsPerBlock() {
    return 2 * blockSize() * kvHeads * headDim;
  }

  /** Chunks of L key positions per head in a block. */
  int chunks() {
    return chunks;
  }

  /** Where chunk c of head h's keys starts in a block. */
  int keyChunk(int h, int c) {
    return (h * chunks + c) * headDim * lanes;
  }

  /** Where the values start in a block. */
  int vOffset() {
    return vOffset;
  }

  private int keyIndex(int slot, int h, int d) {
    return keyChunk(h, slot / lanes) + d * lanes + slot % lanes;
  }

  /** Writes one position: {@code k} and {@code v} hold kvHeads * headDim floats each. */
  void put(int block, int slot, float[] k, int kOff, float[] v, int vOff) {
    float[] b = block(block);
    for (int h = 0; h < kvHeads; h++) {
      int src = kOff + h * headDim;
      int d0 = keyIndex(slot, h, 0);
      for (int d = 0; d < headDim; d++) {
        b[d0 + d * lanes] = k[src + d];
      }
    }
    int kvDim = kvHeads * headDim;
    System.arraycopy(v, vOff, b, vOffset + slot * kvDim, kvDim);
  }

  /** Reads one position's keys and values (the inverse of {@link #put}). */
  private void get(float[] b, int slot, float[] k, int kOff, float[] v, int vOff) {
    for (int h = 0; h < kvHeads; h++) {
      int dst = kOff + h * headDim;
      int d0 = keyIndex(slot, h, 0);
      for (int d = 0; d < headDim; d++) {
        k[dst + d] = b[d0 + d * lanes];
      }
    }
    int kvDim = kvHeads * headDim;
    System.arraycopy(b, vOffset + slot * kvDim, v, vOff, kvDim);
  }

  @Override
  public void readBlock(int block, float[] dst, int offset) {
    readPositions(block, 0, blockSize(), dst, offset, dst,
        offset + blockSize() * kvHeads * headDim);
  }

  @Override
  public void writeBlock(int block, float[] src, int offset) {
    writePositions(block, 0, blockSize(), src, offset, src,
        offset + blockSize() * kvHeads * headDim);
  }

  @Override
  public void writePositions(int block, int from, int count, float[] k, int kOff, float[] v,
      int vOff) {
    int kvDim = kvHeads * headDim;
    for (int i = 0; i < count; i++) {
      put(block, from + i, k, kOff + i * kvDim, v, vOff + i * kvDim);
    }
  }

  @Override
  public void readPositions(int block, int from, int count, float[] k, int kOff, float[] v,
      int vOff) {
    float[] b = block(block);
    int kvDim = kvHeads * headDim;
    for (int i = 0; i < count; i++) {
      get(b, from + i, k, kOff + i * kvDim, v, vOff + i * kvDim);
    }
  }
}

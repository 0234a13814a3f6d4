package io.batchgen.engine.format;

/**
 * Element types of weight tensors. Quantised types store {@link #blockElements()} elements in
 * {@link #blockBytes()} bytes; plain types have blocks of one element.
 */
public enum DType {
  F32(1, 4),
  F16(1, 2),
  BF16(1, 2),
  /** llama.cpp's Q8_0: blocks of 32 int8 values sharing one f16 scale (34 bytes). */
  Q8_0(32, 34);

  private final int blockElements;
  private final int blockBytes;

  DType(int blockElements, int blockBytes) {
    this.blockElements = blockElements;
    this.blockBytes = blockBytes;
  }

  public int blockElements() {
    return blockElements;
  }

  public int blockBytes() {
    return blockBytes;
  }

  /** Bytes of {@code elements} values, or -1 when {@code elements} is not a whole number of blocks. */
  public long bytesFor(long elements) {
    if (elements < 0 || elements % blockElements != 0) {
      return -1;
    }
    return Math.multiplyExact(elements / blockElements, (long) blockBytes);
  }
}

package io.batchgen.core.kv;

/**
 * The block-size-independent layout KV data takes outside the device (host tier, snapshots):
 * for each layer {@code l}, the keys of positions {@code [0, P)} as {@code (P, kvDim)} followed by
 * the values as {@code (P, kvDim)}; layers one after another. A device block in the canonical
 * {@code KvStore} layout {@code (2, blockSize, kvDim)} maps to a slice of it.
 */
public final class KvLayout {
  private KvLayout() {
  }

  /** Floats of {@code positions} positions in {@code layers} layers. */
  public static int floats(int layers, int positions, int kvDim) {
    long n = 2L * layers * positions * kvDim;
    if (n > Integer.MAX_VALUE - 8) {
      throw new IllegalArgumentException("KV of " + positions + " positions x " + layers
          + " layers x " + kvDim + " is too large for one array");
    }
    return (int) n;
  }

  /** Copies block number {@code b} of layer {@code l} into the token layout. */
  static void blockToTokens(float[] block, int blockSize, int kvDim, int b, float[] out, int l,
      int positions) {
    int layerBase = 2 * l * positions * kvDim;
    int first = b * blockSize;
    int count = Math.min(blockSize, positions - first);
    System.arraycopy(block, 0, out, layerBase + first * kvDim, count * kvDim);
    System.arraycopy(block, blockSize * kvDim, out, layerBase + (positions + first) * kvDim,
        count * kvDim);
  }

  /** Copies the positions of block number {@code b} of layer {@code l} out of the token layout. */
  static void tokensToBlock(float[] in, int l, int positions, int kvDim, int b, float[] block,
      int blockSize) {
    int layerBase = 2 * l * positions * kvDim;
    int first = b * blockSize;
    int count = Math.min(blockSize, positions - first);
    System.arraycopy(in, layerBase + first * kvDim, block, 0, count * kvDim);
    System.arraycopy(in, layerBase + (positions + first) * kvDim, block, blockSize * kvDim,
        count * kvDim);
  }
}

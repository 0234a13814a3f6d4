package io.batchgen.engine.backend;

import static org.assertj.core.api.Assertions.assertThat;

import io.batchgen.core.model.KvStore;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The heap store's direct position copies against the SPI's whole-block defaults: the same block
 * contents after every write and the same values read back, for partial ranges at any offset.
 */
class HeapKvStoreTest {

  /** The SPI defaults on top of a heap store's whole-block copies. */
  private static KvStore viaDefaults(HeapKvStore s) {
    return new KvStore() {
      @Override
      public int numBlocks() {
        return s.numBlocks();
      }

      @Override
      public int blockSize() {
        return s.blockSize();
      }

      @Override
      public int floatsPerBlock() {
        return s.floatsPerBlock();
      }

      @Override
      public void readBlock(int block, float[] dst, int offset) {
        s.readBlock(block, dst, offset);
      }

      @Override
      public void writeBlock(int block, float[] src, int offset) {
        s.writeBlock(block, src, offset);
      }

      @Override
      public void close() {
        s.close();
      }
    };
  }

  @Test
  void positionCopiesMatchTheWholeBlockDefaults() {
    int blockSize = 5;
    int kvDim = 2 * 3;
    HeapKvStore direct = new HeapKvStore(3, blockSize, 2, 3);
    KvStore reference = viaDefaults(new HeapKvStore(3, blockSize, 2, 3));
    SplittableRandom rnd = new SplittableRandom(4);
    float[] k = new float[40 * kvDim];
    float[] v = new float[40 * kvDim];
    for (int t = 0; t < 200; t++) {
      for (int i = 0; i < k.length; i++) {
        k[i] = (float) rnd.nextGaussian();
        v[i] = (float) rnd.nextGaussian();
      }
      int block = rnd.nextInt(3);
      int from = rnd.nextInt(blockSize);
      int count = 1 + rnd.nextInt(blockSize - from);
      int off = rnd.nextInt(10) * kvDim;
      direct.writePositions(block, from, count, k, off, v, off + kvDim);
      reference.writePositions(block, from, count, k, off, v, off + kvDim);
      float[] a = new float[direct.floatsPerBlock()];
      float[] b = new float[direct.floatsPerBlock()];
      direct.readBlock(block, a, 0);
      reference.readBlock(block, b, 0);
      assertThat(a).as("block %d after writing [%d, +%d)", block, from, count).containsExactly(b);

      float[] ka = new float[blockSize * kvDim + 7];
      float[] va = new float[blockSize * kvDim + 7];
      float[] kb = new float[ka.length];
      float[] vb = new float[va.length];
      direct.readPositions(block, from, count, ka, 7, va, 3);
      reference.readPositions(block, from, count, kb, 7, vb, 3);
      assertThat(ka).containsExactly(kb);
      assertThat(va).containsExactly(vb);
      assertThat(ka[7]).isEqualTo(k[off]);
      assertThat(va[3]).isEqualTo(v[off + kvDim]);
    }
  }
}

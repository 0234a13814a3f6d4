package io.batchgen.engine.backend;

import static org.assertj.core.api.Assertions.assertThat;

import io.batchgen.core.model.KvStore;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The heap stores' direct position copies against the SPI's whole-block defaults: the same block
 * contents after every write and the same values read back, for partial ranges at any offset;
 * the cpu backend's store (keys transposed into chunks of lanes) holds the same canonical blocks
 * as the plain one, for block sizes that are and are not multiples of the lanes.
 */
class HeapKvStoreTest {

  /** Positions [from, from + count) of one of 3 blocks, from k and v (refilled) at off. */
  record Write(int block, int from, int count, int off) {
    static Write random(SplittableRandom rnd, float[] k, float[] v, int blockSize, int kvDim) {
      for (int i = 0; i < k.length; i++) {
        k[i] = (float) rnd.nextGaussian();
        v[i] = (float) rnd.nextGaussian();
      }
      int from = rnd.nextInt(blockSize);
      return new Write(rnd.nextInt(3), from, 1 + rnd.nextInt(blockSize - from),
          rnd.nextInt(10) * kvDim);
    }
  }

  /** The SPI defaults on top of a store's whole-block copies. */
  private static KvStore viaDefaults(KvStore s) {
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
      Write w = Write.random(rnd, k, v, blockSize, kvDim);
      int block = w.block();
      int from = w.from();
      int count = w.count();
      int off = w.off();
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

  @org.junit.jupiter.params.ParameterizedTest(name = "block size {0}, {1} lanes")
  @org.junit.jupiter.params.provider.CsvSource({"5, 4", "5, 8", "16, 8", "16, 16", "3, 16"})
  void transposedStoreHoldsTheCanonicalBlocks(int blockSize, int lanes) {
    int kvDim = 2 * 3;
    CpuKvStore cpu = new CpuKvStore(3, blockSize, 2, 3, lanes);
    HeapKvStore plain = new HeapKvStore(3, blockSize, 2, 3);
    KvStore cpuDefaults = viaDefaults(new CpuKvStore(3, blockSize, 2, 3, lanes));
    SplittableRandom rnd = new SplittableRandom(blockSize * 31L + lanes);
    float[] k = new float[40 * kvDim];
    float[] v = new float[40 * kvDim];
    for (int t = 0; t < 100; t++) {
      Write w = Write.random(rnd, k, v, blockSize, kvDim);
      int block = w.block();
      int from = w.from();
      int count = w.count();
      int off = w.off();
      cpu.writePositions(block, from, count, k, off, v, off + kvDim);
      plain.writePositions(block, from, count, k, off, v, off + kvDim);
      cpuDefaults.writePositions(block, from, count, k, off, v, off + kvDim);
      float[] a = new float[plain.floatsPerBlock()];
      float[] b = new float[plain.floatsPerBlock()];
      float[] c = new float[plain.floatsPerBlock()];
      cpu.readBlock(block, a, 0);
      plain.readBlock(block, b, 0);
      cpuDefaults.readBlock(block, c, 0);
      assertThat(a).as("block %d after writing [%d, +%d)", block, from, count)
          .containsExactly(b).containsExactly(c);
      // a whole block written back in canonical layout reads back unchanged
      float[] shuffled = b.clone();
      for (int i = 0; i < shuffled.length; i++) {
        shuffled[i] += i;
      }
      cpu.writeBlock(block, shuffled, 0);
      plain.writeBlock(block, shuffled, 0);
      cpuDefaults.writeBlock(block, shuffled, 0);
      cpu.readBlock(block, a, 0);
      assertThat(a).containsExactly(shuffled);
    }
    // the layout the attention kernels read: key d of slot t, head h
    float[] kk = new float[kvDim];
    float[] vv = new float[kvDim];
    for (int i = 0; i < kvDim; i++) {
      kk[i] = 100 + i;
    }
    int slot = blockSize - 1;
    cpu.put(1, slot, kk, 0, vv, 0);
    float[] raw = cpu.block(1);
    assertThat(raw[cpu.keyChunk(1, slot / lanes) + 2 * lanes + slot % lanes]).isEqualTo(105f);
  }
}

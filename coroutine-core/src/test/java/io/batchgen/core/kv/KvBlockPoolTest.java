package io.batchgen.core.kv;

import static org.assertj.core.api.Assertions.assertThat;

import io.batchgen.core.testing.TinyMoeExecutor;
import org.junit.jupiter.api.Test;

class KvBlockPoolTest {
  private static final int KV_DIM = TinyMoeExecutor.KV_HEADS * TinyMoeExecutor.HEAD_DIM;

  private static KvBlockPool pool(int blocks, int blockSize) {
    return new KvBlockPool(new TinyMoeExecutor(1, false).createKvStore(blocks, blockSize), 2,
        KV_DIM);
  }

  @Test
  void allocationIsPerLayerAndAllOrNothing() {
    try (KvBlockPool pool = pool(10, 4)) {
      KvHandle a = new KvHandle(2);
      assertThat(pool.ensure(a, 9)).isTrue(); // 3 blocks per layer
      assertThat(a.table(0)).hasSize(3).doesNotContain(a.table(1));
      assertThat(pool.freeBlocks()).isEqualTo(4);
      KvHandle b = new KvHandle(2);
      assertThat(pool.additionalBlocks(b, 12)).isEqualTo(6);
      assertThat(pool.ensure(b, 12)).isFalse();
      assertThat(b.blocksPerLayer()).isZero();
      assertThat(pool.freeBlocks()).isEqualTo(4);
      assertThat(pool.ensure(b, 8)).isTrue();
      assertThat(pool.freeBlocks()).isZero();
      pool.release(a);
      assertThat(pool.freeBlocks()).isEqualTo(6);
      assertThat(pool.peakUsedBlocks()).isEqualTo(10);
      assertThat(a.table(0)).isEmpty();
    }
  }

  @Test
  void kvSurvivesACopyThroughTheHostLayoutIntoAnotherBlockSize() {
    int positions = 11;
    try (KvBlockPool src = pool(12, 4); KvBlockPool dst = pool(16, 3)) {
      KvHandle a = new KvHandle(2);
      src.ensure(a, positions);
      float[] data = new float[KvLayout.floats(2, positions, KV_DIM)];
      for (int i = 0; i < data.length; i++) {
        data[i] = i + 0.5f;
      }
      src.copyIn(a, positions, data);
      float[] out = src.copyOut(a, positions);
      assertThat(out).containsExactly(data);

      KvHandle b = new KvHandle(2);
      dst.ensure(b, positions);
      dst.copyIn(b, positions, out);
      assertThat(dst.copyOut(b, positions)).containsExactly(data);
      // Position 5 of layer 1, value half, in the destination's 3-token blocks.
      float[] block = new float[dst.store().floatsPerBlock()];
      dst.store().readBlock(b.table(1)[5 / 3], block, 0);
      int expectedAt = 2 * positions * KV_DIM + (positions + 5) * KV_DIM;
      assertThat(block[(3 + 5 % 3) * KV_DIM]).isEqualTo(data[expectedAt]);
    }
  }

  @Test
  void hostTierEnforcesItsBudget() {
    HostKvTier tier = new HostKvTier(100);
    assertThat(tier.tryReserve(60)).isTrue();
    assertThat(tier.tryReserve(50)).isFalse();
    tier.release(60);
    assertThat(tier.tryReserve(100)).isTrue();
    assertThat(tier.peakBytes()).isEqualTo(100);
  }
}

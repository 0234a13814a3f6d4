package io.batchgen.engine.backend;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.batchgen.core.model.WeightTraffic;
import io.batchgen.engine.format.DType;
import io.batchgen.engine.model.WeightTensor;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** The weight store's accounting and eviction rules, on small in-memory matrices. */
class WeightStoreTest {
  private static final int N = 30;
  private static final int K = 16;

  private static List<WeightTensor> matrices(int n) {
    SplittableRandom rnd = new SplittableRandom(1);
    return java.util.stream.IntStream.range(0, n)
        .mapToObj(i -> PackedFfnTest.matrix(DType.BF16, N, K, rnd)).toList();
  }

  /** A store with room for {@code fit} of the matrices, positions 0..n-1 in a pass. */
  private static WeightStore store(WorkerPool pool, List<WeightTensor> ws, int fit) {
    PanelGemm gemm = new PanelGemm(SimdKernels.of(VectorWidth.preferred()));
    long each = gemm.packedBytes(ws.get(0));
    WeightStore s = new WeightStore(pool, gemm, fit * each, ws.size() * each);
    for (int i = 0; i < ws.size(); i++) {
      s.order(ws.get(i), i, ws.size());
    }
    return s;
  }

  private static void use(WeightStore s, WeightTensor w) {
    s.acquire(w);
    s.release(w);
  }

  @Test
  void aSweepKeepsAFixedSubsetAndCountsEveryByteRead() {
    List<WeightTensor> ws = matrices(8);
    try (WorkerPool pool = new WorkerPool(1); WeightStore s = store(pool, ws, 4)) {
      assertThat(s.streaming()).isTrue();
      for (int pass = 0; pass < 3; pass++) {
        for (WeightTensor w : ws) {
          use(s, w);
        }
      }
      WeightTraffic t = s.traffic();
      assertThat(t.residentBytes()).isLessThanOrEqualTo(t.budgetBytes());
      // evicting the furthest next use hits 4 of 8 per pass after the first, the optimum for a
      // cyclic pass through 8 with room for 4 (LRU would reload all 8 every pass)
      assertThat(t.hits()).isEqualTo(2 * 4);
      assertThat(t.loads()).isEqualTo(24 - t.hits());
      assertThat(t.bytesRead()).isEqualTo(t.loads() * ws.get(0).bytes());
    }
  }

  @Test
  void wantedAndPinnedMatricesStayWhileTheLoaderOnlyEvictsWhatIsWantedLess() {
    List<WeightTensor> ws = matrices(4);
    try (WorkerPool pool = new WorkerPool(1); WeightStore s = store(pool, ws, 2)) {
      use(s, ws.get(0));
      use(s, ws.get(1));
      s.want(Map.of(ws.get(0), 0, ws.get(2), 1));
      // the loader may evict ws[1] (not wanted) for ws[2], never ws[0] (wanted more)
      assertThat(s.load(ws.get(2), 1)).isTrue();
      assertThat(s.holds(ws.get(0))).isTrue();
      assertThat(s.holds(ws.get(1))).isFalse();
      assertThat(s.load(ws.get(3), 2)).as("no room without evicting wanted ones").isFalse();
      assertThat(s.traffic().prefetched()).isEqualTo(1);
      // a caller evicts what it must; a pinned matrix is never evicted
      s.acquire(ws.get(0));
      s.acquire(ws.get(3));
      assertThat(s.holds(ws.get(2))).isFalse();
      assertThatThrownBy(() -> s.acquire(ws.get(1))).isInstanceOf(IllegalStateException.class)
          .hasMessageContaining("pinned");
      s.release(ws.get(0));
      s.release(ws.get(3));
      use(s, ws.get(1));
    }
  }
}

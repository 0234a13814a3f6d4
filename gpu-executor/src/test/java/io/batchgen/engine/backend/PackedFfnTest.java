package io.batchgen.engine.backend;

import static org.assertj.core.api.Assertions.assertThat;

import io.batchgen.engine.format.DType;
import io.batchgen.engine.format.Half;
import io.batchgen.engine.model.ExpertWeights;
import io.batchgen.engine.model.WeightTensor;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.SplittableRandom;
import jdk.incubator.vector.FloatVector;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

/**
 * The packed-panel expert FFN against the on-the-fly one, bit for bit, on shapes whose widths are
 * not multiples of the vector or panel width; row results independent of batch, position and
 * thread count; the deterministic exp; the pack cache's budget.
 */
class PackedFfnTest {
  /** hidden 40 (5 vectors), ffn 52 (2 panels + 4 columns). */
  static final int H = 40;
  static final int F = 52;

  static WeightTensor matrix(DType dtype, int rows, int cols, SplittableRandom rnd) {
    ByteBuffer b = ByteBuffer.allocateDirect((int) dtype.bytesFor((long) rows * cols))
        .order(ByteOrder.LITTLE_ENDIAN);
    for (int i = 0; i < rows * cols; i++) {
      float v = (float) (rnd.nextDouble() * 2 - 1) * 0.3f;
      if (dtype == DType.F32) {
        b.putFloat(v);
      } else {
        b.putShort(Half.floatToBf16(v));
      }
    }
    b.flip();
    return new WeightTensor("test (" + rows + ", " + cols + ")", dtype, rows, cols, b);
  }

  static ExpertWeights expert(DType dtype, long seed) {
    SplittableRandom rnd = new SplittableRandom(seed);
    return new ExpertWeights(matrix(dtype, F, H, rnd), matrix(dtype, F, H, rnd),
        matrix(dtype, H, F, rnd));
  }

  static float[] input(int rows, long seed) {
    SplittableRandom rnd = new SplittableRandom(seed);
    float[] x = new float[rows * H];
    for (int i = 0; i < x.length; i++) {
      x[i] = (float) rnd.nextGaussian() * 3;
    }
    return x;
  }

  static float[] run(CpuFfn ffn, ExpertWeights w, float[] x, int rows) {
    float[] out = new float[rows * H];
    ffn.run(w, x, rows, out);
    return out;
  }

  @ParameterizedTest
  @EnumSource(value = DType.class, names = {"F32", "BF16"})
  void packedEqualsUnpackedBitForBit(DType dtype) {
    ExpertWeights w = expert(dtype, 7);
    try (WorkerPool pool = new WorkerPool(2)) {
      Gemm gemm = new Gemm(pool);
      CpuFfn unpacked = new CpuFfn(gemm, 0, Integer.MAX_VALUE);
      CpuFfn packed = new CpuFfn(gemm, 1 << 20, 1);
      for (int rows : new int[] {1, 2, 3, 4, 5, 7, 8, 9, 16, 17, 33}) {
        float[] x = input(rows, rows);
        assertThat(run(packed, w, x, rows)).as("%s, %d rows", dtype, rows)
            .containsExactly(run(unpacked, w, x, rows));
      }
    }
  }

  @ParameterizedTest(name = "{0} threads, {1}")
  @CsvSource({"1, F32", "2, F32", "1, BF16", "2, BF16"})
  void rowResultIndependentOfBatchPositionAndThreads(int threads, DType dtype) {
    // 7 and 8 rows widen BF16 in registers, 12 and more block by block: the same bits
    ExpertWeights w = expert(dtype, 11);
    int rows = 23;
    float[] x = input(rows, 3);
    float[] alone;
    try (WorkerPool one = new WorkerPool(1)) {
      CpuFfn ffn = new CpuFfn(new Gemm(one), 1 << 20, 1);
      alone = run(ffn, w, Arrays.copyOfRange(x, 6 * H, 7 * H), 1);
    }
    try (WorkerPool pool = new WorkerPool(threads)) {
      CpuFfn ffn = new CpuFfn(new Gemm(pool), 1 << 20, CpuFfn.PACK_MIN_ROWS);
      for (int m : new int[] {7, 8, 12, 13, 23}) {
        float[] batch = run(ffn, w, x, m);
        assertThat(Arrays.copyOfRange(batch, 6 * H, 7 * H)).as("row 6 of %d", m)
            .containsExactly(alone);
      }
      // the same row at every position of a batch of 23 copies
      float[] copies = new float[rows * H];
      for (int r = 0; r < rows; r++) {
        System.arraycopy(x, 6 * H, copies, r * H, H);
      }
      float[] out = run(ffn, w, copies, rows);
      for (int r = 0; r < rows; r++) {
        assertThat(Arrays.copyOfRange(out, r * H, (r + 1) * H)).as("position %d", r)
            .containsExactly(alone);
      }
    }
  }

  @ParameterizedTest
  @EnumSource(value = DType.class, names = {"F32", "BF16"})
  void packedProjectionEqualsOnTheFlyBitForBit(DType dtype) {
    // 61 output columns: two whole panels and a partial one; written with a row stride of 64
    WeightTensor w = matrix(dtype, 61, H, new SplittableRandom(3));
    int ldo = 64;
    try (WorkerPool pool = new WorkerPool(2)) {
      Gemm gemm = new Gemm(pool);
      CpuFfn packed = new CpuFfn(gemm, 1 << 20, 1);
      for (int rows : new int[] {1, 2, 3, 5, 11, 12, 13, 30}) {
        float[] x = input(rows, 40 + rows);
        float[] want = new float[rows * ldo];
        float[] got = new float[rows * ldo];
        gemm.matmul(x, 0, rows, w, want, 0, ldo);
        packed.matmul(w, x, rows, got, ldo);
        assertThat(got).as("%s, %d rows", dtype, rows).containsExactly(want);
      }
      assertThat(packed.store().holds(w)).isTrue();
    }
  }

  @Test
  void bf16WeightsStayBf16InTheCache() {
    ExpertWeights w = expert(DType.BF16, 1);
    try (WorkerPool pool = new WorkerPool(1)) {
      CpuFfn ffn = new CpuFfn(new Gemm(pool), 1 << 20, 1);
      run(ffn, w, input(2, 1), 2);
      // two bytes per element of the padded panels, as mapped
      assertThat(ffn.store().bytes()).isEqualTo(2L * (3 * 24 * H * 2 + 2 * 24 * F));
    }
  }

  @Test
  void packedMatchesReferenceWithinTolerance() {
    ExpertWeights w = expert(DType.F32, 5);
    int rows = 19;
    float[] x = input(rows, 9);
    try (WorkerPool pool = new WorkerPool(2)) {
      float[] got = run(new CpuFfn(new Gemm(pool), 1 << 20, 1), w, x, rows);
      for (int r = 0; r < rows; r++) {
        float[] want = ReferenceExecutor.ffn(w, x, r * H);
        for (int j = 0; j < H; j++) {
          assertThat(got[r * H + j]).as("row %d col %d", r, j)
              .isCloseTo(want[j], org.assertj.core.data.Offset.offset(1e-4f + 1e-4f
                  * Math.abs(want[j])));
        }
      }
    }
  }

  @Test
  void expWithinTwoUlpsOfMathExp() {
    float[] xs = new float[Gemm.L];
    float[] ys = new float[Gemm.L];
    SplittableRandom rnd = new SplittableRandom(1);
    for (int t = 0; t < 2000; t++) {
      for (int l = 0; l < Gemm.L; l++) {
        xs[l] = (float) (rnd.nextDouble() * 170 - 85);
      }
      SwiGlu.exp(FloatVector.fromArray(Gemm.S, xs, 0)).intoArray(ys, 0);
      for (int l = 0; l < Gemm.L; l++) {
        float want = (float) Math.exp(xs[l]);
        assertThat(Math.abs(ys[l] - want)).as("exp(%s)", xs[l])
            .isLessThanOrEqualTo(2 * Math.ulp(want));
      }
    }
  }

  @Test
  void swiGluTailEqualsFullVectorLanes() {
    int n = 3 * Gemm.L + 5;
    float[] g = input(1, 4);
    float[] u = input(1, 5);
    float[] whole = Arrays.copyOf(g, H);
    SwiGlu.apply(whole, u, 0, H, new float[2 * Gemm.L]);
    // the same elements starting at an odd offset: different lanes and a tail
    float[] shifted = Arrays.copyOf(g, H);
    SwiGlu.apply(shifted, u, 3, 3 + n, new float[2 * Gemm.L]);
    assertThat(Arrays.copyOfRange(shifted, 3, 3 + n))
        .containsExactly(Arrays.copyOfRange(whole, 3, 3 + n));
    assertThat(shifted[0]).isEqualTo(g[0]);
    assertThat(shifted[3 + n]).isEqualTo(g[3 + n]);
  }

  private static boolean holdsAll(WeightStore s, ExpertWeights w) {
    return s.holds(w.gate()) && s.holds(w.up()) && s.holds(w.down());
  }

  @Test
  void cacheStaysWithinBudgetAndKeepsRecentExperts() {
    ExpertWeights a = expert(DType.F32, 1);
    ExpertWeights b = expert(DType.F32, 2);
    long perExpert = 4L * (3 * 24 * H * 2 + 2 * 24 * F);
    try (WorkerPool pool = new WorkerPool(1)) {
      CpuFfn ffn = new CpuFfn(new Gemm(pool), perExpert, 1);
      run(ffn, a, input(2, 1), 2);
      assertThat(holdsAll(ffn.store(), a)).isTrue();
      assertThat(ffn.store().bytes()).isEqualTo(perExpert);
      run(ffn, b, input(2, 1), 2);
      assertThat(holdsAll(ffn.store(), b)).isTrue();
      assertThat(holdsAll(ffn.store(), a)).isFalse();
      assertThat(ffn.store().bytes()).isLessThanOrEqualTo(perExpert);
    }
  }
}

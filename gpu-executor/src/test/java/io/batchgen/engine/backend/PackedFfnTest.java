package io.batchgen.engine.backend;

import static org.assertj.core.api.Assertions.assertThat;

import io.batchgen.engine.format.DType;
import io.batchgen.engine.format.Half;
import io.batchgen.engine.model.ExpertWeights;
import io.batchgen.engine.model.WeightTensor;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The packed-panel GEMMs and expert FFN at every vector width and weight storage: bit for bit the
 * scalar FMA chain they promise, the same at every width, with and without the pack cache; row
 * results independent of batch, position and thread count; the deterministic exp; the pack
 * cache's budget. Shapes are small and not multiples of the vector or panel width (the emulated
 * 512-bit kernels are slow on machines without AVX-512).
 */
class PackedFfnTest {
  /** hidden 64 (two Q8_0 blocks), ffn 52 (not a multiple of any panel width; 96 for Q8_0). */
  static final int H = 64;
  static final int F = 52;

  static WeightTensor matrix(DType dtype, int rows, int cols, SplittableRandom rnd) {
    ByteBuffer b = ByteBuffer.allocateDirect((int) dtype.bytesFor((long) rows * cols))
        .order(ByteOrder.LITTLE_ENDIAN);
    if (dtype == DType.Q8_0) {
      for (int blk = 0; blk < rows * cols / 32; blk++) {
        b.putShort(Half.floatToF16((float) (0.001 + rnd.nextDouble() * 0.01)));
        for (int j = 0; j < 32; j++) {
          b.put((byte) (rnd.nextInt(256) - 128));
        }
      }
    }
    for (int i = 0; dtype != DType.Q8_0 && i < rows * cols; i++) {
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

  /** Q8_0 needs the down projection's k (the FFN width) in whole blocks of 32. */
  static int ffn(DType dtype) {
    return dtype == DType.Q8_0 ? 96 : F;
  }

  static ExpertWeights expert(DType dtype, long seed) {
    SplittableRandom rnd = new SplittableRandom(seed);
    int f = ffn(dtype);
    return new ExpertWeights(matrix(dtype, f, H, rnd), matrix(dtype, f, H, rnd),
        matrix(dtype, H, f, rnd));
  }

  static float[] input(int rows, int width, long seed) {
    SplittableRandom rnd = new SplittableRandom(seed);
    float[] x = new float[rows * width];
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

  /**
   * {@link CpuFfn#runSideBySide}: the rows split in two, each half a whole FFN on whichever worker
   * takes it.
   */
  static float[] sideBySide(CpuFfn ffn, ExpertWeights w, float[] x, int rows) {
    float[] out = new float[rows * H];
    int half = rows / 2;
    ffn.runSideBySide(new ExpertWeights[] {w, w}, x, new int[] {0, half * H},
        new int[] {half, rows - half}, out);
    return out;
  }

  static CpuFfn cached(WorkerPool pool, VectorWidth width) {
    return new CpuFfn(pool, SimdKernels.of(width), 1 << 22, 1);
  }

  static CpuFfn uncached(WorkerPool pool, VectorWidth width) {
    return new CpuFfn(pool, SimdKernels.of(width), 0, Integer.MAX_VALUE);
  }

  static Stream<Arguments> widthsAndTypes() {
    List<Arguments> out = new ArrayList<>();
    for (VectorWidth w : VectorWidth.values()) {
      for (DType d : List.of(DType.F32, DType.BF16, DType.Q8_0)) {
        out.add(Arguments.of(w, d));
      }
    }
    return out.stream();
  }

  /** The arithmetic every element must be: one FMA chain over k, in order, from zero. */
  static float[] fmaChain(WeightTensor w, float[] x, int rows) {
    int k = w.cols();
    float[] row = new float[k];
    float[] out = new float[rows * w.rows()];
    for (int n = 0; n < w.rows(); n++) {
      w.readRow(n, row, 0);
      for (int r = 0; r < rows; r++) {
        float acc = 0f;
        for (int kk = 0; kk < k; kk++) {
          acc = Math.fma(x[r * k + kk], row[kk], acc);
        }
        out[r * w.rows() + n] = acc;
      }
    }
    return out;
  }

  @ParameterizedTest(name = "{0} {1}")
  @MethodSource("widthsAndTypes")
  void projectionIsTheScalarFmaChainBitForBit(VectorWidth width, DType dtype) {
    // k 576 spans several k blocks at every width (128 to 512 k-steps); 61 output columns;
    // 40 rows widen bf16 blocks once, fewer widen in registers
    WeightTensor w = matrix(dtype, 61, 576, new SplittableRandom(3));
    try (WorkerPool pool = new WorkerPool(2)) {
      CpuFfn packed = cached(pool, width);
      CpuFfn onTheFly = uncached(pool, width);
      for (int rows : new int[] {1, 2, 3, 4, 5, 6, 9, 11, 13, 17, 40}) {
        float[] x = input(rows, 576, 40 + rows);
        float[] want = fmaChain(w, x, rows);
        float[] got = new float[rows * 61];
        packed.matmul(w, x, rows, got, 61);
        assertThat(got).as("%s %s, %d rows, cached", width, dtype, rows).containsExactly(want);
        Arrays.fill(got, Float.NaN);
        onTheFly.matmul(w, x, rows, got, 61);
        assertThat(got).as("%s %s, %d rows, packed on the fly", width, dtype, rows)
            .containsExactly(want);
      }
      assertThat(packed.store().holds(w)).isTrue();
      assertThat(onTheFly.store().holds(w)).isFalse();
    }
  }

  @ParameterizedTest(name = "{0} {1}")
  @MethodSource("widthsAndTypes")
  void ffnIsTheSameAtEveryWidthCachedOrNot(VectorWidth width, DType dtype) {
    ExpertWeights w = expert(dtype, 7);
    try (WorkerPool pool = new WorkerPool(2)) {
      CpuFfn base = uncached(pool, VectorWidth.W256);
      CpuFfn packed = cached(pool, width);
      CpuFfn onTheFly = uncached(pool, width);
      for (int rows : new int[] {1, 3, 4, 5, 8, 12, 16, 17, 33}) {
        float[] x = input(rows, H, rows);
        float[] want = run(base, w, x, rows);
        assertThat(run(packed, w, x, rows)).as("%s, %d rows, cached", dtype, rows)
            .containsExactly(want);
        assertThat(run(onTheFly, w, x, rows)).as("%s, %d rows, on the fly", dtype, rows)
            .containsExactly(want);
        assertThat(sideBySide(packed, w, x, rows))
            .as("%s, %d rows, cached, each half on one worker", dtype, rows).containsExactly(want);
        assertThat(sideBySide(onTheFly, w, x, rows))
            .as("%s, %d rows, on the fly, each half on one worker", dtype, rows)
            .containsExactly(want);
      }
    }
  }

  /**
   * Several experts side by side, each brought into the store by this very call (every group
   * large enough to pack), give what one expert at a time gives: the store's loads stay on the
   * caller, never two workers packing into it at once.
   */
  @ParameterizedTest(name = "{0}")
  @EnumSource(value = DType.class, names = {"F32", "BF16", "Q8_0"})
  void expertsSideBySideBringThemselvesInAsOneAtATime(DType dtype) {
    int n = 6;
    ExpertWeights[] experts = new ExpertWeights[n];
    int[] rows = new int[n];
    int[] offsets = new int[n];
    int total = 0;
    for (int i = 0; i < n; i++) {
      experts[i] = expert(dtype, 100 + i);
      rows[i] = CpuFfn.PACK_MIN_ROWS + 3 * i;
      offsets[i] = total * H;
      total += rows[i];
    }
    float[] x = input(total, H, 5);
    try (WorkerPool pool = new WorkerPool(2)) {
      CpuFfn fresh = new CpuFfn(pool, SimdKernels.of(VectorWidth.preferred()), 1 << 24,
          CpuFfn.PACK_MIN_ROWS);
      float[] got = new float[total * H];
      fresh.runSideBySide(experts, x, offsets, rows, got);
      CpuFfn base = uncached(pool, VectorWidth.preferred());
      for (int i = 0; i < n; i++) {
        assertThat(fresh.store().holds(experts[i].gate())).isTrue();
        float[] want = run(base, experts[i],
            Arrays.copyOfRange(x, offsets[i], offsets[i] + rows[i] * H), rows[i]);
        assertThat(Arrays.copyOfRange(got, offsets[i], offsets[i] + rows[i] * H))
            .as("expert %d", i).containsExactly(want);
      }
    }
  }

  @ParameterizedTest(name = "{0} {1}")
  @MethodSource("widthsAndTypes")
  void rowResultIndependentOfBatchPositionAndThreads(VectorWidth width, DType dtype) {
    ExpertWeights w = expert(dtype, 11);
    int rows = 23;
    float[] x = input(rows, H, 3);
    float[] alone;
    try (WorkerPool one = new WorkerPool(1)) {
      alone = run(cached(one, width), w, Arrays.copyOfRange(x, 6 * H, 7 * H), 1);
    }
    try (WorkerPool pool = new WorkerPool(2)) {
      CpuFfn ffn = new CpuFfn(pool, SimdKernels.of(width), 1 << 22, CpuFfn.PACK_MIN_ROWS);
      for (int m : new int[] {7, 8, 12, 13, 23}) {
        float[] batch = run(ffn, w, x, m);
        assertThat(Arrays.copyOfRange(batch, 6 * H, 7 * H)).as("row 6 of %d", m)
            .containsExactly(alone);
      }
      // the same row at every position of a batch of 23 copies (every tile shape and slot)
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

  @Test
  void rowTilesCoverTheBatchWithTheFewestRows() {
    for (int m = 1; m <= 64; m++) {
      for (boolean fives : new boolean[] {true, false}) {
        PanelGemm.RowTiles t = PanelGemm.RowTiles.of(m, fives);
        int sum = 0;
        for (int i = 0; i < t.count(); i++) {
          assertThat(t.rows()[i]).isIn(4, fives ? 5 : 4);
          assertThat(t.start()[i]).isEqualTo(sum);
          sum += t.rows()[i];
        }
        assertThat(t.computed()).isEqualTo(sum).isGreaterThanOrEqualTo(m);
        // every m from 12 on is a sum of fours and fives; below, at most 3 rows are padding
        assertThat(t.computed() - m).as("padding rows for %d", m).isLessThanOrEqualTo(
            fives && m >= 12 ? 0 : 3);
      }
    }
  }

  @Test
  void compactTypesStayCompactInTheCache() {
    try (WorkerPool pool = new WorkerPool(1)) {
      for (VectorWidth width : VectorWidth.values()) {
        int nr = 2 * width.lanes();
        long panelsF = (F + nr - 1) / nr;
        CpuFfn ffn = cached(pool, width);
        ExpertWeights bf16 = expert(DType.BF16, 1);
        run(ffn, bf16, input(2, H, 1), 2);
        // two bytes per element of the padded panels, as mapped
        assertThat(ffn.store().bytes()).as("bf16 at %s", width)
            .isEqualTo(2L * (2 * panelsF * nr * H + ((H + nr - 1) / nr) * nr * F));
        CpuFfn q8 = cached(pool, width);
        WeightTensor m = matrix(DType.Q8_0, F, H, new SplittableRandom(1));
        q8.matmul(m, input(2, H, 1), 2, new float[2 * F], F);
        // one byte per weight (plus the vector read's padding) and an f32 scale per 32
        assertThat(q8.store().bytes()).as("q8_0 at %s", width)
            .isEqualTo(panelsF * nr * H + 64 + 4L * panelsF * nr * H / 32);
      }
    }
  }

  @Test
  void packedMatchesReferenceWithinTolerance() {
    ExpertWeights w = expert(DType.F32, 5);
    int rows = 19;
    float[] x = input(rows, H, 9);
    try (WorkerPool pool = new WorkerPool(2)) {
      float[] got = run(cached(pool, VectorWidth.preferred()), w, x, rows);
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

  @ParameterizedTest
  @EnumSource(VectorWidth.class)
  void expWithinTwoUlpsOfMathExpAndTheSameAtEveryWidth(VectorWidth width) {
    SimdKernels simd = SimdKernels.of(width);
    SplittableRandom rnd = new SplittableRandom(1);
    float[] xs = new float[203];
    for (int i = 0; i < xs.length; i++) {
      xs[i] = (float) (rnd.nextDouble() * 170 - 85);
    }
    float[] ys = xs.clone();
    simd.exp(ys, 0, ys.length, new float[2 * simd.lanes()]);
    float[] base = xs.clone();
    SimdKernels.of(VectorWidth.W256).exp(base, 0, base.length, new float[16]);
    assertThat(ys).containsExactly(base);
    for (int i = 0; i < xs.length; i++) {
      float want = (float) Math.exp(xs[i]);
      assertThat(Math.abs(ys[i] - want)).as("exp(%s)", xs[i])
          .isLessThanOrEqualTo(2 * Math.ulp(want));
    }
  }

  @ParameterizedTest
  @EnumSource(VectorWidth.class)
  void swiGluTailEqualsFullVectorLanes(VectorWidth width) {
    SimdKernels simd = SimdKernels.of(width);
    float[] tmp = new float[2 * simd.lanes()];
    int n = 3 * simd.lanes() + 5;
    float[] g = input(1, H, 4);
    float[] u = input(1, H, 5);
    float[] whole = Arrays.copyOf(g, H);
    simd.swiGlu(whole, u, 0, H, tmp);
    // the same elements starting at an odd offset: different lanes and a tail
    float[] shifted = Arrays.copyOf(g, H);
    simd.swiGlu(shifted, u, 3, 3 + n, tmp);
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
    int nr = 2 * VectorWidth.preferred().lanes();
    long perExpert = 4L * (2 * ((F + nr - 1) / nr) * nr * H + ((H + nr - 1) / nr) * nr * F);
    try (WorkerPool pool = new WorkerPool(1)) {
      CpuFfn ffn = new CpuFfn(pool, SimdKernels.of(VectorWidth.preferred()), perExpert, 1);
      run(ffn, a, input(2, H, 1), 2);
      assertThat(holdsAll(ffn.store(), a)).isTrue();
      assertThat(ffn.store().bytes()).isEqualTo(perExpert);
      run(ffn, b, input(2, H, 1), 2);
      assertThat(holdsAll(ffn.store(), b)).isTrue();
      assertThat(holdsAll(ffn.store(), a)).isFalse();
      assertThat(ffn.store().bytes()).isLessThanOrEqualTo(perExpert);
    }
  }
}

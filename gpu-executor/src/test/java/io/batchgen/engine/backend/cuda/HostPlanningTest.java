package io.batchgen.engine.backend.cuda;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.batchgen.core.model.AttentionBatch;
import io.batchgen.engine.format.DType;
import io.batchgen.engine.format.Half;
import io.batchgen.engine.model.WeightTensor;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The cuda backend's host side, which runs without a GPU: weight planes, the grouped GEMM's
 * tiles and the attention metadata the kernels index by.
 */
class HostPlanningTest {

  @Test
  void bf16RoundsToNearestEvenLikeTheDevice() {
    // ties go to even: 1 + 2^-8 lies halfway between 1 and 1 + 2^-7
    assertThat(Half.bf16ToFloat(Half.floatToBf16(1.00390625f))).isEqualTo(1f);
    assertThat(Half.bf16ToFloat(Half.floatToBf16(1.01171875f))).isEqualTo(1.015625f);
    assertThat(Half.bf16ToFloat(Half.floatToBf16(Float.MAX_VALUE)))
        .isEqualTo(Float.POSITIVE_INFINITY);
    assertThat(Float.isNaN(Half.bf16ToFloat(Half.floatToBf16(Float.NaN)))).isTrue();
  }

  @Test
  void hiPlusLoCarriesSixteenBits() {
    SplittableRandom r = new SplittableRandom(5);
    int rows = 7;
    int cols = 33;
    float[] w = new float[rows * cols];
    ByteBuffer bytes = ByteBuffer.allocate(4 * w.length).order(ByteOrder.LITTLE_ENDIAN);
    for (int i = 0; i < w.length; i++) {
      w[i] = (float) (r.nextGaussian() * Math.pow(10, r.nextInt(-3, 3)));
      bytes.putFloat(w[i]);
    }
    Bf16Planes p = Bf16Planes.of(new WeightTensor("w", DType.F32, rows, cols, bytes.flip()));
    assertThat(p.lo()).as("f32 weights need a lo plane").isNotNull();
    assertThat(p.deviceBytes()).isEqualTo(4L * rows * cols);
    for (int i = 0; i < w.length; i++) {
      float got = p.value(i / cols, i % cols);
      assertThat(Math.abs(got - w[i])).as("element %d", i)
          .isLessThanOrEqualTo(Math.abs(w[i]) * 0x1p-16f);
    }
  }

  @Test
  void bf16WeightsGoUpAsTheyAre() {
    ByteBuffer bytes = ByteBuffer.allocate(2 * 6).order(ByteOrder.LITTLE_ENDIAN);
    float[] v = {1f, -2.5f, 0.15625f, 3f, 1024f, -0.0078125f};
    for (float f : v) {
      bytes.putShort(Half.floatToBf16(f));
    }
    Bf16Planes p = Bf16Planes.of(new WeightTensor("w", DType.BF16, 2, 3, bytes.flip()));
    assertThat(p.lo()).isNull();
    assertThat(p.deviceBytes()).isEqualTo(12);
    for (int i = 0; i < v.length; i++) {
      assertThat(p.value(i / 3, i % 3)).isEqualTo(v[i]);
    }
  }

  @Test
  void exactF16WeightsNeedNoLoPlane() {
    ByteBuffer bytes = ByteBuffer.allocate(2 * 4).order(ByteOrder.LITTLE_ENDIAN);
    for (float f : new float[] {1f, 0.5f, -4f, 0.25f}) {
      bytes.putShort(Half.floatToF16(f));
    }
    assertThat(Bf16Planes.of(new WeightTensor("w", DType.F16, 2, 2, bytes.flip())).lo())
        .isNull();
  }

  @Test
  void gemmTilesCoverEveryRowOnceInGroupOrder() {
    int[] ids = {3, 0, 7, 5};
    int[] rows = {130, 0, 64, 1};
    int[] t = GemmTiles.of(ids, rows);
    assertThat(t.length / 4).isEqualTo(3 + 0 + 1 + 1);
    int next = 0;
    int[] perGroup = new int[8];
    for (int i = 0; i < t.length / 4; i++) {
      assertThat(t[4 * i + 1]).as("tiles are consecutive").isEqualTo(next);
      assertThat(t[4 * i + 2]).isBetween(1, GemmTiles.TILE_ROWS);
      perGroup[t[4 * i]] += t[4 * i + 2];
      next += t[4 * i + 2];
    }
    assertThat(next).isEqualTo(195);
    assertThat(perGroup).containsExactly(0, 0, 0, 130, 0, 1, 0, 64);
    assertThat(GemmTiles.single(64)).containsExactly(0, 0, 64, 0);
    assertThat(GemmTiles.columnBlocks(32000)).isEqualTo(500);
    assertThat(GemmTiles.columnBlocks(65)).isEqualTo(2);
    assertThatThrownBy(() -> GemmTiles.single(GemmTiles.TILE_ROWS * 70_000))
        .hasMessageContaining("lower the module batch size");
  }

  @Test
  void attentionMetadataFindsEachRowsBlocks() {
    AttentionBatch b = new AttentionBatch().reset(0, 9, 8, 1, null);
    int[] tableA = {3, 1, 9, 9};
    int[] tableB = {0, 6};
    b.addSegment(0, 6, 0, tableA); // prefill positions 0..5
    b.addSegment(6, 3, 5, tableB); // positions 5..7 of a sequence with 5 cached
    AttentionMeta m = AttentionMeta.of(b, 4);
    assertThat(m.ints()).hasSize(2 * 9 + 2 + 2);
    for (int r = 0; r < 9; r++) {
      int[] table = r < 6 ? tableA : tableB;
      int pos = m.rowPosition(r);
      assertThat(pos).isEqualTo(r < 6 ? r : 5 + r - 6);
      for (int p = 0; p <= pos; p++) {
        assertThat(m.block(r, p, 4)).as("row %d position %d", r, p).isEqualTo(table[p / 4]);
      }
    }
  }
}

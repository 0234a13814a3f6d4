package io.batchgen.engine.backend;

import io.batchgen.engine.model.WeightTensor;

/** BF16 rows: a bf16 value is the top half of the float's bits. */
final class Bf16Rows implements RowDecoder {
  static final Bf16Rows INSTANCE = new Bf16Rows();

  @Override
  public void decode(WeightTensor w, int row, int count, float[] dst, Scratch scratch) {
    int n = count * w.cols();
    short[] raw = scratch.shorts(n);
    w.u16().get(row * w.cols(), raw, 0, n);
    for (int i = 0; i < n; i++) {
      dst[i] = Float.intBitsToFloat(raw[i] << 16);
    }
  }
}

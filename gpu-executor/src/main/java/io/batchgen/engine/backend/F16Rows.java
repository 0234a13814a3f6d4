package io.batchgen.engine.backend;

import io.batchgen.engine.format.Half;
import io.batchgen.engine.model.WeightTensor;

/** IEEE half rows. */
final class F16Rows implements RowDecoder {
  static final F16Rows INSTANCE = new F16Rows();

  @Override
  public void decode(WeightTensor w, int row, int count, float[] dst, Scratch scratch) {
    int n = count * w.cols();
    short[] raw = scratch.shorts(n);
    w.u16().get(row * w.cols(), raw, 0, n);
    for (int i = 0; i < n; i++) {
      dst[i] = Half.f16ToFloat(raw[i]);
    }
  }
}

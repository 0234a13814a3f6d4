package io.batchgen.engine.backend;

import io.batchgen.engine.model.WeightTensor;

/** F32 rows: one bulk copy out of the mapping. */
final class F32Rows implements RowDecoder {
  static final F32Rows INSTANCE = new F32Rows();

  @Override
  public void decode(WeightTensor w, int row, int count, float[] dst, Scratch scratch) {
    w.f32().get(row * w.cols(), dst, 0, count * w.cols());
  }
}

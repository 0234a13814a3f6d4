package io.batchgen.engine.backend;

import io.batchgen.engine.format.Half;
import io.batchgen.engine.model.WeightTensor;

/** Q8_0 rows: each block of 32 int8 values times its f16 scale, as llama.cpp dequantises. */
final class Q8Rows implements RowDecoder {
  static final Q8Rows INSTANCE = new Q8Rows();

  @Override
  public void decode(WeightTensor w, int row, int count, float[] dst, Scratch scratch) {
    int bytes = (int) (count * w.rowBytes());
    byte[] raw = scratch.bytes(bytes);
    w.data().get((int) (row * w.rowBytes()), raw, 0, bytes);
    int blocks = count * w.cols() / 32;
    for (int b = 0; b < blocks; b++) {
      int p = b * 34;
      float d = Half.f16ToFloat((short) ((raw[p] & 0xff) | (raw[p + 1] << 8)));
      for (int q = 0; q < 32; q++) {
        dst[b * 32 + q] = raw[p + 2 + q] * d;
      }
    }
  }
}

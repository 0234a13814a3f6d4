package io.batchgen.engine.backend;

import io.batchgen.engine.format.Half;
import io.batchgen.engine.model.WeightTensor;

/** Panels from Q8_0 weights: each block of 32 int8 values times its f16 scale. */
final class Q8Packer implements PanelPacker {
  @Override
  public void pack(WeightTensor w, int n0, int count, float[] panel, Scratch s) {
    int k = w.cols();
    int rowBytes = (int) w.rowBytes();
    byte[] raw = s.bytes(rowBytes);
    java.nio.ByteBuffer data = w.data();
    for (int j = 0; j < count; j++) {
      data.get((int) ((long) (n0 + j) * rowBytes), raw, 0, rowBytes);
      for (int b = 0; b < k / 32; b++) {
        int p = b * 34;
        float d = Half.f16ToFloat((short) ((raw[p] & 0xff) | (raw[p + 1] << 8)));
        for (int q = 0; q < 32; q++) {
          panel[(b * 32 + q) * Gemm.NR + j] = raw[p + 2 + q] * d;
        }
      }
    }
    PanelPacker.zeroTail(panel, k, count);
  }
}

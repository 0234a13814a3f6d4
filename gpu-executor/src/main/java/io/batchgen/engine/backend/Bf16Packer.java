package io.batchgen.engine.backend;

import io.batchgen.engine.model.WeightTensor;

/** Panels from BF16 weights: a bf16 value is the top half of the float's bits. */
final class Bf16Packer implements PanelPacker {
  @Override
  public void pack(WeightTensor w, int n0, int count, float[] panel, Scratch s) {
    int k = w.cols();
    short[] raw = s.shorts(k);
    for (int j = 0; j < count; j++) {
      w.u16().get((n0 + j) * k, raw, 0, k);
      for (int kk = 0; kk < k; kk++) {
        panel[kk * Gemm.NR + j] = Float.intBitsToFloat(raw[kk] << 16);
      }
    }
    PanelPacker.zeroTail(panel, k, count);
  }
}

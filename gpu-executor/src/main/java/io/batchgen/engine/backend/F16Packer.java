package io.batchgen.engine.backend;

import io.batchgen.engine.format.Half;
import io.batchgen.engine.model.WeightTensor;

/** Panels from IEEE half weights. */
final class F16Packer implements PanelPacker {
  @Override
  public void pack(WeightTensor w, int n0, int count, float[] panel, Scratch s) {
    int k = w.cols();
    short[] raw = s.shorts(k);
    for (int j = 0; j < count; j++) {
      w.u16().get((n0 + j) * k, raw, 0, k);
      for (int kk = 0; kk < k; kk++) {
        panel[kk * Gemm.NR + j] = Half.f16ToFloat(raw[kk]);
      }
    }
    PanelPacker.zeroTail(panel, k, count);
  }
}

package io.batchgen.engine.backend;

import io.batchgen.engine.model.WeightTensor;

/** Panels from F32 weights: bulk copy of each row out of the mapping, then transpose. */
final class F32Packer implements PanelPacker {
  @Override
  public void pack(WeightTensor w, int n0, int count, float[] panel, Scratch s) {
    int k = w.cols();
    float[] row = s.row(k);
    for (int j = 0; j < count; j++) {
      w.f32().get((n0 + j) * k, row, 0, k);
      for (int kk = 0; kk < k; kk++) {
        panel[kk * Gemm.NR + j] = row[kk];
      }
    }
    PanelPacker.zeroTail(panel, k, count);
  }
}

package io.batchgen.engine.backend;

import io.batchgen.engine.model.ExpertWeights;

/**
 * The cpu backend's expert FFN over all rows routed to one expert: one task computes the gate and
 * up outputs of the same strip of columns and applies SiLU at once; then the down projection.
 * Both are {@link Gemm}s over the whole batch. Not thread-safe (one caller at a time).
 */
final class CpuFfn {
  private final Gemm gemm;
  private float[] xT = new float[0];
  private float[] gate = new float[0];
  private float[] up = new float[0];

  CpuFfn(Gemm gemm) {
    this.gemm = gemm;
  }

  void run(ExpertWeights w, float[] x, int rows, float[] out) {
    if (rows == 0) {
      return;
    }
    int f = w.ffnSize();
    int h = w.gate().cols();
    if (gate.length < rows * f) {
      gate = new float[rows * f];
      up = new float[rows * f];
    }
    xT = Gemm.transpose(x, 0, rows, h, xT);
    float[] xt = xT;
    float[] g = gate;
    float[] u = up;
    RowDecoder gd = RowDecoder.of(w.gate().dtype());
    RowDecoder ud = RowDecoder.of(w.up().dtype());
    int strips = (f + Gemm.STRIP - 1) / Gemm.STRIP;
    gemm.pool().run(strips, (worker, from, to) -> {
      Gemm.Workspace wk = gemm.workspace(worker);
      float[] buf = wk.rows(Gemm.STRIP * h);
      for (int s = from; s < to; s++) {
        int n0 = s * Gemm.STRIP;
        int count = Math.min(Gemm.STRIP, f - n0);
        gd.decode(w.gate(), n0, count, buf, wk.scratch);
        Gemm.strip(xt, rows, h, buf, count, g, n0, f, wk.lanes);
        ud.decode(w.up(), n0, count, buf, wk.scratch);
        Gemm.strip(xt, rows, h, buf, count, u, n0, f, wk.lanes);
        for (int r = 0; r < rows; r++) {
          for (int j = n0; j < n0 + count; j++) {
            float a = g[r * f + j];
            g[r * f + j] = a / (1f + (float) Math.exp(-a)) * u[r * f + j];
          }
        }
      }
    });
    gemm.matmul(g, 0, rows, w.down(), out, 0, w.down().rows());
  }
}

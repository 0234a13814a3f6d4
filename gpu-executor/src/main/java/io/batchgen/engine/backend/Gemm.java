package io.batchgen.engine.backend;

import io.batchgen.engine.model.WeightTensor;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * {@code out (m, N) = x (m, K) · W^T} for a weight matrix {@code W (N, K)} in any stored type.
 *
 * <p>Work is split by strips of {@link #NR} weight rows (output columns): a worker decodes a strip
 * once into a k-major float panel and runs every row of {@code x} against it. The micro-kernel
 * keeps one accumulator lane per output element and adds {@code x[m][k] * w[n][k]} for k = 0, 1,
 * ..., K-1 with fused multiply-adds, in that order, whatever the batch size, the row's place in
 * the batch, the strip split or the thread count: every element is the same sequential FMA chain,
 * so results are bitwise batch-invariant and need no horizontal reduction.
 */
final class Gemm {
  static final VectorSpecies<Float> S = FloatVector.SPECIES_256;
  /** Output columns per strip: two 8-lane vectors. */
  static final int NR = 16;
  /** Rows of x per micro-kernel call. */
  static final int MR = 4;

  private Gemm() {
  }

  /** Per-worker scratch: the panel and the packer's buffers. */
  static final class Workspace {
    float[] panel = new float[0];
    final PanelPacker.Scratch scratch = new PanelPacker.Scratch();
    final float[] tail = new float[NR];

    float[] panel(int k) {
      if (panel.length < k * NR) {
        panel = new float[k * NR];
      }
      return panel;
    }
  }

  /**
   * Computes {@code out[outOff + r * ldo + n] = sum_k x[xOff + r * K + k] * W[n][k]} for
   * {@code r < m}, {@code n < N}.
   */
  static void matmul(WorkerPool pool, Workspace[] ws, float[] x, int xOff, int m, WeightTensor w,
      PanelPacker packer, float[] out, int outOff, int ldo) {
    if (m == 0) {
      return;
    }
    int n = w.rows();
    int strips = (n + NR - 1) / NR;
    pool.run(strips, (worker, from, to) -> {
      Workspace wk = ws[worker];
      float[] panel = wk.panel(w.cols());
      for (int s = from; s < to; s++) {
        int n0 = s * NR;
        int count = Math.min(NR, n - n0);
        packer.pack(w, n0, count, panel, wk.scratch);
        strip(x, xOff, m, w.cols(), panel, out, outOff, ldo, n0, count, wk.tail);
      }
    });
  }

  /** All rows of x against one packed strip. */
  static void strip(float[] x, int xOff, int m, int k, float[] panel, float[] out, int outOff,
      int ldo, int n0, int count, float[] tail) {
    int r = 0;
    for (; r + MR <= m; r += MR) {
      kernel4(x, xOff + r * k, k, panel, out, outOff + r * ldo + n0, ldo, count, tail);
    }
    for (; r < m; r++) {
      kernel1(x, xOff + r * k, k, panel, out, outOff + r * ldo + n0, count, tail);
    }
  }

  private static void kernel4(float[] x, int x0, int k, float[] panel, float[] out, int o0,
      int ldo, int count, float[] tail) {
    FloatVector c00 = FloatVector.zero(S);
    FloatVector c01 = FloatVector.zero(S);
    FloatVector c10 = FloatVector.zero(S);
    FloatVector c11 = FloatVector.zero(S);
    FloatVector c20 = FloatVector.zero(S);
    FloatVector c21 = FloatVector.zero(S);
    FloatVector c30 = FloatVector.zero(S);
    FloatVector c31 = FloatVector.zero(S);
    int x1 = x0 + k;
    int x2 = x1 + k;
    int x3 = x2 + k;
    for (int kk = 0; kk < k; kk++) {
      FloatVector w0 = FloatVector.fromArray(S, panel, kk * NR);
      FloatVector w1 = FloatVector.fromArray(S, panel, kk * NR + 8);
      FloatVector a = FloatVector.broadcast(S, x[x0 + kk]);
      c00 = a.fma(w0, c00);
      c01 = a.fma(w1, c01);
      a = FloatVector.broadcast(S, x[x1 + kk]);
      c10 = a.fma(w0, c10);
      c11 = a.fma(w1, c11);
      a = FloatVector.broadcast(S, x[x2 + kk]);
      c20 = a.fma(w0, c20);
      c21 = a.fma(w1, c21);
      a = FloatVector.broadcast(S, x[x3 + kk]);
      c30 = a.fma(w0, c30);
      c31 = a.fma(w1, c31);
    }
    store(c00, c01, out, o0, count, tail);
    store(c10, c11, out, o0 + ldo, count, tail);
    store(c20, c21, out, o0 + 2 * ldo, count, tail);
    store(c30, c31, out, o0 + 3 * ldo, count, tail);
  }

  private static void kernel1(float[] x, int x0, int k, float[] panel, float[] out, int o0,
      int count, float[] tail) {
    FloatVector c0 = FloatVector.zero(S);
    FloatVector c1 = FloatVector.zero(S);
    for (int kk = 0; kk < k; kk++) {
      FloatVector a = FloatVector.broadcast(S, x[x0 + kk]);
      c0 = a.fma(FloatVector.fromArray(S, panel, kk * NR), c0);
      c1 = a.fma(FloatVector.fromArray(S, panel, kk * NR + 8), c1);
    }
    store(c0, c1, out, o0, count, tail);
  }

  private static void store(FloatVector lo, FloatVector hi, float[] out, int o, int count,
      float[] tail) {
    if (count == NR) {
      lo.intoArray(out, o);
      hi.intoArray(out, o + 8);
    } else {
      lo.intoArray(tail, 0);
      hi.intoArray(tail, 8);
      System.arraycopy(tail, 0, out, o, count);
    }
  }
}

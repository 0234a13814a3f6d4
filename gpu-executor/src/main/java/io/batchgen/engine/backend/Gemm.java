package io.batchgen.engine.backend;

import io.batchgen.engine.model.WeightTensor;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * {@code out (m, N) = x (m, K) · W^T} for a weight matrix {@code W (N, K)} in any stored type,
 * vectorised across the batch rows.
 *
 * <p>x is transposed once per call into {@code xT (K, mp)} ({@code mp} = m rounded up to 8, zero
 * padded); W is split into strips of {@link #STRIP} rows (output columns), each decoded once by
 * one worker into floats in its stored row-major order, with no transposition. The micro-kernel
 * holds one lane per batch row and, for each k in increasing order, adds {@code x[m][k] *
 * W[n][k]} with a fused multiply-add. So every output element is the same sequential FMA chain
 * over k whatever the batch size, the row's lane, the strip split or the thread count: results
 * are bitwise batch-invariant, with no horizontal reduction whose order could vary.
 *
 * <p>Not thread-safe: one caller at a time, which fans out to the pool itself.
 */
final class Gemm {
  static final VectorSpecies<Float> S = FloatVector.SPECIES_256;
  static final int L = 8;
  /** Weight rows decoded per task. */
  static final int STRIP = 16;
  /** Batch rows per cache block (a multiple of 16). */
  static final int CHUNK = 96;

  private final WorkerPool pool;
  private final Workspace[] ws;
  private float[] xT = new float[0];

  Gemm(WorkerPool pool) {
    this.pool = pool;
    this.ws = new Workspace[pool.threads()];
    for (int i = 0; i < ws.length; i++) {
      ws[i] = new Workspace();
    }
  }

  WorkerPool pool() {
    return pool;
  }

  /** Per-worker scratch: decoded weight rows, the decoder's buffers, a lane buffer. */
  static final class Workspace {
    private float[] rows = new float[0];
    final RowDecoder.Scratch scratch = new RowDecoder.Scratch();
    final float[] lanes = new float[L];
    private float[] acc = new float[0];
    /** Scratch for {@link SwiGlu#apply}. */
    final float[] tail = new float[2 * L];
    /** A BF16 panel block widened to f32 ({@link PanelGemm#panel}). */
    final float[] widened = new float[PanelGemm.widenedLength()];

    /** Accumulator tile for {@link PanelGemm#panel}: {@code m * NR} floats. */
    float[] acc(int m) {
      if (acc.length < m * PanelGemm.NR) {
        acc = new float[m * PanelGemm.NR];
      }
      return acc;
    }

    float[] rows(int n) {
      if (rows.length < n) {
        rows = new float[n];
      }
      return rows;
    }
  }

  static int padded(int m) {
    return (m + L - 1) / L * L;
  }

  /** {@code dst (k, padded(m))} = transpose of {@code x (m, k)}, zero padded; grows dst. */
  static float[] transpose(float[] x, int xOff, int m, int k, float[] dst) {
    int mp = padded(m);
    if (dst.length < k * mp) {
      dst = new float[k * mp];
    }
    for (int r = 0; r < m; r++) {
      int src = xOff + r * k;
      for (int kk = 0; kk < k; kk++) {
        dst[kk * mp + r] = x[src + kk];
      }
    }
    for (int r = m; r < mp; r++) {
      for (int kk = 0; kk < k; kk++) {
        dst[kk * mp + r] = 0f;
      }
    }
    return dst;
  }

  /**
   * Computes {@code out[outOff + r * ldo + n] = sum_k x[xOff + r * K + k] * W[n][k]} for
   * {@code r < m}, {@code n < N}.
   */
  void matmul(float[] x, int xOff, int m, WeightTensor w, float[] out, int outOff, int ldo) {
    if (m == 0) {
      return;
    }
    int k = w.cols();
    xT = transpose(x, xOff, m, k, xT);
    float[] xt = xT;
    RowDecoder decoder = RowDecoder.of(w.dtype());
    int n = w.rows();
    int strips = (n + STRIP - 1) / STRIP;
    pool.run(strips, (worker, from, to) -> {
      Workspace wk = ws[worker];
      float[] rows = wk.rows(STRIP * k);
      for (int s = from; s < to; s++) {
        int n0 = s * STRIP;
        int count = Math.min(STRIP, n - n0);
        decoder.decode(w, n0, count, rows, wk.scratch);
        strip(xt, m, k, rows, count, out, outOff + n0, ldo, wk.lanes);
      }
    });
  }

  /** Workspace of a worker, for callers that run strips themselves. */
  Workspace workspace(int worker) {
    return ws[worker];
  }

  /**
   * All batch rows ({@code xT (k, padded(m))}) against {@code count} decoded weight rows
   * {@code w (count, k)}; output column j goes to {@code out[outOff + r * ldo + j]}.
   */
  static void strip(float[] xT, int m, int k, float[] w, int count, float[] out, int outOff,
      int ldo, float[] lanes) {
    int mp = padded(m);
    // Rows in chunks that keep their slice of xT in L2 while the strip's rows stream by.
    for (int c0 = 0; c0 < mp; c0 += CHUNK) {
      int c1 = Math.min(mp, c0 + CHUNK);
      int j = 0;
      for (; j + 4 <= count; j += 4) {
        int r = c0;
        for (; r + 24 <= c1; r += 24) {
          kernel24x4(xT, mp, r, k, w, j * k, out, outOff + j, ldo, m, lanes);
        }
        for (; r + 16 <= c1; r += 16) {
          kernel16x4(xT, mp, r, k, w, j * k, out, outOff + j, ldo, m, lanes);
        }
        for (; r < c1; r += 8) {
          kernel8x4(xT, mp, r, k, w, j * k, out, outOff + j, ldo, m, lanes);
        }
      }
      for (; j < count; j++) {
        for (int r = c0; r < c1; r += 8) {
          kernel8x1(xT, mp, r, k, w, j * k, out, outOff + j, ldo, m, lanes);
        }
      }
    }
  }

  private static void kernel24x4(float[] xT, int mp, int r0, int k, float[] w, int w0,
      float[] out, int o0, int ldo, int m, float[] lanes) {
    FloatVector c00 = FloatVector.zero(S);
    FloatVector c01 = FloatVector.zero(S);
    FloatVector c02 = FloatVector.zero(S);
    FloatVector c03 = FloatVector.zero(S);
    FloatVector c10 = FloatVector.zero(S);
    FloatVector c11 = FloatVector.zero(S);
    FloatVector c12 = FloatVector.zero(S);
    FloatVector c13 = FloatVector.zero(S);
    FloatVector c20 = FloatVector.zero(S);
    FloatVector c21 = FloatVector.zero(S);
    FloatVector c22 = FloatVector.zero(S);
    FloatVector c23 = FloatVector.zero(S);
    int w1 = w0 + k;
    int w2 = w1 + k;
    int w3 = w2 + k;
    for (int kk = 0; kk < k; kk++) {
      int xo = kk * mp + r0;
      FloatVector a0 = FloatVector.fromArray(S, xT, xo);
      FloatVector a1 = FloatVector.fromArray(S, xT, xo + 8);
      FloatVector a2 = FloatVector.fromArray(S, xT, xo + 16);
      FloatVector b = FloatVector.broadcast(S, w[w0 + kk]);
      c00 = a0.fma(b, c00);
      c10 = a1.fma(b, c10);
      c20 = a2.fma(b, c20);
      b = FloatVector.broadcast(S, w[w1 + kk]);
      c01 = a0.fma(b, c01);
      c11 = a1.fma(b, c11);
      c21 = a2.fma(b, c21);
      b = FloatVector.broadcast(S, w[w2 + kk]);
      c02 = a0.fma(b, c02);
      c12 = a1.fma(b, c12);
      c22 = a2.fma(b, c22);
      b = FloatVector.broadcast(S, w[w3 + kk]);
      c03 = a0.fma(b, c03);
      c13 = a1.fma(b, c13);
      c23 = a2.fma(b, c23);
    }
    store(c00, out, o0, ldo, r0, m, lanes);
    store(c01, out, o0 + 1, ldo, r0, m, lanes);
    store(c02, out, o0 + 2, ldo, r0, m, lanes);
    store(c03, out, o0 + 3, ldo, r0, m, lanes);
    store(c10, out, o0, ldo, r0 + 8, m, lanes);
    store(c11, out, o0 + 1, ldo, r0 + 8, m, lanes);
    store(c12, out, o0 + 2, ldo, r0 + 8, m, lanes);
    store(c13, out, o0 + 3, ldo, r0 + 8, m, lanes);
    store(c20, out, o0, ldo, r0 + 16, m, lanes);
    store(c21, out, o0 + 1, ldo, r0 + 16, m, lanes);
    store(c22, out, o0 + 2, ldo, r0 + 16, m, lanes);
    store(c23, out, o0 + 3, ldo, r0 + 16, m, lanes);
  }

  private static void kernel16x4(float[] xT, int mp, int r0, int k, float[] w, int w0,
      float[] out, int o0, int ldo, int m, float[] lanes) {
    FloatVector c00 = FloatVector.zero(S);
    FloatVector c01 = FloatVector.zero(S);
    FloatVector c02 = FloatVector.zero(S);
    FloatVector c03 = FloatVector.zero(S);
    FloatVector c10 = FloatVector.zero(S);
    FloatVector c11 = FloatVector.zero(S);
    FloatVector c12 = FloatVector.zero(S);
    FloatVector c13 = FloatVector.zero(S);
    int w1 = w0 + k;
    int w2 = w1 + k;
    int w3 = w2 + k;
    for (int kk = 0; kk < k; kk++) {
      FloatVector a0 = FloatVector.fromArray(S, xT, kk * mp + r0);
      FloatVector a1 = FloatVector.fromArray(S, xT, kk * mp + r0 + 8);
      FloatVector b = FloatVector.broadcast(S, w[w0 + kk]);
      c00 = a0.fma(b, c00);
      c10 = a1.fma(b, c10);
      b = FloatVector.broadcast(S, w[w1 + kk]);
      c01 = a0.fma(b, c01);
      c11 = a1.fma(b, c11);
      b = FloatVector.broadcast(S, w[w2 + kk]);
      c02 = a0.fma(b, c02);
      c12 = a1.fma(b, c12);
      b = FloatVector.broadcast(S, w[w3 + kk]);
      c03 = a0.fma(b, c03);
      c13 = a1.fma(b, c13);
    }
    store(c00, out, o0, ldo, r0, m, lanes);
    store(c01, out, o0 + 1, ldo, r0, m, lanes);
    store(c02, out, o0 + 2, ldo, r0, m, lanes);
    store(c03, out, o0 + 3, ldo, r0, m, lanes);
    store(c10, out, o0, ldo, r0 + 8, m, lanes);
    store(c11, out, o0 + 1, ldo, r0 + 8, m, lanes);
    store(c12, out, o0 + 2, ldo, r0 + 8, m, lanes);
    store(c13, out, o0 + 3, ldo, r0 + 8, m, lanes);
  }

  private static void kernel8x4(float[] xT, int mp, int r0, int k, float[] w, int w0,
      float[] out, int o0, int ldo, int m, float[] lanes) {
    FloatVector c0 = FloatVector.zero(S);
    FloatVector c1 = FloatVector.zero(S);
    FloatVector c2 = FloatVector.zero(S);
    FloatVector c3 = FloatVector.zero(S);
    int w1 = w0 + k;
    int w2 = w1 + k;
    int w3 = w2 + k;
    for (int kk = 0; kk < k; kk++) {
      FloatVector a = FloatVector.fromArray(S, xT, kk * mp + r0);
      c0 = a.fma(FloatVector.broadcast(S, w[w0 + kk]), c0);
      c1 = a.fma(FloatVector.broadcast(S, w[w1 + kk]), c1);
      c2 = a.fma(FloatVector.broadcast(S, w[w2 + kk]), c2);
      c3 = a.fma(FloatVector.broadcast(S, w[w3 + kk]), c3);
    }
    store(c0, out, o0, ldo, r0, m, lanes);
    store(c1, out, o0 + 1, ldo, r0, m, lanes);
    store(c2, out, o0 + 2, ldo, r0, m, lanes);
    store(c3, out, o0 + 3, ldo, r0, m, lanes);
  }

  private static void kernel8x1(float[] xT, int mp, int r0, int k, float[] w, int w0,
      float[] out, int o0, int ldo, int m, float[] lanes) {
    FloatVector c = FloatVector.zero(S);
    for (int kk = 0; kk < k; kk++) {
      c = FloatVector.fromArray(S, xT, kk * mp + r0).fma(FloatVector.broadcast(S, w[w0 + kk]), c);
    }
    store(c, out, o0, ldo, r0, m, lanes);
  }

  /** Lane l holds batch row r0 + l of one output column. */
  private static void store(FloatVector c, float[] out, int o, int ldo, int r0, int m,
      float[] lanes) {
    c.intoArray(lanes, 0);
    int n = Math.min(L, m - r0);
    for (int l = 0; l < n; l++) {
      out[o + (r0 + l) * ldo] = lanes[l];
    }
  }
}

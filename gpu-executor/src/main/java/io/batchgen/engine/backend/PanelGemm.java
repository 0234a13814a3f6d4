package io.batchgen.engine.backend;

import io.batchgen.engine.model.WeightTensor;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * {@code out (m, N) = x (m, K) · W^T} against a weight matrix {@code W (N, K)} that has been
 * packed into k-major panels ({@link Packed}), vectorised across the output columns.
 *
 * <p>A panel holds {@link #NR} output columns: for each k in increasing order, the
 * {@link #NR} weights {@code W[n0 .. n0 + NR)[k]} side by side (columns past N are zero). The
 * micro-kernels hold {@code R x NR} accumulators ({@code R} = 4, 3, 2 or 1 batch rows, three
 * vectors of columns each: 12 accumulators, 3 weight vectors and 1 broadcast fill AVX2's 16
 * registers) and, for each k in increasing order, add {@code x[r][k] * W[n][k]} with one
 * fused multiply-add per element. Every output element is therefore the same sequential FMA chain
 * over k, starting from zero, whichever kernel (row block size), position in the batch, batch size
 * or thread computes it: bitwise batch-invariant, and bitwise equal to {@link Gemm}'s results,
 * which use the same chain with the lanes across rows instead.
 *
 * <p>Stateless; callers split the panels across workers (one panel, one worker).
 */
final class PanelGemm {
  static final VectorSpecies<Float> S = Gemm.S;
  static final int L = Gemm.L;
  /** Output columns per panel: three vectors. */
  static final int NR = 3 * L;
  /** k per block: a {@code (KC, NR)} panel slice is 24 KiB, within L1. */
  static final int KC = 256;

  private PanelGemm() {
  }

  /**
   * A weight matrix {@code W (n, k)} packed as {@code panels(n)} panels of {@code (k, NR)} floats,
   * {@code W[p * NR + j][kk]} at {@code panels[(p * k + kk) * NR + j]}.
   */
  record Packed(String name, int n, int k, float[] panels) {
    int panelCount() {
      return PanelGemm.panels(n);
    }

    long bytes() {
      return 4L * panels.length;
    }
  }

  static int panels(int n) {
    return (n + NR - 1) / NR;
  }

  /** A zeroed array for {@code w} packed; fails with the tensor's name if it cannot be. */
  static float[] allocate(WeightTensor w) {
    long floats = (long) panels(w.rows()) * NR * w.cols();
    if (floats > Integer.MAX_VALUE - 8) {
      throw new IllegalArgumentException("Tensor " + w.name() + " (" + w.rows() + ", " + w.cols()
          + ") is too large to pack for the cpu backend");
    }
    return new float[(int) floats];
  }

  /** Decodes and packs panels {@code [from, to)} of {@code w} into {@code dst}. */
  static void pack(WeightTensor w, int from, int to, float[] dst, Gemm.Workspace wk) {
    int k = w.cols();
    int n = w.rows();
    RowDecoder decoder = RowDecoder.of(w.dtype());
    float[] rows = wk.rows(NR * k);
    for (int p = from; p < to; p++) {
      int n0 = p * NR;
      int count = Math.min(NR, n - n0);
      decoder.decode(w, n0, count, rows, wk.scratch);
      int base = p * NR * k;
      for (int j = 0; j < count; j++) {
        int src = j * k;
        int d = base + j;
        for (int kk = 0; kk < k; kk++, d += NR) {
          dst[d] = rows[src + kk];
        }
      }
    }
  }

  /**
   * Panel {@code p} of {@code w} against rows {@code [0, m)} of {@code x} (row r at
   * {@code x[r * ldx]}): writes {@code out[outOff + r * ldo + p * NR + j]} for the panel's columns
   * below n. k runs in blocks of {@link #KC} so that the panel's slice stays in L1 across all row
   * blocks; the accumulators go through {@code acc} (at least {@code m * NR} floats) between
   * blocks, exactly, so every element is still one FMA chain over k in order.
   */
  static void panel(float[] x, int m, int ldx, Packed w, int p, float[] out, int outOff,
      int ldo, float[] acc) {
    int k = w.k();
    int po = p * NR * k;
    float[] pk = w.panels();
    for (int k0 = 0; k0 < k; k0 += KC) {
      int k1 = Math.min(k, k0 + KC);
      boolean first = k0 == 0;
      int r = 0;
      for (; r + 4 <= m; r += 4) {
        kernel4(x, r * ldx, ldx, k0, k1, pk, po, acc, r * NR, first);
      }
      switch (m - r) {
        case 3 -> kernel3(x, r * ldx, ldx, k0, k1, pk, po, acc, r * NR, first);
        case 2 -> kernel2(x, r * ldx, ldx, k0, k1, pk, po, acc, r * NR, first);
        case 1 -> kernel1(x, r * ldx, ldx, k0, k1, pk, po, acc, r * NR, first);
        default -> {
        }
      }
    }
    int n0 = p * NR;
    int valid = Math.min(NR, w.n() - n0);
    for (int r = 0; r < m; r++) {
      System.arraycopy(acc, r * NR, out, outOff + r * ldo + n0, valid);
    }
  }

  private static void kernel4(float[] x, int xo, int ldx, int k0, int k1, float[] p, int po,
      float[] acc, int ao, boolean first) {
    FloatVector c00 = first ? FloatVector.zero(S) : FloatVector.fromArray(S, acc, ao);
    FloatVector c01 = first ? FloatVector.zero(S) : FloatVector.fromArray(S, acc, ao + 8);
    FloatVector c02 = first ? FloatVector.zero(S) : FloatVector.fromArray(S, acc, ao + 16);
    FloatVector c10 = first ? FloatVector.zero(S) : FloatVector.fromArray(S, acc, ao + 24);
    FloatVector c11 = first ? FloatVector.zero(S) : FloatVector.fromArray(S, acc, ao + 32);
    FloatVector c12 = first ? FloatVector.zero(S) : FloatVector.fromArray(S, acc, ao + 40);
    FloatVector c20 = first ? FloatVector.zero(S) : FloatVector.fromArray(S, acc, ao + 48);
    FloatVector c21 = first ? FloatVector.zero(S) : FloatVector.fromArray(S, acc, ao + 56);
    FloatVector c22 = first ? FloatVector.zero(S) : FloatVector.fromArray(S, acc, ao + 64);
    FloatVector c30 = first ? FloatVector.zero(S) : FloatVector.fromArray(S, acc, ao + 72);
    FloatVector c31 = first ? FloatVector.zero(S) : FloatVector.fromArray(S, acc, ao + 80);
    FloatVector c32 = first ? FloatVector.zero(S) : FloatVector.fromArray(S, acc, ao + 88);
    int x0 = xo;
    int x1 = xo + 1 * ldx;
    int x2 = xo + 2 * ldx;
    int x3 = xo + 3 * ldx;
    int pi = po + k0 * NR;
    for (int kk = k0; kk < k1; kk++, pi += NR) {
      FloatVector b0 = FloatVector.fromArray(S, p, pi);
      FloatVector b1 = FloatVector.fromArray(S, p, pi + 1 * L);
      FloatVector b2 = FloatVector.fromArray(S, p, pi + 2 * L);
      FloatVector a = FloatVector.broadcast(S, x[x0 + kk]);
      c00 = a.fma(b0, c00);
      c01 = a.fma(b1, c01);
      c02 = a.fma(b2, c02);
      a = FloatVector.broadcast(S, x[x1 + kk]);
      c10 = a.fma(b0, c10);
      c11 = a.fma(b1, c11);
      c12 = a.fma(b2, c12);
      a = FloatVector.broadcast(S, x[x2 + kk]);
      c20 = a.fma(b0, c20);
      c21 = a.fma(b1, c21);
      c22 = a.fma(b2, c22);
      a = FloatVector.broadcast(S, x[x3 + kk]);
      c30 = a.fma(b0, c30);
      c31 = a.fma(b1, c31);
      c32 = a.fma(b2, c32);
    }
    c00.intoArray(acc, ao);
    c01.intoArray(acc, ao + 8);
    c02.intoArray(acc, ao + 16);
    c10.intoArray(acc, ao + 24);
    c11.intoArray(acc, ao + 32);
    c12.intoArray(acc, ao + 40);
    c20.intoArray(acc, ao + 48);
    c21.intoArray(acc, ao + 56);
    c22.intoArray(acc, ao + 64);
    c30.intoArray(acc, ao + 72);
    c31.intoArray(acc, ao + 80);
    c32.intoArray(acc, ao + 88);
  }

  private static void kernel3(float[] x, int xo, int ldx, int k0, int k1, float[] p, int po,
      float[] acc, int ao, boolean first) {
    FloatVector c00 = first ? FloatVector.zero(S) : FloatVector.fromArray(S, acc, ao);
    FloatVector c01 = first ? FloatVector.zero(S) : FloatVector.fromArray(S, acc, ao + 8);
    FloatVector c02 = first ? FloatVector.zero(S) : FloatVector.fromArray(S, acc, ao + 16);
    FloatVector c10 = first ? FloatVector.zero(S) : FloatVector.fromArray(S, acc, ao + 24);
    FloatVector c11 = first ? FloatVector.zero(S) : FloatVector.fromArray(S, acc, ao + 32);
    FloatVector c12 = first ? FloatVector.zero(S) : FloatVector.fromArray(S, acc, ao + 40);
    FloatVector c20 = first ? FloatVector.zero(S) : FloatVector.fromArray(S, acc, ao + 48);
    FloatVector c21 = first ? FloatVector.zero(S) : FloatVector.fromArray(S, acc, ao + 56);
    FloatVector c22 = first ? FloatVector.zero(S) : FloatVector.fromArray(S, acc, ao + 64);
    int x0 = xo;
    int x1 = xo + 1 * ldx;
    int x2 = xo + 2 * ldx;
    int pi = po + k0 * NR;
    for (int kk = k0; kk < k1; kk++, pi += NR) {
      FloatVector b0 = FloatVector.fromArray(S, p, pi);
      FloatVector b1 = FloatVector.fromArray(S, p, pi + 1 * L);
      FloatVector b2 = FloatVector.fromArray(S, p, pi + 2 * L);
      FloatVector a = FloatVector.broadcast(S, x[x0 + kk]);
      c00 = a.fma(b0, c00);
      c01 = a.fma(b1, c01);
      c02 = a.fma(b2, c02);
      a = FloatVector.broadcast(S, x[x1 + kk]);
      c10 = a.fma(b0, c10);
      c11 = a.fma(b1, c11);
      c12 = a.fma(b2, c12);
      a = FloatVector.broadcast(S, x[x2 + kk]);
      c20 = a.fma(b0, c20);
      c21 = a.fma(b1, c21);
      c22 = a.fma(b2, c22);
    }
    c00.intoArray(acc, ao);
    c01.intoArray(acc, ao + 8);
    c02.intoArray(acc, ao + 16);
    c10.intoArray(acc, ao + 24);
    c11.intoArray(acc, ao + 32);
    c12.intoArray(acc, ao + 40);
    c20.intoArray(acc, ao + 48);
    c21.intoArray(acc, ao + 56);
    c22.intoArray(acc, ao + 64);
  }

  private static void kernel2(float[] x, int xo, int ldx, int k0, int k1, float[] p, int po,
      float[] acc, int ao, boolean first) {
    FloatVector c00 = first ? FloatVector.zero(S) : FloatVector.fromArray(S, acc, ao);
    FloatVector c01 = first ? FloatVector.zero(S) : FloatVector.fromArray(S, acc, ao + 8);
    FloatVector c02 = first ? FloatVector.zero(S) : FloatVector.fromArray(S, acc, ao + 16);
    FloatVector c10 = first ? FloatVector.zero(S) : FloatVector.fromArray(S, acc, ao + 24);
    FloatVector c11 = first ? FloatVector.zero(S) : FloatVector.fromArray(S, acc, ao + 32);
    FloatVector c12 = first ? FloatVector.zero(S) : FloatVector.fromArray(S, acc, ao + 40);
    int x0 = xo;
    int x1 = xo + 1 * ldx;
    int pi = po + k0 * NR;
    for (int kk = k0; kk < k1; kk++, pi += NR) {
      FloatVector b0 = FloatVector.fromArray(S, p, pi);
      FloatVector b1 = FloatVector.fromArray(S, p, pi + 1 * L);
      FloatVector b2 = FloatVector.fromArray(S, p, pi + 2 * L);
      FloatVector a = FloatVector.broadcast(S, x[x0 + kk]);
      c00 = a.fma(b0, c00);
      c01 = a.fma(b1, c01);
      c02 = a.fma(b2, c02);
      a = FloatVector.broadcast(S, x[x1 + kk]);
      c10 = a.fma(b0, c10);
      c11 = a.fma(b1, c11);
      c12 = a.fma(b2, c12);
    }
    c00.intoArray(acc, ao);
    c01.intoArray(acc, ao + 8);
    c02.intoArray(acc, ao + 16);
    c10.intoArray(acc, ao + 24);
    c11.intoArray(acc, ao + 32);
    c12.intoArray(acc, ao + 40);
  }

  private static void kernel1(float[] x, int xo, int ldx, int k0, int k1, float[] p, int po,
      float[] acc, int ao, boolean first) {
    FloatVector c00 = first ? FloatVector.zero(S) : FloatVector.fromArray(S, acc, ao);
    FloatVector c01 = first ? FloatVector.zero(S) : FloatVector.fromArray(S, acc, ao + 8);
    FloatVector c02 = first ? FloatVector.zero(S) : FloatVector.fromArray(S, acc, ao + 16);
    int x0 = xo;
    int pi = po + k0 * NR;
    for (int kk = k0; kk < k1; kk++, pi += NR) {
      FloatVector b0 = FloatVector.fromArray(S, p, pi);
      FloatVector b1 = FloatVector.fromArray(S, p, pi + 1 * L);
      FloatVector b2 = FloatVector.fromArray(S, p, pi + 2 * L);
      FloatVector a = FloatVector.broadcast(S, x[x0 + kk]);
      c00 = a.fma(b0, c00);
      c01 = a.fma(b1, c01);
      c02 = a.fma(b2, c02);
    }
    c00.intoArray(acc, ao);
    c01.intoArray(acc, ao + 8);
    c02.intoArray(acc, ao + 16);
  }
}

package io.batchgen.engine.backend;

import io.batchgen.engine.format.DType;
import io.batchgen.engine.model.WeightTensor;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
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
 * <p>BF16 weights stay BF16 in their panels (half the memory of f32 panels, and half the bytes to
 * stream when a small decode batch makes the kernel memory-bound). Widening BF16 to f32 is exact
 * (the bits move up 16 places), so it changes no product: batches of at least
 * {@link #WIDEN_MIN_ROWS} rows widen each {@code (KC, NR)} block once into a scratch block and
 * run the f32 kernels on it; smaller ones widen in registers as they load ({@code kernel*h}).
 * Either way every element is the same FMA chain as with f32 panels, bit for bit.
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

  /** Batches at least this large widen BF16 panels block by block instead of in registers. */
  static final int WIDEN_MIN_ROWS = 12;

  /**
   * A weight matrix {@code W (n, k)} packed as {@code panels(n)} panels of {@code (k, NR)}
   * elements, {@code W[p * NR + j][kk]} at index {@code (p * k + kk) * NR + j} of either
   * {@code panels} (f32) or {@code bf16} (BF16 bits); the other is null.
   */
  record Packed(String name, int n, int k, float[] panels, short[] bf16) {
    int panelCount() {
      return PanelGemm.panels(n);
    }

    long bytes() {
      return panels != null ? 4L * panels.length : 2L * bf16.length;
    }

    /** The same storage under another matrix's name (storage reused for a same-shape matrix). */
    Packed renamed(String other) {
      return new Packed(other, n, k, panels, bf16);
    }
  }

  /** Whether {@code w}'s panels stay BF16 (else they are f32). */
  static boolean keepsBf16(WeightTensor w) {
    return w.dtype() == DType.BF16;
  }

  /** Bytes of {@code w} packed: what the weight store counts against its budget. */
  static long packedBytes(WeightTensor w) {
    return (long) panels(w.rows()) * NR * w.cols() * (keepsBf16(w) ? 2 : 4);
  }

  static int panels(int n) {
    return (n + NR - 1) / NR;
  }

  /**
   * Zeroed storage for {@code w} packed: BF16 panels for BF16 weights, f32 for every other type;
   * fails with the tensor's name if it cannot be.
   */
  static Packed allocate(WeightTensor w) {
    long elements = (long) panels(w.rows()) * NR * w.cols();
    if (elements > Integer.MAX_VALUE - 8) {
      throw new IllegalArgumentException("Tensor " + w.name() + " (" + w.rows() + ", " + w.cols()
          + ") is too large to pack for the cpu backend");
    }
    boolean bf16 = keepsBf16(w);
    return new Packed(w.name(), w.rows(), w.cols(), bf16 ? null : new float[(int) elements],
        bf16 ? new short[(int) elements] : null);
  }

  /** Packs panels {@code [from, to)} of {@code w} into {@code dst} (from {@link #allocate}). */
  static void pack(WeightTensor w, int from, int to, Packed dst, Gemm.Workspace wk) {
    int k = w.cols();
    int n = w.rows();
    if (dst.bf16() != null) {
      short[] raw = wk.scratch.shorts(NR * k);
      short[] out = dst.bf16();
      for (int p = from; p < to; p++) {
        int n0 = p * NR;
        int count = Math.min(NR, n - n0);
        w.u16().get(n0 * k, raw, 0, count * k);
        int base = p * NR * k;
        for (int j = 0; j < count; j++) {
          int src = j * k;
          int d = base + j;
          for (int kk = 0; kk < k; kk++, d += NR) {
            out[d] = raw[src + kk];
          }
        }
      }
      return;
    }
    RowDecoder decoder = RowDecoder.of(w.dtype());
    float[] rows = wk.rows(NR * k);
    float[] out = dst.panels();
    for (int p = from; p < to; p++) {
      int n0 = p * NR;
      int count = Math.min(NR, n - n0);
      decoder.decode(w, n0, count, rows, wk.scratch);
      int base = p * NR * k;
      for (int j = 0; j < count; j++) {
        int src = j * k;
        int d = base + j;
        for (int kk = 0; kk < k; kk++, d += NR) {
          out[d] = rows[src + kk];
        }
      }
    }
  }

  /**
   * Panel {@code p} of {@code w} against rows {@code [0, m)} of {@code x} (row r at
   * {@code x[r * ldx]}): writes {@code out[outOff + r * ldo + p * NR + j]} for the panel's columns
   * below n. k runs in blocks of {@link #KC} so that the panel's slice stays in L1 across all row
   * blocks; the accumulators go through {@code acc} (at least {@code m * NR} floats) between
   * blocks, exactly, so every element is still one FMA chain over k in order. {@code widened}
   * ({@link #widenedLength()} floats) is the worker's scratch for BF16 blocks.
   */
  static void panel(float[] x, int m, int ldx, Packed w, int p, float[] out, int outOff,
      int ldo, float[] acc, float[] widened) {
    int k = w.k();
    int po = p * NR * k;
    short[] half = w.bf16();
    boolean widen = half != null && m >= WIDEN_MIN_ROWS;
    for (int k0 = 0; k0 < k; k0 += KC) {
      int k1 = Math.min(k, k0 + KC);
      boolean first = k0 == 0;
      if (half != null && !widen) {
        halfBlock(x, m, ldx, k0, k1, half, po + k0 * NR, acc, first);
        continue;
      }
      float[] pk = w.panels();
      int pi = po + k0 * NR;
      if (widen) {
        widen(half, pi, (k1 - k0) * NR, widened);
        pk = widened;
        pi = 0;
      }
      int r = 0;
      for (; r + 4 <= m; r += 4) {
        kernel4(x, r * ldx, ldx, k0, k1, pk, pi, acc, r * NR, first);
      }
      switch (m - r) {
        case 3 -> kernel3(x, r * ldx, ldx, k0, k1, pk, pi, acc, r * NR, first);
        case 2 -> kernel2(x, r * ldx, ldx, k0, k1, pk, pi, acc, r * NR, first);
        case 1 -> kernel1(x, r * ldx, ldx, k0, k1, pk, pi, acc, r * NR, first);
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

  /** Floats a widened {@code (KC, NR)} block needs: the {@code widened} argument of panel. */
  static int widenedLength() {
    return KC * NR;
  }

  private static final VectorSpecies<Short> HALF = ShortVector.SPECIES_128;
  private static final VectorSpecies<Integer> INT = IntVector.SPECIES_256;

  /** Eight BF16 values from {@code h[i]} as f32: exact (the 16 bits become the high half). */
  private static FloatVector bf16(short[] h, int i) {
    return ((IntVector) ShortVector.fromArray(HALF, h, i).convertShape(VectorOperators.S2I, INT,
        0)).lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
  }

  /** {@code dst[0, n) = f32(h[from, from + n))}, n a multiple of the vector length. */
  private static void widen(short[] h, int from, int n, float[] dst) {
    for (int i = 0; i < n; i += L) {
      bf16(h, from + i).intoArray(dst, i);
    }
  }

  /** One k block of a BF16 panel against all m rows, widening in registers. */
  private static void halfBlock(float[] x, int m, int ldx, int k0, int k1, short[] h, int pi,
      float[] acc, boolean first) {
    int r = 0;
    for (; r + 4 <= m; r += 4) {
      kernel4h(x, r * ldx, ldx, k0, k1, h, pi, acc, r * NR, first);
    }
    for (; r + 2 <= m; r += 2) {
      kernel2h(x, r * ldx, ldx, k0, k1, h, pi, acc, r * NR, first);
    }
    if (r < m) {
      kernel1h(x, r * ldx, k0, k1, h, pi, acc, r * NR, first);
    }
  }

  private static void kernel4(float[] x, int xo, int ldx, int k0, int k1, float[] p, int pi0,
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
    int pi = pi0;
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

  private static void kernel3(float[] x, int xo, int ldx, int k0, int k1, float[] p, int pi0,
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
    int pi = pi0;
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

  private static void kernel2(float[] x, int xo, int ldx, int k0, int k1, float[] p, int pi0,
      float[] acc, int ao, boolean first) {
    FloatVector c00 = first ? FloatVector.zero(S) : FloatVector.fromArray(S, acc, ao);
    FloatVector c01 = first ? FloatVector.zero(S) : FloatVector.fromArray(S, acc, ao + 8);
    FloatVector c02 = first ? FloatVector.zero(S) : FloatVector.fromArray(S, acc, ao + 16);
    FloatVector c10 = first ? FloatVector.zero(S) : FloatVector.fromArray(S, acc, ao + 24);
    FloatVector c11 = first ? FloatVector.zero(S) : FloatVector.fromArray(S, acc, ao + 32);
    FloatVector c12 = first ? FloatVector.zero(S) : FloatVector.fromArray(S, acc, ao + 40);
    int x0 = xo;
    int x1 = xo + 1 * ldx;
    int pi = pi0;
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

  private static void kernel1(float[] x, int xo, int ldx, int k0, int k1, float[] p, int pi0,
      float[] acc, int ao, boolean first) {
    FloatVector c00 = first ? FloatVector.zero(S) : FloatVector.fromArray(S, acc, ao);
    FloatVector c01 = first ? FloatVector.zero(S) : FloatVector.fromArray(S, acc, ao + 8);
    FloatVector c02 = first ? FloatVector.zero(S) : FloatVector.fromArray(S, acc, ao + 16);
    int x0 = xo;
    int pi = pi0;
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

  // BF16 panels widened in registers: the same FMA chains as kernel4/2/1 on the f32 values.

  private static void kernel4h(float[] x, int xo, int ldx, int k0, int k1, short[] h, int pi0,
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
    int pi = pi0;
    for (int kk = k0; kk < k1; kk++, pi += NR) {
      FloatVector b0 = bf16(h, pi);
      FloatVector b1 = bf16(h, pi + 1 * L);
      FloatVector b2 = bf16(h, pi + 2 * L);
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

  private static void kernel2h(float[] x, int xo, int ldx, int k0, int k1, short[] h, int pi0,
      float[] acc, int ao, boolean first) {
    FloatVector c00 = first ? FloatVector.zero(S) : FloatVector.fromArray(S, acc, ao);
    FloatVector c01 = first ? FloatVector.zero(S) : FloatVector.fromArray(S, acc, ao + 8);
    FloatVector c02 = first ? FloatVector.zero(S) : FloatVector.fromArray(S, acc, ao + 16);
    FloatVector c10 = first ? FloatVector.zero(S) : FloatVector.fromArray(S, acc, ao + 24);
    FloatVector c11 = first ? FloatVector.zero(S) : FloatVector.fromArray(S, acc, ao + 32);
    FloatVector c12 = first ? FloatVector.zero(S) : FloatVector.fromArray(S, acc, ao + 40);
    int x0 = xo;
    int x1 = xo + 1 * ldx;
    int pi = pi0;
    for (int kk = k0; kk < k1; kk++, pi += NR) {
      FloatVector b0 = bf16(h, pi);
      FloatVector b1 = bf16(h, pi + 1 * L);
      FloatVector b2 = bf16(h, pi + 2 * L);
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

  private static void kernel1h(float[] x, int xo, int k0, int k1, short[] h, int pi0,
      float[] acc, int ao, boolean first) {
    FloatVector c00 = first ? FloatVector.zero(S) : FloatVector.fromArray(S, acc, ao);
    FloatVector c01 = first ? FloatVector.zero(S) : FloatVector.fromArray(S, acc, ao + 8);
    FloatVector c02 = first ? FloatVector.zero(S) : FloatVector.fromArray(S, acc, ao + 16);
    int pi = pi0;
    for (int kk = k0; kk < k1; kk++, pi += NR) {
      FloatVector a = FloatVector.broadcast(S, x[xo + kk]);
      c00 = a.fma(bf16(h, pi), c00);
      c01 = a.fma(bf16(h, pi + 1 * L), c01);
      c02 = a.fma(bf16(h, pi + 2 * L), c02);
    }
    c00.intoArray(acc, ao);
    c01.intoArray(acc, ao + 8);
    c02.intoArray(acc, ao + 16);
  }
}

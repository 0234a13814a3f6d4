package io.batchgen.engine.backend;

import java.lang.invoke.MethodHandles;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * The source of {@link SimdKernels}, instantiated once per width as a hidden class whose class
 * data is the float species (see {@link SimdKernels.Compiled}); loaded as a plain class it falls
 * back to the preferred species. Never referenced by name.
 *
 * <p>Written for C2 on Java 17: the tiles keep 10 (or 8) accumulators, two panel vectors and one
 * broadcast in registers (13 of AVX2's 16; at 512 bits the same 13 of 32), and index every array
 * as {@code base + k * power of two}, the form whose bounds checks the JIT hoists out of the
 * loop. Five rows by two vectors is the largest tile C2 compiled here without spilling; 10
 * independent chains cover the FMA latency (4-5 cycles) of two FMA ports.
 */
final class SimdKernelsTemplate implements SimdKernels {
  private static final VectorSpecies<Float> F = floatSpecies();
  private static final int L = F.length();
  private static final int NR = 2 * L;
  private static final int AS = NR;
  /** 2L shorts: one load holds a bf16 pair per lane of an int vector of the float shape. */
  private static final VectorSpecies<Short> H = VectorSpecies.of(short.class, F.vectorShape());
  /** L bytes for Q8_0; at least the smallest shape (64 bits), of which the first L are used. */
  private static final VectorSpecies<Byte> Q = VectorSpecies.of(byte.class,
      VectorShape.forBitSize(Math.max(64, F.vectorBitSize() / 4)));
  private static final int KC = 4096 / NR;
  private static final VectorWidth WIDTH = F.vectorBitSize() >= 512 ? VectorWidth.W512
      : F.vectorBitSize() >= 256 ? VectorWidth.W256 : VectorWidth.W128;

  @SuppressWarnings("unchecked")
  private static VectorSpecies<Float> floatSpecies() {
    try {
      VectorSpecies<Float> s = MethodHandles.classData(MethodHandles.lookup(), "_",
          VectorSpecies.class);
      return s != null ? s : FloatVector.SPECIES_PREFERRED;
    } catch (IllegalAccessException e) {
      throw new IllegalStateException(e);
    }
  }

  @Override
  public VectorWidth width() {
    return WIDTH;
  }

  @Override
  public int lanes() {
    return L;
  }

  @Override
  public int panelWidth() {
    return NR;
  }

  @Override
  public int kBlock() {
    return KC;
  }

  private static FloatVector start(boolean first, float[] acc, int i) {
    return first ? FloatVector.zero(F) : FloatVector.fromArray(F, acc, i);
  }

  // ---- GEMM tiles ----

  @Override
  public void tile5(float[] a, int ao, int len, float[] p, int pb, float[] acc, int co,
      boolean first) {
    FloatVector c00 = start(first, acc, co);
    FloatVector c01 = start(first, acc, co + L);
    FloatVector c10 = start(first, acc, co + 2 * L);
    FloatVector c11 = start(first, acc, co + 3 * L);
    FloatVector c20 = start(first, acc, co + 4 * L);
    FloatVector c21 = start(first, acc, co + 5 * L);
    FloatVector c30 = start(first, acc, co + 6 * L);
    FloatVector c31 = start(first, acc, co + 7 * L);
    FloatVector c40 = start(first, acc, co + 8 * L);
    FloatVector c41 = start(first, acc, co + 9 * L);
    for (int k = 0; k < len; k++) {
      FloatVector b0 = FloatVector.fromArray(F, p, pb + k * NR);
      FloatVector b1 = FloatVector.fromArray(F, p, pb + k * NR + L);
      int ai = ao + k * AS;
      FloatVector x = FloatVector.broadcast(F, a[ai]);
      c00 = x.fma(b0, c00);
      c01 = x.fma(b1, c01);
      x = FloatVector.broadcast(F, a[ai + 1]);
      c10 = x.fma(b0, c10);
      c11 = x.fma(b1, c11);
      x = FloatVector.broadcast(F, a[ai + 2]);
      c20 = x.fma(b0, c20);
      c21 = x.fma(b1, c21);
      x = FloatVector.broadcast(F, a[ai + 3]);
      c30 = x.fma(b0, c30);
      c31 = x.fma(b1, c31);
      x = FloatVector.broadcast(F, a[ai + 4]);
      c40 = x.fma(b0, c40);
      c41 = x.fma(b1, c41);
    }
    c00.intoArray(acc, co);
    c01.intoArray(acc, co + L);
    c10.intoArray(acc, co + 2 * L);
    c11.intoArray(acc, co + 3 * L);
    c20.intoArray(acc, co + 4 * L);
    c21.intoArray(acc, co + 5 * L);
    c30.intoArray(acc, co + 6 * L);
    c31.intoArray(acc, co + 7 * L);
    c40.intoArray(acc, co + 8 * L);
    c41.intoArray(acc, co + 9 * L);
  }

  @Override
  public void tile4(float[] a, int ao, int len, float[] p, int pb, float[] acc, int co,
      boolean first) {
    FloatVector c00 = start(first, acc, co);
    FloatVector c01 = start(first, acc, co + L);
    FloatVector c10 = start(first, acc, co + 2 * L);
    FloatVector c11 = start(first, acc, co + 3 * L);
    FloatVector c20 = start(first, acc, co + 4 * L);
    FloatVector c21 = start(first, acc, co + 5 * L);
    FloatVector c30 = start(first, acc, co + 6 * L);
    FloatVector c31 = start(first, acc, co + 7 * L);
    for (int k = 0; k < len; k++) {
      FloatVector b0 = FloatVector.fromArray(F, p, pb + k * NR);
      FloatVector b1 = FloatVector.fromArray(F, p, pb + k * NR + L);
      int ai = ao + k * AS;
      FloatVector x = FloatVector.broadcast(F, a[ai]);
      c00 = x.fma(b0, c00);
      c01 = x.fma(b1, c01);
      x = FloatVector.broadcast(F, a[ai + 1]);
      c10 = x.fma(b0, c10);
      c11 = x.fma(b1, c11);
      x = FloatVector.broadcast(F, a[ai + 2]);
      c20 = x.fma(b0, c20);
      c21 = x.fma(b1, c21);
      x = FloatVector.broadcast(F, a[ai + 3]);
      c30 = x.fma(b0, c30);
      c31 = x.fma(b1, c31);
    }
    c00.intoArray(acc, co);
    c01.intoArray(acc, co + L);
    c10.intoArray(acc, co + 2 * L);
    c11.intoArray(acc, co + 3 * L);
    c20.intoArray(acc, co + 4 * L);
    c21.intoArray(acc, co + 5 * L);
    c30.intoArray(acc, co + 6 * L);
    c31.intoArray(acc, co + 7 * L);
  }

  /** Columns 0..L-1 of a bf16 pair vector: the low halves moved up (exact). */
  private static FloatVector low(IntVector pairs) {
    return pairs.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
  }

  /** Columns L..2L-1: the high halves, low bits cleared (exact). */
  private static FloatVector high(IntVector pairs) {
    return pairs.lanewise(VectorOperators.AND, 0xFFFF0000).reinterpretAsFloats();
  }

  private static IntVector pairs(short[] h, int i) {
    return ShortVector.fromArray(H, h, i).reinterpretAsInts();
  }

  @Override
  public void tile4h(float[] a, int ao, int len, short[] h, int pb, float[] acc, int co,
      boolean first) {
    FloatVector c00 = start(first, acc, co);
    FloatVector c01 = start(first, acc, co + L);
    FloatVector c10 = start(first, acc, co + 2 * L);
    FloatVector c11 = start(first, acc, co + 3 * L);
    FloatVector c20 = start(first, acc, co + 4 * L);
    FloatVector c21 = start(first, acc, co + 5 * L);
    FloatVector c30 = start(first, acc, co + 6 * L);
    FloatVector c31 = start(first, acc, co + 7 * L);
    for (int k = 0; k < len; k++) {
      IntVector w = pairs(h, pb + k * NR);
      FloatVector b0 = low(w);
      FloatVector b1 = high(w);
      int ai = ao + k * AS;
      FloatVector x = FloatVector.broadcast(F, a[ai]);
      c00 = x.fma(b0, c00);
      c01 = x.fma(b1, c01);
      x = FloatVector.broadcast(F, a[ai + 1]);
      c10 = x.fma(b0, c10);
      c11 = x.fma(b1, c11);
      x = FloatVector.broadcast(F, a[ai + 2]);
      c20 = x.fma(b0, c20);
      c21 = x.fma(b1, c21);
      x = FloatVector.broadcast(F, a[ai + 3]);
      c30 = x.fma(b0, c30);
      c31 = x.fma(b1, c31);
    }
    c00.intoArray(acc, co);
    c01.intoArray(acc, co + L);
    c10.intoArray(acc, co + 2 * L);
    c11.intoArray(acc, co + 3 * L);
    c20.intoArray(acc, co + 4 * L);
    c21.intoArray(acc, co + 5 * L);
    c30.intoArray(acc, co + 6 * L);
    c31.intoArray(acc, co + 7 * L);
  }

  @Override
  public void widenBf16(short[] h, int pb, int len, float[] dst) {
    for (int k = 0; k < len; k++) {
      IntVector w = pairs(h, pb + k * NR);
      low(w).intoArray(dst, k * NR);
      high(w).intoArray(dst, k * NR + L);
    }
  }

  @Override
  public void widenQ8(byte[] q, int qo, float[] s, int so, int len, float[] dst) {
    for (int k0 = 0; k0 < len; k0 += 32) {
      FloatVector s0 = FloatVector.fromArray(F, s, so + (k0 / 32) * NR);
      FloatVector s1 = FloatVector.fromArray(F, s, so + (k0 / 32) * NR + L);
      for (int k = k0; k < k0 + 32; k++) {
        int qi = qo + k * NR;
        ((FloatVector) ByteVector.fromArray(Q, q, qi).convertShape(VectorOperators.B2F, F, 0))
            .mul(s0).intoArray(dst, k * NR);
        ((FloatVector) ByteVector.fromArray(Q, q, qi + L).convertShape(VectorOperators.B2F, F, 0))
            .mul(s1).intoArray(dst, k * NR + L);
      }
    }
  }

  // ---- attention ----

  @Override
  public void scores4(float[] qa, int qo, int hd, float[] kt, int ko, float[] s, int so,
      int sStride) {
    FloatVector c0 = FloatVector.zero(F);
    FloatVector c1 = FloatVector.zero(F);
    FloatVector c2 = FloatVector.zero(F);
    FloatVector c3 = FloatVector.zero(F);
    for (int d = 0; d < hd; d++) {
      FloatVector k = FloatVector.fromArray(F, kt, ko + d * L);
      int qi = qo + d * 4;
      c0 = FloatVector.broadcast(F, qa[qi]).fma(k, c0);
      c1 = FloatVector.broadcast(F, qa[qi + 1]).fma(k, c1);
      c2 = FloatVector.broadcast(F, qa[qi + 2]).fma(k, c2);
      c3 = FloatVector.broadcast(F, qa[qi + 3]).fma(k, c3);
    }
    c0.intoArray(s, so);
    c1.intoArray(s, so + sStride);
    c2.intoArray(s, so + 2 * sStride);
    c3.intoArray(s, so + 3 * sStride);
  }

  @Override
  public void scores4x2(float[] qa, int qo, int hd, float[] kt, int ko, float[] s, int so,
      int sStride) {
    FloatVector c00 = FloatVector.zero(F);
    FloatVector c01 = FloatVector.zero(F);
    FloatVector c10 = FloatVector.zero(F);
    FloatVector c11 = FloatVector.zero(F);
    FloatVector c20 = FloatVector.zero(F);
    FloatVector c21 = FloatVector.zero(F);
    FloatVector c30 = FloatVector.zero(F);
    FloatVector c31 = FloatVector.zero(F);
    int ko1 = ko + hd * L;
    for (int d = 0; d < hd; d++) {
      FloatVector k0 = FloatVector.fromArray(F, kt, ko + d * L);
      FloatVector k1 = FloatVector.fromArray(F, kt, ko1 + d * L);
      int qi = qo + d * 4;
      FloatVector x = FloatVector.broadcast(F, qa[qi]);
      c00 = x.fma(k0, c00);
      c01 = x.fma(k1, c01);
      x = FloatVector.broadcast(F, qa[qi + 1]);
      c10 = x.fma(k0, c10);
      c11 = x.fma(k1, c11);
      x = FloatVector.broadcast(F, qa[qi + 2]);
      c20 = x.fma(k0, c20);
      c21 = x.fma(k1, c21);
      x = FloatVector.broadcast(F, qa[qi + 3]);
      c30 = x.fma(k0, c30);
      c31 = x.fma(k1, c31);
    }
    c00.intoArray(s, so);
    c01.intoArray(s, so + L);
    c10.intoArray(s, so + sStride);
    c11.intoArray(s, so + sStride + L);
    c20.intoArray(s, so + 2 * sStride);
    c21.intoArray(s, so + 2 * sStride + L);
    c30.intoArray(s, so + 3 * sStride);
    c31.intoArray(s, so + 3 * sStride + L);
  }

  @Override
  public void weighted4x2(float[] pa, int po, int len, float[] v, int vo, int vStride,
      float[] acc, int co, boolean first) {
    FloatVector c00 = start(first, acc, co);
    FloatVector c01 = start(first, acc, co + L);
    FloatVector c10 = start(first, acc, co + 2 * L);
    FloatVector c11 = start(first, acc, co + 3 * L);
    FloatVector c20 = start(first, acc, co + 4 * L);
    FloatVector c21 = start(first, acc, co + 5 * L);
    FloatVector c30 = start(first, acc, co + 6 * L);
    FloatVector c31 = start(first, acc, co + 7 * L);
    int vi = vo;
    for (int t = 0; t < len; t++, vi += vStride) {
      FloatVector v0 = FloatVector.fromArray(F, v, vi);
      FloatVector v1 = FloatVector.fromArray(F, v, vi + L);
      int pi = po + t * 4;
      FloatVector x = FloatVector.broadcast(F, pa[pi]);
      c00 = x.fma(v0, c00);
      c01 = x.fma(v1, c01);
      x = FloatVector.broadcast(F, pa[pi + 1]);
      c10 = x.fma(v0, c10);
      c11 = x.fma(v1, c11);
      x = FloatVector.broadcast(F, pa[pi + 2]);
      c20 = x.fma(v0, c20);
      c21 = x.fma(v1, c21);
      x = FloatVector.broadcast(F, pa[pi + 3]);
      c30 = x.fma(v0, c30);
      c31 = x.fma(v1, c31);
    }
    c00.intoArray(acc, co);
    c01.intoArray(acc, co + L);
    c10.intoArray(acc, co + 2 * L);
    c11.intoArray(acc, co + 3 * L);
    c20.intoArray(acc, co + 4 * L);
    c21.intoArray(acc, co + 5 * L);
    c30.intoArray(acc, co + 6 * L);
    c31.intoArray(acc, co + 7 * L);
  }

  @Override
  public void weighted4(float[] pa, int po, int len, float[] v, int vo, int vStride, float[] acc,
      int co, boolean first) {
    FloatVector c0 = start(first, acc, co);
    FloatVector c1 = start(first, acc, co + L);
    FloatVector c2 = start(first, acc, co + 2 * L);
    FloatVector c3 = start(first, acc, co + 3 * L);
    int vi = vo;
    for (int t = 0; t < len; t++, vi += vStride) {
      FloatVector x = FloatVector.fromArray(F, v, vi);
      int pi = po + t * 4;
      c0 = FloatVector.broadcast(F, pa[pi]).fma(x, c0);
      c1 = FloatVector.broadcast(F, pa[pi + 1]).fma(x, c1);
      c2 = FloatVector.broadcast(F, pa[pi + 2]).fma(x, c2);
      c3 = FloatVector.broadcast(F, pa[pi + 3]).fma(x, c3);
    }
    c0.intoArray(acc, co);
    c1.intoArray(acc, co + L);
    c2.intoArray(acc, co + 2 * L);
    c3.intoArray(acc, co + 3 * L);
  }

  // ---- element-wise ----

  private static final float LOG2E = 1.44269504088896341f;
  private static final float LN2_HI = 0.693359375f;
  private static final float LN2_LO = -2.12194440e-4f;
  /** 1.5 * 2^23: adding it rounds to an integer held in the low mantissa bits. */
  private static final float ROUND = 12582912f;
  private static final int ROUND_BITS = Float.floatToRawIntBits(ROUND);

  /**
   * e^x lane-wise, x clamped to [-87.3, 88.3] (NaN stays NaN): Cody-Waite reduction by ln 2 and
   * a degree-6 polynomial as in Cephes {@code expf}, from add, multiply, fused multiply-add and
   * bit operations only. Those are exactly rounded in the interpreter, C1 and C2 alike, unlike
   * {@code VectorOperators.EXP}, whose fallback and intrinsic may differ in the last bit.
   */
  private static FloatVector expV(FloatVector x) {
    x = x.max(-87.3f).min(88.3f);
    FloatVector t = x.fma(FloatVector.broadcast(F, LOG2E), FloatVector.broadcast(F, ROUND));
    FloatVector n = t.sub(ROUND);
    FloatVector r = n.fma(FloatVector.broadcast(F, -LN2_HI), x);
    r = n.fma(FloatVector.broadcast(F, -LN2_LO), r);
    FloatVector p = FloatVector.broadcast(F, 1.9875691500e-4f)
        .fma(r, FloatVector.broadcast(F, 1.3981999507e-3f))
        .fma(r, FloatVector.broadcast(F, 8.3334519073e-3f))
        .fma(r, FloatVector.broadcast(F, 4.1665795894e-2f))
        .fma(r, FloatVector.broadcast(F, 1.6666665459e-1f))
        .fma(r, FloatVector.broadcast(F, 5.0000001201e-1f));
    FloatVector y = p.mul(r.mul(r)).add(r).add(1f);
    IntVector k = t.reinterpretAsInts().sub(ROUND_BITS).add(127).lanewise(VectorOperators.LSHL,
        23);
    return y.mul(k.reinterpretAsFloats());
  }

  @Override
  public void exp(float[] x, int from, int to, float[] tmp) {
    int j = from;
    for (; j + L <= to; j += L) {
      expV(FloatVector.fromArray(F, x, j)).intoArray(x, j);
    }
    if (j < to) {
      System.arraycopy(x, j, tmp, 0, to - j);
      expV(FloatVector.fromArray(F, tmp, 0)).intoArray(tmp, 0);
      System.arraycopy(tmp, 0, x, j, to - j);
    }
  }

  private static void swiGluV(float[] g, int gi, float[] u, int ui) {
    FloatVector a = FloatVector.fromArray(F, g, gi);
    a.div(expV(a.neg()).add(1f)).mul(FloatVector.fromArray(F, u, ui)).intoArray(g, gi);
  }

  @Override
  public void swiGlu(float[] g, float[] u, int from, int to, float[] tmp) {
    int j = from;
    for (; j + L <= to; j += L) {
      swiGluV(g, j, u, j);
    }
    if (j < to) {
      int n = to - j;
      System.arraycopy(g, j, tmp, 0, n);
      System.arraycopy(u, j, tmp, L, n);
      swiGluV(tmp, 0, tmp, L);
      System.arraycopy(tmp, 0, g, j, n);
    }
  }

  // ---- the ceilings ----

  @Override
  public float stream(float[] a, int from, int to) {
    FloatVector s0 = FloatVector.zero(F);
    FloatVector s1 = s0;
    FloatVector s2 = s0;
    FloatVector s3 = s0;
    int i = from;
    for (; i + 4 * L <= to; i += 4 * L) {
      s0 = s0.add(FloatVector.fromArray(F, a, i));
      s1 = s1.add(FloatVector.fromArray(F, a, i + L));
      s2 = s2.add(FloatVector.fromArray(F, a, i + 2 * L));
      s3 = s3.add(FloatVector.fromArray(F, a, i + 3 * L));
    }
    float rest = 0f;
    for (; i < to; i++) {
      rest += a[i];
    }
    return s0.add(s1).add(s2).add(s3).reduceLanes(VectorOperators.ADD) + rest;
  }


  @Override
  public float spin(int iterations) {
    FloatVector a = FloatVector.broadcast(F, 1.0000001f);
    FloatVector b = FloatVector.broadcast(F, 1e-7f);
    FloatVector c0 = FloatVector.zero(F);
    FloatVector c1 = c0;
    FloatVector c2 = c0;
    FloatVector c3 = c0;
    FloatVector c4 = c0;
    FloatVector c5 = c0;
    FloatVector c6 = c0;
    FloatVector c7 = c0;
    FloatVector c8 = c0;
    FloatVector c9 = c0;
    FloatVector c10 = c0;
    FloatVector c11 = c0;
    // the accumulator as the addend, as a GEMM tile holds it
    for (int i = 0; i < iterations; i++) {
      c0 = a.fma(b, c0);
      c1 = a.fma(b, c1);
      c2 = a.fma(b, c2);
      c3 = a.fma(b, c3);
      c4 = a.fma(b, c4);
      c5 = a.fma(b, c5);
      c6 = a.fma(b, c6);
      c7 = a.fma(b, c7);
      c8 = a.fma(b, c8);
      c9 = a.fma(b, c9);
      c10 = a.fma(b, c10);
      c11 = a.fma(b, c11);
    }
    return c0.add(c1).add(c2).add(c3).add(c4).add(c5).add(c6).add(c7).add(c8).add(c9).add(c10)
        .add(c11).reduceLanes(VectorOperators.ADD);
  }
}

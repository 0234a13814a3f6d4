package io.batchgen.engine.backend;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * {@code g = silu(g) * u = g / (1 + exp(-g)) * u}, vectorised, with an exp built only from
 * add, multiply, fused multiply-add and bit operations (Cody-Waite reduction by ln 2, a degree-6
 * polynomial as in Cephes {@code expf}; about 1 ulp). Those operations are exactly rounded in the
 * interpreter, C1 and C2 alike, unlike {@code VectorOperators.EXP}, whose fallback and intrinsic
 * may differ in the last bit: the result of an element never depends on JIT state, lane or batch.
 * Tails shorter than a vector go through a scratch vector, so every element takes the same path.
 */
final class SwiGlu {
  private static final VectorSpecies<Float> S = Gemm.S;
  private static final int L = Gemm.L;
  private static final float LOG2E = 1.44269504088896341f;
  private static final float LN2_HI = 0.693359375f;
  private static final float LN2_LO = -2.12194440e-4f;
  /** 1.5 * 2^23: adding it rounds to an integer held in the low mantissa bits. */
  private static final float ROUND = 12582912f;
  private static final int ROUND_BITS = Float.floatToRawIntBits(ROUND);

  private SwiGlu() {
  }

  /** Applies to {@code g[from, to)} with {@code u[from, to)}; {@code tmp} holds 2 * L floats. */
  static void apply(float[] g, float[] u, int from, int to, float[] tmp) {
    int j = from;
    for (; j + L <= to; j += L) {
      one(g, j, u, j);
    }
    if (j < to) {
      int n = to - j;
      System.arraycopy(g, j, tmp, 0, n);
      System.arraycopy(u, j, tmp, L, n);
      one(tmp, 0, tmp, L);
      System.arraycopy(tmp, 0, g, j, n);
    }
  }

  /** One vector of lanes, in place in g. */
  private static void one(float[] g, int gOff, float[] u, int uOff) {
    FloatVector a = FloatVector.fromArray(S, g, gOff);
    FloatVector e = exp(a.neg());
    a.div(e.add(1f)).mul(FloatVector.fromArray(S, u, uOff)).intoArray(g, gOff);
  }

  /** e^x lane-wise, x clamped to [-87.3, 88.3] (NaN stays NaN). */
  static FloatVector exp(FloatVector x) {
    x = x.max(-87.3f).min(88.3f);
    FloatVector t = x.fma(FloatVector.broadcast(S, LOG2E), FloatVector.broadcast(S, ROUND));
    FloatVector n = t.sub(ROUND);
    FloatVector r = n.fma(FloatVector.broadcast(S, -LN2_HI), x);
    r = n.fma(FloatVector.broadcast(S, -LN2_LO), r);
    FloatVector p = FloatVector.broadcast(S, 1.9875691500e-4f)
        .fma(r, FloatVector.broadcast(S, 1.3981999507e-3f))
        .fma(r, FloatVector.broadcast(S, 8.3334519073e-3f))
        .fma(r, FloatVector.broadcast(S, 4.1665795894e-2f))
        .fma(r, FloatVector.broadcast(S, 1.6666665459e-1f))
        .fma(r, FloatVector.broadcast(S, 5.0000001201e-1f));
    FloatVector y = p.mul(r.mul(r)).add(r).add(1f);
    IntVector k = t.reinterpretAsInts().sub(ROUND_BITS).add(127).lanewise(VectorOperators.LSHL, 23);
    return y.mul(k.reinterpretAsFloats());
  }
}

package io.batchgen.engine.backend;

import java.io.IOException;
import java.io.InputStream;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.util.EnumMap;
import java.util.Map;

/**
 * The Vector API inner loops of the {@code cpu} backend, compiled for one {@link VectorWidth}.
 *
 * <p>The Vector API only compiles to machine vectors when the species is a constant to the JIT,
 * so the loops cannot take the width as an argument. They are written once, in
 * {@code SimdKernelsTemplate}, whose species is a {@code static final} read from the class data
 * of a hidden class: {@link #of} defines that class once per width, so each width gets its own
 * fully compiled copy from the same source.
 *
 * <p>Layouts (L = {@link #lanes()}, NR = {@link #panelWidth()} = 2L):
 * <ul>
 *   <li>packed rows {@code a}: a tile of up to 5 batch rows, {@code a[ao + k * NR + r]} (rows
 *       past the tile's valid ones are zero; the stride is NR, not 5, so that one index
 *       {@code k * NR} serves both arrays: C2 then spends two fewer instructions per step, which
 *       measured 6% faster);
 *   <li>f32 panel block {@code p}: {@code p[pb + k * NR + j]} = weight of output column j;
 *   <li>bf16 panel block {@code h}: pairs, {@code h[pb + k * NR + 2i]} = column i and
 *       {@code h[pb + k * NR + 2i + 1]} = column L + i (one load widens to both vectors);
 *   <li>Q8_0 panel block: {@code q[qo + k * NR + j]} int8, scales {@code s[so + (k / 32) * NR
 *       + j]}.
 * </ul>
 * Every output element is one sequential chain of fused multiply-adds over k, in increasing
 * order, starting from zero ({@code first}) or from {@code acc} (a later k block): no kernel
 * sums across lanes, so results are the same at every width, tile and position.
 *
 * <p>Implementations are stateless and thread-safe.
 */
interface SimdKernels {
  VectorWidth width();

  /** f32 lanes per vector. */
  int lanes();

  /** Output columns per panel: two vectors; also the stride of packed rows. */
  int panelWidth();

  /** k per block: an f32 {@code (kBlock, panelWidth)} panel block is 16 KiB at every width. */
  int kBlock();

  /** 5 rows x NR columns of an f32 panel block over k in [0, len). */
  void tile5(float[] a, int ao, int len, float[] p, int pb, float[] acc, int co, boolean first);

  /** 4 rows x NR columns of an f32 panel block. */
  void tile4(float[] a, int ao, int len, float[] p, int pb, float[] acc, int co, boolean first);

  /**
   * 4 rows x NR columns of a bf16 panel block, widened exactly in registers (bf16 has no 5-row
   * tile: with the widening's registers C2 spills one).
   */
  void tile4h(float[] a, int ao, int len, short[] h, int pb, float[] acc, int co, boolean first);

  /** A bf16 panel block widened exactly into an f32 one: {@code dst[k * NR + j]}, k < len. */
  void widenBf16(short[] h, int pb, int len, float[] dst);

  /**
   * {@code dst[k * NR + j] = q[qo + k * NR + j] * s[so + (k / 32) * NR + j]} for k in [0, len),
   * len a multiple of 32: exact (an int8 times an f16 scale fits a float's mantissa).
   */
  void widenQ8(byte[] q, int qo, float[] s, int so, int len, float[] dst);

  /**
   * Attention scores of 4 query heads against L key positions: {@code s[so + h * sStride + t] =
   * sum_d qa[qo + d * 4 + h] * kt[ko + d * L + t]} for d in [0, hd), in order, from zero.
   */
  void scores4(float[] qa, int qo, int hd, float[] kt, int ko, float[] s, int so, int sStride);

  /**
   * {@link #scores4} for 2L positions: keys L..2L-1 at {@code kt[ko + hd * L + d * L + t]},
   * their scores at {@code s[so + h * sStride + L + t]}.
   */
  void scores4x2(float[] qa, int qo, int hd, float[] kt, int ko, float[] s, int so,
      int sStride);

  /**
   * Value accumulation of 4 heads over {@code len} positions, 2L value columns: {@code
   * acc[co + h * 2L + j] += pa[po + t * 4 + h] * v[vo + t * vStride + j]}, t in order.
   */
  void weighted4x2(float[] pa, int po, int len, float[] v, int vo, int vStride, float[] acc,
      int co, boolean first);

  /** {@link #weighted4x2} for L value columns ({@code acc[co + h * L + j]}). */
  void weighted4(float[] pa, int po, int len, float[] v, int vo, int vStride, float[] acc,
      int co, boolean first);

  /**
   * {@code x[from, to) = e^x} in place (about 1 ulp; exactly rounded operations only, so the
   * same bits in every lane, tail, JIT tier and width); {@code tmp} holds 2L floats.
   */
  void exp(float[] x, int from, int to, float[] tmp);

  /** {@code g[from, to) = silu(g) * u}, element by element like {@link #exp}. */
  void swiGlu(float[] g, float[] u, int from, int to, float[] tmp);

  /** Twelve independent FMA chains in registers, {@code iterations} steps (the FMA ceiling). */
  float spin(int iterations);

  /** A sum of {@code a[from, to)} in any order, as fast as memory delivers (the read ceiling). */
  float stream(float[] a, int from, int to);

  /** The kernels for {@code width}, compiled on first use. */
  static SimdKernels of(VectorWidth width) {
    return Compiled.get(width);
  }

  /** One hidden class per width, defined from the template's class file. */
  final class Compiled {
    private static final Map<VectorWidth, SimdKernels> BY_WIDTH = new EnumMap<>(VectorWidth.class);

    private Compiled() {
    }

    static synchronized SimdKernels get(VectorWidth width) {
      return BY_WIDTH.computeIfAbsent(width, Compiled::define);
    }

    private static SimdKernels define(VectorWidth width) {
      String file = "SimdKernelsTemplate.class";
      try (InputStream in = SimdKernels.class.getResourceAsStream(file)) {
        if (in == null) {
          throw new IllegalStateException("Cannot find " + file + " next to "
              + SimdKernels.class.getName() + " on the class path");
        }
        MethodHandles.Lookup hidden = MethodHandles.lookup()
            .defineHiddenClassWithClassData(in.readAllBytes(), width.species(), true);
        return (SimdKernels) hidden.findConstructor(hidden.lookupClass(),
            MethodType.methodType(void.class)).invoke();
      } catch (IOException e) {
        throw new IllegalStateException("Cannot read " + file, e);
      } catch (RuntimeException | Error e) {
        throw e;
      } catch (Throwable e) {
        throw new IllegalStateException("Cannot compile the " + width + " kernels", e);
      }
    }
  }
}

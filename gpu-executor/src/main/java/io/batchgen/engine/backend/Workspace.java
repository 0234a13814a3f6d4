package io.batchgen.engine.backend;

import io.batchgen.engine.format.DType;
import io.batchgen.engine.model.WeightTensor;

/**
 * One worker's scratch for the cpu backend, grown on demand and reused across calls: the
 * accumulators of a panel, decoded weight rows, a one-panel pack for weights that are not cached,
 * a widened Q8_0 block, the attention buffers. Used by its worker only.
 */
final class Workspace {
  final RowDecoder.Scratch scratch = new RowDecoder.Scratch();
  /** Tails of element-wise kernels: two vectors. */
  final float[] tmp;
  /** A Q8_0 panel block widened to f32. */
  final float[] widened;
  /** Where {@link PanelGemm#panel} leaves its prefetching reads, so the JIT keeps them. */
  int touched;
  private float[] acc = new float[0];
  private float[] acc2 = new float[0];
  private float[] rows = new float[0];
  private float[] packedRows = new float[0];
  /** The call whose rows {@link #packedRows} holds ({@link CpuFfn}). */
  int packedCall;
  private float[] attention = new float[0];
  private float[] ffnMiddle = new float[0];
  private PanelGemm.Packed panel;
  private DType panelType;

  Workspace(PanelGemm gemm) {
    this.tmp = new float[2 * gemm.simd().lanes()];
    this.widened = new float[gemm.widenedLength()];
  }

  /** Accumulators for {@code rows} rows of one panel. */
  float[] acc(int rows, int nr) {
    acc = atLeast(acc, rows * nr);
    return acc;
  }

  /** A second set, for fusing two projections of the same panel (gate and up). */
  float[] acc2(int rows, int nr) {
    acc2 = atLeast(acc2, rows * nr);
    return acc2;
  }

  float[] rows(int n) {
    rows = atLeast(rows, n);
    return rows;
  }

  /** The batch rows packed into tiles, this worker's own copy. */
  float[] packedRows(int n) {
    packedRows = atLeast(packedRows, n);
    return packedRows;
  }

  /** The packed gate/up output of an expert FFN that runs on this worker alone. */
  float[] ffnMiddle(int n) {
    ffnMiddle = atLeast(ffnMiddle, n);
    return ffnMiddle;
  }

  float[] attention(int n) {
    attention = atLeast(attention, n);
    return attention;
  }

  /** {@code a} when it holds {@code n} floats, else a new array of exactly {@code n}. */
  private static float[] atLeast(float[] a, int n) {
    return a.length < n ? new float[n] : a;
  }

  /** Storage for one panel of {@code w}'s type and width, for packing it on the fly. */
  PanelGemm.Packed panel(PanelGemm gemm, WeightTensor w) {
    PanelGemm.Packed p = panel;
    if (p == null || panelType != w.dtype() || p.k() != w.cols()) {
      p = gemm.allocate(w, 1);
      panel = p;
      panelType = w.dtype();
    }
    return p;
  }
}

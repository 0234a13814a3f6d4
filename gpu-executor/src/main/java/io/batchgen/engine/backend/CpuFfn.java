package io.batchgen.engine.backend;

import io.batchgen.engine.model.ExpertWeights;
import io.batchgen.engine.model.WeightTensor;

/**
 * The cpu backend's expert FFN over all rows routed to one expert: one task computes the gate and
 * up outputs of the same strip of columns and applies SiLU at once; then the down projection.
 *
 * <p>Batches of at least {@link #PACK_MIN_ROWS} rows run on {@link PanelGemm} with the expert's
 * weights packed once into the {@link WeightStore}; smaller ones use the packed weights if they
 * are resident already, else decode the mapped weights on the fly ({@link Gemm}), which costs less
 * than packing a whole expert for a few rows. When the model's weights stream (they exceed the
 * store's budget) every matrix goes through the store, so every byte read is counted. Both
 * compute every element
 * with the same FMA chain, so the choice never changes a result bit. Not thread-safe (one caller
 * at a time).
 */
final class CpuFfn {
  /** Smallest batch that uses the packed weights. */
  static final int PACK_MIN_ROWS = 16;

  private final Gemm gemm;
  private final WeightStore store;
  private final int packMinRows;
  private float[] xT = new float[0];
  private float[] gate = new float[0];
  private float[] up = new float[0];

  CpuFfn(Gemm gemm, WeightStore store) {
    this(gemm, store, PACK_MIN_ROWS);
  }

  /** A store of {@code storeBytes} for weights of unknown total; tests. */
  CpuFfn(Gemm gemm, long storeBytes, int packMinRows) {
    this(gemm, new WeightStore(gemm, storeBytes, 0), packMinRows);
  }

  /** {@code packMinRows} = Integer.MAX_VALUE never packs (unless the weights stream). */
  CpuFfn(Gemm gemm, WeightStore store, int packMinRows) {
    this.gemm = gemm;
    this.store = store;
    this.packMinRows = packMinRows;
  }

  WeightStore store() {
    return store;
  }

  /** Whether a batch of {@code rows} runs on {@code w}'s packed panels. */
  private boolean packed(WeightTensor w, int rows) {
    return rows >= packMinRows || store.streaming() || store.holds(w);
  }

  void run(ExpertWeights w, float[] x, int rows, float[] out) {
    if (rows == 0) {
      return;
    }
    if (packed(w.gate(), rows)) {
      runPacked(w, x, rows, out);
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
          SwiGlu.apply(g, u, r * f + n0, r * f + n0 + count, wk.tail);
        }
      }
    });
    gemm.matmul(g, 0, rows, w.down(), out, 0, w.down().rows());
  }

  /** gate/up panels then SiLU per panel, then down, all on packed weights (pinned meanwhile). */
  private void runPacked(ExpertWeights w, float[] x, int rows, float[] out) {
    PanelGemm.Packed gp = store.acquire(w.gate());
    try {
      PanelGemm.Packed upk = store.acquire(w.up());
      try {
        PanelGemm.Packed dp = store.acquire(w.down());
        try {
          runPacked(w, gp, upk, dp, x, rows, out);
        } finally {
          store.release(w.down());
        }
      } finally {
        store.release(w.up());
      }
    } finally {
      store.release(w.gate());
    }
  }

  private void runPacked(ExpertWeights w, PanelGemm.Packed gp, PanelGemm.Packed upk,
      PanelGemm.Packed dp, float[] x, int rows, float[] out) {
    int f = w.ffnSize();
    int h = w.gate().cols();
    // gate and up (rows, fp): rows padded to whole panels
    int fp = gp.panelCount() * PanelGemm.NR;
    if (gate.length < rows * fp) {
      gate = new float[rows * fp];
      up = new float[rows * fp];
    }
    float[] g = gate;
    float[] u = up;
    gemm.pool().run(gp.panelCount(), (worker, from, to) -> {
      Gemm.Workspace wk = gemm.workspace(worker);
      float[] acc = wk.acc(rows);
      float[] tail = wk.tail;
      for (int p = from; p < to; p++) {
        PanelGemm.panel(x, rows, h, gp, p, g, 0, fp, acc, wk.widened);
        PanelGemm.panel(x, rows, h, upk, p, u, 0, fp, acc, wk.widened);
        int n0 = p * PanelGemm.NR;
        int n1 = Math.min(f, n0 + PanelGemm.NR);
        for (int r = 0; r < rows; r++) {
          SwiGlu.apply(g, u, r * fp + n0, r * fp + n1, tail);
        }
      }
    });
    packed(dp, g, rows, fp, out, w.down().rows());
  }

  /**
   * {@code out (rows, ldo) = x (rows, ldx) · W^T} on packed weights, panels split over workers.
   */
  private void packed(PanelGemm.Packed pw, float[] x, int rows, int ldx, float[] out, int ldo) {
    gemm.pool().run(pw.panelCount(), (worker, from, to) -> {
      Gemm.Workspace wk = gemm.workspace(worker);
      float[] acc = wk.acc(rows);
      for (int p = from; p < to; p++) {
        PanelGemm.panel(x, rows, ldx, pw, p, out, 0, ldo, acc, wk.widened);
      }
    });
  }

  /**
   * {@code out (rows, N) = x (rows, K) · W^T} for a projection (attention, router, LM head): on
   * the packed weights when the batch is large enough to pay for packing them or they are cached
   * already, else decoded on the fly. Bitwise the same either way.
   */
  void matmul(WeightTensor w, float[] x, int rows, float[] out, int ldo) {
    if (rows == 0) {
      return;
    }
    if (!packed(w, rows)) {
      gemm.matmul(x, 0, rows, w, out, 0, ldo);
      return;
    }
    PanelGemm.Packed p = store.acquire(w);
    try {
      packed(p, x, rows, w.cols(), out, ldo);
    } finally {
      store.release(w);
    }
  }
}

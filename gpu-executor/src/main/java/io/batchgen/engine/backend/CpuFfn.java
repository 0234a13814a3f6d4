package io.batchgen.engine.backend;

import io.batchgen.engine.model.ExpertWeights;
import io.batchgen.engine.model.WeightTensor;

/**
 * The cpu backend's GEMMs on packed weights ({@link PanelGemm}): the expert FFN over all rows
 * routed to one expert, and every projection (attention, router, LM head) over all rows of a
 * module batch.
 *
 * <p>The FFN runs in two passes over the pool: gate and up panels of the same output columns
 * with SiLU applied at once, written straight into the packed rows of the down projection; then
 * the down projection.
 *
 * <p>Batches of at least {@link #PACK_MIN_ROWS} rows pack a weight matrix once into the
 * {@link WeightStore}; smaller ones use it if it is resident already, else pack each panel on the
 * fly into the worker's scratch, which costs less than packing a whole matrix for a few rows. When
 * the model's weights stream (they exceed the store's budget) every matrix goes through the store,
 * so every byte read is counted. A matrix from the store is pinned while a call uses it. Both
 * compute every element with the same FMA chain, so the choice never changes a result bit. Not
 * thread-safe (one caller at a time); only the caller brings matrices into the store.
 */
final class CpuFfn {
  /** Smallest batch that packs a weight matrix into the store. */
  static final int PACK_MIN_ROWS = 16;

  private final WorkerPool pool;
  private final PanelGemm gemm;
  private final Workspace[] ws;
  private final WeightStore store;
  private final int packMinRows;
  private float[] rowsG = new float[0];
  /** Calls so far, so each worker knows when its packed rows are current. */
  private int calls;

  /**
   * A store of {@code storeBytes} for weights of unknown total (they never count as streaming);
   * {@code packMinRows} = Integer.MAX_VALUE never packs into the store.
   */
  CpuFfn(WorkerPool pool, SimdKernels simd, long storeBytes, int packMinRows) {
    this(pool, new WeightStore(pool, new PanelGemm(simd), storeBytes, 0), packMinRows);
  }

  CpuFfn(WorkerPool pool, WeightStore store, int packMinRows) {
    this.pool = pool;
    this.gemm = store.gemm();
    this.ws = new Workspace[pool.threads()];
    for (int i = 0; i < ws.length; i++) {
      ws[i] = new Workspace(gemm);
    }
    this.store = store;
    this.packMinRows = packMinRows;
  }

  WeightStore store() {
    return store;
  }

  PanelGemm gemm() {
    return gemm;
  }

  WorkerPool pool() {
    return pool;
  }

  Workspace workspace(int worker) {
    return ws[worker];
  }

  private static float[] grow(float[] a, int n) {
    return a.length >= n ? a : new float[Math.max(n, a.length + (a.length >> 1))];
  }

  /**
   * The panels of each of {@code ws} from the store, pinned (release with {@link #release}),
   * brought in now if the batch pays for it or the weights stream; null for a matrix that packs
   * on the fly.
   */
  private PanelGemm.Packed[] acquire(WeightTensor[] ws, int rows) {
    PanelGemm.Packed[] out = new PanelGemm.Packed[ws.length];
    boolean done = false;
    try {
      for (int i = 0; i < ws.length; i++) {
        if (rows >= packMinRows || store.streaming() || store.holds(ws[i])) {
          out[i] = store.acquire(ws[i]);
        }
      }
      done = true;
      return out;
    } finally {
      if (!done) {
        release(ws, out);
      }
    }
  }

  /** Unpins what {@link #acquire} pinned. */
  private void release(WeightTensor[] ws, PanelGemm.Packed[] packed) {
    for (int i = 0; i < ws.length; i++) {
      if (packed[i] != null) {
        store.release(ws[i]);
      }
    }
  }

  /** Panel {@code p} of {@code w}: from the store, or packed now into the worker's scratch. */
  private PanelGemm.Packed panelOf(WeightTensor w, PanelGemm.Packed cached, int p, Workspace wk) {
    if (cached != null) {
      return cached;
    }
    PanelGemm.Packed scratch = wk.panel(gemm, w);
    gemm.pack(w, p, p + 1, p, scratch, wk);
    return scratch;
  }

  private int slot(PanelGemm.Packed cached, int p) {
    return cached != null ? p : 0;
  }

  /** {@code out (rows, hidden) = down(silu(gate(x)) * up(x))} for {@code x (rows, hidden)}. */
  void run(ExpertWeights w, float[] x, int rows, float[] out) {
    run(w, x, 0, rows, out, 0);
  }

  /**
   * {@link #run} on rows {@code x[xOff ..]} into {@code out[outOff ..]}, the panels split over
   * the pool.
   */
  void run(ExpertWeights w, float[] x, int xOff, int rows, float[] out, int outOff) {
    if (rows == 0) {
      return;
    }
    int f = w.ffnSize();
    int h = w.gate().cols();
    PanelGemm.RowTiles tiles = PanelGemm.tiles(rows, w.gate(), w.up(), w.down());
    rowsG = grow(rowsG, gemm.packedRowsLength(tiles, f));
    float[] g = rowsG;
    WeightTensor[] mats = {w.gate(), w.up(), w.down()};
    PanelGemm.Packed[] held = acquire(mats, rows);
    try {
      int call = ++calls;
      pool.run(gemm.panels(f), (worker, from, to) -> {
        Workspace wk = ws[worker];
        gateUp(wk, packedRows(wk, call, x, xOff, h, tiles), w, held[0], held[1], tiles, g, from,
            to);
      });
      project(new WeightTensor[] {w.down()}, new PanelGemm.Packed[] {held[2]}, wk -> g, tiles,
          new float[][] {out}, outOff, new int[] {h});
    } finally {
      release(mats, held);
    }
  }

  /**
   * The FFNs of several experts, each over its own rows ({@code x[offsets[i] ..]}, {@code rows[i]}
   * of them, into {@code out[offsets[i] ..]}), one whole expert per worker side by side, handed
   * out in the given order (largest first finishes best): at decode an expert sees a few rows,
   * and splitting each one over the workers costs more than it gains. Every weight matrix is
   * brought in and pinned here, on the caller, before the workers start (the store's loads are
   * the caller's; a worker only packs panels on the fly into its own scratch). The same FMA
   * chains as {@link #run}.
   */
  void runSideBySide(ExpertWeights[] experts, float[] x, int[] offsets, int[] rows,
      float[] out) {
    int n = experts.length;
    WeightTensor[][] mats = new WeightTensor[n][];
    PanelGemm.Packed[][] held = new PanelGemm.Packed[n][];
    try {
      for (int i = 0; i < n; i++) {
        mats[i] = new WeightTensor[] {experts[i].gate(), experts[i].up(), experts[i].down()};
        held[i] = acquire(mats[i], rows[i]);
      }
      pool.runEach(n, (worker, from, to) -> {
        for (int i = from; i < to; i++) {
          runAlone(ws[worker], experts[i], held[i], x, offsets[i], rows[i], out, offsets[i]);
        }
      });
    } finally {
      for (int i = 0; i < n; i++) {
        if (held[i] != null) {
          release(mats[i], held[i]);
        }
      }
    }
  }

  /** {@link #run} of one expert whose matrices are {@code held}, on one worker alone. */
  private void runAlone(Workspace wk, ExpertWeights w, PanelGemm.Packed[] held, float[] x,
      int xOff, int rows, float[] out, int outOff) {
    if (rows == 0) {
      return;
    }
    int f = w.ffnSize();
    int h = w.gate().cols();
    PanelGemm.RowTiles tiles = PanelGemm.tiles(rows, w.gate(), w.up(), w.down());
    float[] a = wk.packedRows(gemm.packedRowsLength(tiles, h));
    gemm.packRows(x, xOff, h, h, tiles, a);
    wk.packedCall = 0; // no call of this FFN's pool has id 0: the next one packs afresh
    float[] g = wk.ffnMiddle(gemm.packedRowsLength(tiles, f));
    gateUp(wk, a, w, held[0], held[1], tiles, g, 0, gemm.panels(f));
    projectPanels(wk, g, new WeightTensor[] {w.down()}, new PanelGemm.Packed[] {held[2]},
        new int[] {0, gemm.panels(h)}, tiles, new float[][] {out}, outOff, new int[] {h}, 0,
        gemm.panels(h));
  }

  /**
   * Gate and up panels {@code [from, to)} over the packed rows {@code a}, SiLU applied, written
   * into the down projection's packed rows {@code g}.
   */
  private void gateUp(Workspace wk, float[] a, ExpertWeights w, PanelGemm.Packed gp,
      PanelGemm.Packed upk, PanelGemm.RowTiles tiles, float[] g, int from, int to) {
    int f = w.ffnSize();
    int nr = gemm.panelWidth();
    float[] acc = wk.acc(tiles.computed(), nr);
    float[] acc2 = wk.acc2(tiles.computed(), nr);
    for (int c0 = 0; c0 < tiles.count(); c0 += tiles.chunk()) {
      int c1 = Math.min(tiles.count(), c0 + tiles.chunk());
      int r0 = tiles.start()[c0];
      int r1 = tiles.start()[c1 - 1] + tiles.rows()[c1 - 1];
      for (int p = from; p < to; p++) {
        gemm.panel(a, tiles, c0, c1, panelOf(w.gate(), gp, p, wk), slot(gp, p), acc, wk);
        gemm.panel(a, tiles, c0, c1, panelOf(w.up(), upk, p, wk), slot(upk, p), acc2, wk);
        gemm.simd().swiGlu(acc, acc2, r0 * nr, r1 * nr, wk.tmp);
        scatterRows(acc, nr, tiles, c0, c1, p * nr, Math.min(nr, f - p * nr), f, g);
      }
    }
  }

  /**
   * The rows {@code x (m, k)} packed into {@code wk}'s own buffer, once per {@code call}: every
   * worker packs its own copy (a few microseconds) rather than reading one packed by another core,
   * whose lines would cross between the cores' caches on every call.
   */
  private float[] packedRows(Workspace wk, int call, float[] x, int xOff, int k,
      PanelGemm.RowTiles tiles) {
    float[] a = wk.packedRows(gemm.packedRowsLength(tiles, k));
    if (wk.packedCall != call) {
      gemm.packRows(x, xOff, k, k, tiles, a);
      wk.packedCall = call;
    }
    return a;
  }

  /** Where a worker finds the packed rows of a projection. */
  private interface Rows {
    float[] of(Workspace wk);
  }

  /**
   * Writes the accumulated rows of tiles {@code [c0, c1)} (padding rows too: zero inputs give
   * silu(0) * 0 = 0), columns {@code [n0, n0 + valid)}, into packed rows {@code g} of width k:
   * the down projection's input without another pass.
   */
  private static void scatterRows(float[] acc, int nr, PanelGemm.RowTiles tiles, int c0, int c1,
      int n0, int valid, int k, float[] g) {
    for (int t = c0; t < c1; t++) {
      int rows = tiles.rows()[t];
      for (int i = 0; i < rows; i++) {
        int src = (tiles.start()[t] + i) * nr;
        int d = (t * k + n0) * nr + i;
        for (int j = 0; j < valid; j++, d += nr) {
          g[d] = acc[src + j];
        }
      }
    }
  }

  /**
   * {@code outs[i]} rows = packed rows {@code a} times {@code ws[i]}^T for every i, in one pass
   * over the pool: the panels of all the matrices split over the workers together.
   */
  private void project(WeightTensor[] ws, PanelGemm.Packed[] cached, Rows rows,
      PanelGemm.RowTiles tiles, float[][] outs, int outOff, int[] ldos) {
    int[] first = new int[ws.length + 1];
    for (int i = 0; i < ws.length; i++) {
      first[i + 1] = first[i] + gemm.panels(ws[i].rows());
    }
    pool.run(first[ws.length], (worker, from, to) -> {
      Workspace wk = ws(worker);
      projectPanels(wk, rows.of(wk), ws, cached, first, tiles, outs, outOff, ldos, from, to);
    });
  }

  /**
   * Panels {@code [from, to)} of {@link #project}, numbered across the matrices ({@code first[i]}
   * is the first panel of {@code ws[i]}).
   */
  private void projectPanels(Workspace wk, float[] a, WeightTensor[] ws,
      PanelGemm.Packed[] cached, int[] first, PanelGemm.RowTiles tiles, float[][] outs,
      int outOff, int[] ldos, int from, int to) {
    int nr = gemm.panelWidth();
    float[] acc = wk.acc(tiles.computed(), nr);
    for (int c0 = 0; c0 < tiles.count(); c0 += tiles.chunk()) {
      int c1 = Math.min(tiles.count(), c0 + tiles.chunk());
      int r0 = tiles.start()[c0];
      int r1 = Math.min(tiles.m(), tiles.start()[c1 - 1] + tiles.rows()[c1 - 1]);
      int i = 0;
      for (int task = from; task < to; task++) {
        while (task >= first[i + 1]) {
          i++;
        }
        int p = task - first[i];
        WeightTensor w = ws[i];
        gemm.panel(a, tiles, c0, c1, panelOf(w, cached[i], p, wk), slot(cached[i], p), acc, wk);
        gemm.store(acc, r0, r1, w.rows(), p, outs[i], outOff, ldos[i]);
      }
    }
  }

  private Workspace ws(int worker) {
    return ws[worker];
  }

  /**
   * {@code out (rows, N) = x (rows, K) · W^T} for a projection (attention, router, LM head), row
   * r at {@code out[r * ldo]}.
   */
  void matmul(WeightTensor w, float[] x, int rows, float[] out, int ldo) {
    matmul(x, rows, new WeightTensor[] {w}, new float[][] {out}, new int[] {ldo});
  }

  /**
   * {@code outs[i] (rows, N_i) = x (rows, K) · ws[i]^T} for projections of the same input
   * (attention's q, k and v): the rows packed once, one pass over the pool.
   */
  void matmul(float[] x, int rows, WeightTensor[] ws, float[][] outs, int[] ldos) {
    if (rows == 0) {
      return;
    }
    int k = ws[0].cols();
    for (WeightTensor w : ws) {
      if (w.cols() != k) {
        throw new IllegalArgumentException("Projections of one input need one width: " + w
            + " vs " + k);
      }
    }
    PanelGemm.RowTiles tiles = PanelGemm.tiles(rows, ws);
    PanelGemm.Packed[] held = acquire(ws, rows);
    int call = ++calls;
    try {
      project(ws, held, wk -> packedRows(wk, call, x, 0, k, tiles), tiles, outs, 0, ldos);
    } finally {
      release(ws, held);
    }
  }
}

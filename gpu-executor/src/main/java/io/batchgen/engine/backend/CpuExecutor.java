package io.batchgen.engine.backend;

import io.batchgen.core.model.AttentionBatch;
import io.batchgen.core.model.ExpertGroups;
import io.batchgen.core.model.KvStore;
import io.batchgen.core.model.ModelShape;
import io.batchgen.core.model.ModuleExecutor;
import io.batchgen.core.model.ModuleKey;
import io.batchgen.core.model.ModuleKind;
import io.batchgen.core.model.RowBatch;
import io.batchgen.core.model.WeightTraffic;
import io.batchgen.engine.model.ExpertWeights;
import io.batchgen.engine.model.LayerWeights;
import io.batchgen.engine.model.LoadedModel;
import io.batchgen.engine.model.ModelConfig;
import io.batchgen.engine.model.RopeFrequencies;
import io.batchgen.engine.model.WeightTensor;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The Java Vector API backend: every projection is one GEMM on packed weights over all rows of
 * the module batch (an expert's rows, every row of an LM-head step), split across a
 * {@link WorkerPool} by panels of output columns ({@link CpuFfn}); attention is split by rows
 * ({@link CpuAttention}). At decode, where each expert sees a few rows, the experts of a layer run
 * side by side instead, one whole expert per worker ({@link #experts}). The kernels run at one
 * {@link VectorWidth}, the machine's preferred one unless forced. Each output element is computed
 * by one fixed sequence of operations, so a row's result never depends on the other rows, the
 * batch size, the thread count or the width.
 *
 * <p>Weight matrices are read in compute-ready form from a {@link WeightStore} whose budget
 * ({@link WeightSettings}) may be smaller than the model: then they stream from the checkpoint
 * file module by module.
 *
 * <p>Called from one runtime thread at a time (per the SPI); the per-call buffers below are
 * therefore plain fields.
 */
final class CpuExecutor implements ModuleExecutor {
  private static final Logger LOG = LoggerFactory.getLogger(CpuExecutor.class);
  private final LoadedModel model;
  private final ModelConfig c;
  private final ModelShape shape;
  private final RopeFrequencies rope;
  private final WorkerPool pool;
  private final CpuAttention attention;
  private float[] xn = new float[0];
  private float[] q = new float[0];
  private float[] k = new float[0];
  private float[] v = new float[0];
  private float[] attnOut = new float[0];
  private float[] proj = new float[0];
  private final CpuFfn ffn;
  private final WeightStore store;
  /** Set when weights stream module by module; null otherwise. */
  private final WeightLoader loader;
  /** Layer-wise baseline: every expert of a layer is brought in when the layer runs. */
  private final boolean wholeLayers;
  /**
   * Most rows per expert, on average over a layer's groups, for which whole experts run side by
   * side rather than each split over the workers (decode sees a few rows per expert).
   */
  static final int GROUP_MAX_MEAN_ROWS = 32;
  private float[] router = new float[0];
  private float[] normed = new float[0];

  CpuExecutor(LoadedModel model, int threads, VectorWidth width) {
    this(model, threads, width, WeightSettings.defaults());
  }

  /**
   * @throws IllegalArgumentException when the weight budget cannot hold the matrices of one
   *     module, with the numbers
   */
  CpuExecutor(LoadedModel model, int threads, VectorWidth width, WeightSettings weights) {
    this.model = model;
    this.c = model.config();
    this.shape = model.shape();
    this.rope = new RopeFrequencies(c);
    SimdKernels simd = SimdKernels.of(width);
    PanelGemm gemm = new PanelGemm(simd);
    long budget = weights.resolve(Runtime.getRuntime().maxMemory());
    WeightPlan plan = WeightPlan.of(model, gemm);
    plan.check(budget);
    this.pool = new WorkerPool(threads);
    this.store = new WeightStore(pool, gemm, budget, plan.totalBytes());
    plan.register(store);
    this.ffn = new CpuFfn(pool, store, CpuFfn.PACK_MIN_ROWS);
    this.attention = new CpuAttention(simd, c.numHeads(), c.numKvHeads(), c.headDim());
    boolean byModule = weights.streaming() == WeightSettings.Streaming.MODULE;
    this.loader = store.streaming() && byModule ? new WeightLoader(store) : null;
    this.wholeLayers = store.streaming() && !byModule;
    if (store.streaming()) {
      LOG.info("Weights stream: budget {} MiB holds {}% of the model's {} MiB compute-ready"
          + " weights ({} streaming)", budget >> 20, 100 * budget / plan.totalBytes(),
          plan.totalBytes() >> 20, weights.streaming().name().toLowerCase(Locale.ROOT));
    }
  }

  private int lanes() {
    return ffn.gemm().simd().lanes();
  }

  @Override
  public ModelShape shape() {
    return shape;
  }

  @Override
  public String describe() {
    return "cpu(threads=" + pool.threads() + ", " + model.dtype().name().toLowerCase(Locale.ROOT)
        + ", " + ffn.gemm().simd().width() + ")";
  }

  @Override
  public KvStore createKvStore(int numBlocks, int blockSize) {
    return new CpuKvStore(numBlocks, blockSize, c.numKvHeads(), c.headDim(), lanes());
  }

  @Override
  public long kvBytesPerBlock(int blockSize) {
    return 4L * CpuKvStore.internalFloats(blockSize, c.numKvHeads(), c.headDim(), lanes());
  }

  @Override
  public void embed(int[] tokens, int offset, int count, float[] out, int outOffset) {
    for (int i = 0; i < count; i++) {
      model.weights().embed().readRow(tokens[offset + i], out, outOffset + i * c.hiddenSize());
    }
  }

  private static float[] grow(float[] a, long n) {
    return a.length >= n ? a : new float[(int) Math.max(n, a.length + (a.length >> 1))];
  }

  private void matmul(float[] x, int m, WeightTensor w, float[] out, int ldo) {
    ffn.matmul(w, x, m, out, ldo);
  }

  /** RMSNorm of row {@code r} (width n): sum of squares in double, in index order. */
  private void rmsNorm(float[] x, int off, int n, float[] weight, float[] out, int outOff) {
    double ss = 0;
    for (int i = 0; i < n; i++) {
      ss += (double) x[off + i] * x[off + i];
    }
    float inv = (float) (1.0 / Math.sqrt(ss / n + c.rmsEps()));
    for (int i = 0; i < n; i++) {
      out[outOff + i] = x[off + i] * inv * weight[i];
    }
  }

  // ---- attention ----

  @Override
  public void attention(AttentionBatch b) {
    CpuKvStore kv = BatchChecks.attention(b, shape, CpuKvStore.class);
    LayerWeights lw = model.weights().layers().get(b.layer());
    int rows = b.rows();
    int h = c.hiddenSize();
    int qd = c.qDim();
    int kvd = c.kvDim();
    xn = grow(xn, (long) rows * h);
    q = grow(q, (long) rows * qd);
    k = grow(k, (long) rows * kvd);
    v = grow(v, (long) rows * kvd);
    attnOut = grow(attnOut, (long) rows * qd);
    proj = grow(proj, (long) rows * h);
    float[] hidden = b.hidden();
    for (int r = 0; r < rows; r++) {
      rmsNorm(hidden, r * h, h, lw.attnNorm(), xn, r * h);
    }
    ffn.matmul(xn, rows, new WeightTensor[] {lw.wq(), lw.wk(), lw.wv()},
        new float[][] {q, k, v}, new int[] {qd, kvd, kvd});
    int[] rowPos = new int[rows];
    int[] rowSeg = new int[rows];
    for (int s = 0; s < b.segments(); s++) {
      for (int i = 0; i < b.segmentRowCount(s); i++) {
        rowPos[b.segmentRowStart(s) + i] = b.segmentPosition(s) + i;
        rowSeg[b.segmentRowStart(s) + i] = s;
      }
    }
    pool.run(rows, (worker, from, to) -> {
      float[] cos = new float[c.headDim() / 2];
      float[] sin = new float[c.headDim() / 2];
      for (int r = from; r < to; r++) {
        prepareQkv(lw, r, rowPos[r], cos, sin);
        int[] blocks = b.segmentBlocks(rowSeg[r]);
        kv.put(blocks[rowPos[r] / kv.blockSize()], rowPos[r] % kv.blockSize(), k, r * kvd, v,
            r * kvd);
      }
    });
    // a row's cost grows with its position: deal rows out in turn so prefill chunks balance
    int[] order = interleaved(rows, pool.threads());
    pool.run(rows, (worker, from, to) -> {
      Workspace wk = ffn.workspace(worker);
      for (int i = from; i < to; i++) {
        int r = order[i];
        attention.row(kv, b.segmentBlocks(rowSeg[r]), rowPos[r], q, r * qd, attnOut, r * qd, wk);
      }
    });
    matmul(attnOut, rows, lw.wo(), proj, h);
    for (int i = 0; i < rows * h; i++) {
      hidden[i] += proj[i];
    }
    float[] ffnIn = b.ffnInput();
    for (int r = 0; r < rows; r++) {
      rmsNorm(hidden, r * h, h, lw.ffnNorm(), ffnIn, r * h);
    }
    route(lw, b, rows);
    if (wholeLayers && lw.router() != null) {
      bringInUnroutedExperts(b.layer(), b);
    }
  }

  /** Bias, clip, QK norm and RoPE of one row's q and k, in place. */
  private void prepareQkv(LayerWeights lw, int r, int pos, float[] cos, float[] sin) {
    int qd = c.qDim();
    int kvd = c.kvDim();
    int hd = c.headDim();
    if (lw.bq() != null) {
      for (int i = 0; i < qd; i++) {
        q[r * qd + i] += lw.bq()[i];
      }
      for (int i = 0; i < kvd; i++) {
        k[r * kvd + i] += lw.bk()[i];
        v[r * kvd + i] += lw.bv()[i];
      }
    }
    if (c.clipQkv() > 0) {
      float lim = c.clipQkv();
      for (int i = 0; i < qd; i++) {
        q[r * qd + i] = Math.max(-lim, Math.min(lim, q[r * qd + i]));
      }
      for (int i = 0; i < kvd; i++) {
        k[r * kvd + i] = Math.max(-lim, Math.min(lim, k[r * kvd + i]));
        v[r * kvd + i] = Math.max(-lim, Math.min(lim, v[r * kvd + i]));
      }
    }
    switch (c.qkNorm()) {
      case FULL -> {
        rmsNorm(q, r * qd, qd, lw.qNorm(), q, r * qd);
        rmsNorm(k, r * kvd, kvd, lw.kNorm(), k, r * kvd);
      }
      case PER_HEAD -> {
        for (int hh = 0; hh < c.numHeads(); hh++) {
          rmsNorm(q, r * qd + hh * hd, hd, lw.qNorm(), q, r * qd + hh * hd);
        }
        for (int hh = 0; hh < c.numKvHeads(); hh++) {
          rmsNorm(k, r * kvd + hh * hd, hd, lw.kNorm(), k, r * kvd + hh * hd);
        }
      }
      default -> {
      }
    }
    rope.cosSin(pos, cos, sin);
    for (int hh = 0; hh < c.numHeads(); hh++) {
      rope.rotate(q, r * qd + hh * hd, hd, cos, sin);
    }
    for (int hh = 0; hh < c.numKvHeads(); hh++) {
      rope.rotate(k, r * kvd + hh * hd, hd, cos, sin);
    }
  }

  /**
   * Rows 0..n-1 ordered so that the contiguous range {@link WorkerPool#run} gives each of
   * {@code threads} workers holds every threads-th row: a mix of early and late positions.
   */
  static int[] interleaved(int n, int threads) {
    int[] order = new int[n];
    int i = 0;
    for (int w = 0; w < threads; w++) {
      for (int r = w; r < n; r += threads) {
        order[i++] = r;
      }
    }
    return order;
  }

  /** Dot product as one sequential FMA chain (the same at every vector width). */
  static float dot(float[] a, int ao, float[] b, int bo, int n) {
    float s = 0f;
    for (int i = 0; i < n; i++) {
      s = Math.fma(a[ao + i], b[bo + i], s);
    }
    return s;
  }

  /** Router logits as one GEMM, then per row: softmax, top-k (lower id on ties), renormalise. */
  private void route(LayerWeights lw, AttentionBatch b, int rows) {
    int topK = c.topK();
    if (lw.router() == null) {
      for (int r = 0; r < rows; r++) {
        b.topExperts()[r] = 0;
        b.topWeights()[r] = 1f;
      }
      return;
    }
    int e = c.numExperts();
    router = grow(router, (long) rows * e);
    matmul(b.ffnInput(), rows, lw.router(), router, e);
    boolean[] taken = new boolean[e];
    for (int r = 0; r < rows; r++) {
      int off = r * e;
      float max = Float.NEGATIVE_INFINITY;
      for (int i = 0; i < e; i++) {
        max = Math.max(max, router[off + i]);
      }
      float sum = 0;
      for (int i = 0; i < e; i++) {
        router[off + i] = (float) Math.exp(router[off + i] - max);
        sum += router[off + i];
      }
      Arrays.fill(taken, false);
      float chosen = 0;
      for (int j = 0; j < topK; j++) {
        int best = -1;
        for (int i = 0; i < e; i++) {
          if (!taken[i] && (best < 0 || router[off + i] > router[off + best])) {
            best = i;
          }
        }
        taken[best] = true;
        float p = router[off + best] / sum;
        b.topExperts()[r * topK + j] = best;
        b.topWeights()[r * topK + j] = p;
        chosen += p;
      }
      if (c.normTopkProb()) {
        for (int j = 0; j < topK; j++) {
          b.topWeights()[r * topK + j] /= chosen;
        }
      }
    }
  }

  // ---- FFN modules ----

  private void ffn(ExpertWeights w, float[] x, int rows, float[] out) {
    ffn.run(w, x, rows, out);
  }

  @Override
  public void expert(int layer, int expert, RowBatch batch) {
    BatchChecks.expert(shape, layer, expert);
    BatchChecks.rows(batch, c.hiddenSize(), c.hiddenSize(), "expert");
    ffn(model.weights().layers().get(layer).experts().get(expert), batch.input(), batch.rows(),
        batch.output());
  }

  /**
   * Runs whole experts side by side, one per worker, when a layer's groups are many and small
   * ({@link #GROUP_MAX_MEAN_ROWS}); else one after another, each split over the workers. Either
   * way every row gets the bits {@link #expert} gives it.
   */
  @Override
  public void experts(int layer, ExpertGroups groups) {
    int n = groups.groups();
    for (int g = 0; g < n; g++) {
      BatchChecks.expert(shape, layer, groups.groupExpert(g));
    }
    if (groups.hidden() != c.hiddenSize()) {
      throw new IllegalArgumentException("Expert groups of width " + groups.hidden()
          + " but the model's hidden size is " + c.hiddenSize());
    }
    List<ExpertWeights> experts = model.weights().layers().get(layer).experts();
    int h = c.hiddenSize();
    if (n < 2 * pool.threads() || groups.rows() > GROUP_MAX_MEAN_ROWS * n) {
      for (int g = 0; g < n; g++) {
        int off = groups.groupStart(g) * h;
        ffn.run(experts.get(groups.groupExpert(g)), groups.input(), off, groups.groupRows(g),
            groups.output(), off);
      }
      return;
    }
    // largest first: the workers then finish within about one small expert of each other
    int[] order = largestFirst(groups);
    ExpertWeights[] ws = new ExpertWeights[n];
    int[] offsets = new int[n];
    int[] rows = new int[n];
    for (int i = 0; i < n; i++) {
      int g = order[i];
      ws[i] = experts.get(groups.groupExpert(g));
      offsets[i] = groups.groupStart(g) * h;
      rows[i] = groups.groupRows(g);
    }
    ffn.runSideBySide(ws, groups.input(), offsets, rows, groups.output());
  }

  /** Group indices by rows, most first (ties by index). */
  private static int[] largestFirst(ExpertGroups groups) {
    int n = groups.groups();
    long[] keys = new long[n];
    for (int g = 0; g < n; g++) {
      keys[g] = ((long) (Integer.MAX_VALUE - groups.groupRows(g)) << 32) | g;
    }
    Arrays.sort(keys);
    int[] order = new int[n];
    for (int i = 0; i < n; i++) {
      order[i] = (int) keys[i];
    }
    return order;
  }

  /**
   * Whether the runtime should hand this executor every expert of a layer in one call: with
   * more than one worker and every weight in memory, small groups then run one expert per
   * worker. Streaming weights keep one expert per call (the loader's order; a layer's experts
   * pinned at once might not fit the budget).
   */
  @Override
  public boolean groupsExperts() {
    return pool.threads() > 1 && !store.streaming();
  }

  @Override
  public void sharedExpert(int layer, RowBatch batch) {
    BatchChecks.expert(shape, layer, 0);
    BatchChecks.rows(batch, c.hiddenSize(), c.hiddenSize(), "shared expert");
    LayerWeights lw = model.weights().layers().get(layer);
    if (lw.shared() == null) {
      throw new IllegalStateException("Layer " + layer + " of " + c.arch().hfName()
          + " has no shared expert");
    }
    int h = c.hiddenSize();
    int rows = batch.rows();
    ffn(lw.shared(), batch.input(), rows, batch.output());
    for (int r = 0; r < rows; r++) {
      float logit = dot(lw.sharedGate(), 0, batch.input(), r * h, h);
      float sig = 1f / (1f + (float) Math.exp(-logit));
      for (int j = 0; j < h; j++) {
        batch.output()[r * h + j] *= sig;
      }
    }
  }

  @Override
  public void lmHead(RowBatch batch) {
    BatchChecks.rows(batch, c.hiddenSize(), c.vocabSize(), "LM head");
    int h = c.hiddenSize();
    int rows = batch.rows();
    normed = grow(normed, (long) rows * h);
    for (int r = 0; r < rows; r++) {
      rmsNorm(batch.input(), r * h, h, model.weights().finalNorm(), normed, r * h);
    }
    matmul(normed, rows, model.weights().lmHead(), batch.output(), c.vocabSize());
  }

  @Override
  public WeightTraffic weightTraffic() {
    return store.traffic();
  }

  // ---- weight streaming ----

  @Override
  public boolean streamsWeights() {
    return loader != null;
  }

  @Override
  public void prefetch(List<ModuleKey> next) {
    if (loader == null) {
      return;
    }
    List<List<WeightTensor>> modules = new ArrayList<>(next.size());
    for (ModuleKey k : next) {
      modules.add(matrices(k));
    }
    loader.hint(modules);
  }

  @Override
  public void prefetch(ModuleKey key) {
    prefetch(List.of(key));
  }

  @Override
  public boolean resident(ModuleKey key) {
    for (WeightTensor w : matrices(key)) {
      if (!store.holds(w)) {
        return false;
      }
    }
    return true;
  }

  /** The weight matrices module {@code key} reads. */
  private List<WeightTensor> matrices(ModuleKey key) {
    if (key.kind() == ModuleKind.LM_HEAD) {
      return List.of(model.weights().lmHead());
    }
    LayerWeights lw = model.weights().layers().get(key.layer());
    return switch (key.kind()) {
      case ATTENTION -> lw.router() == null ? List.of(lw.wq(), lw.wk(), lw.wv(), lw.wo())
          : List.of(lw.wq(), lw.wk(), lw.wv(), lw.wo(), lw.router());
      case EXPERT -> expertMatrices(lw.experts().get(key.expert()));
      case SHARED_EXPERT -> expertMatrices(lw.shared());
      default -> List.of();
    };
  }

  private static List<WeightTensor> expertMatrices(ExpertWeights w) {
    return List.of(w.gate(), w.up(), w.down());
  }

  /**
   * Layer-wise baseline: brings in every expert of {@code layer} that no row of this attention
   * batch routed to (those with rows are brought in when they run), as a layer-wise offloading
   * system streams whole layers.
   */
  private void bringInUnroutedExperts(int layer, AttentionBatch b) {
    int experts = c.numExperts();
    boolean[] routed = new boolean[experts];
    for (int i = 0; i < b.rows() * c.topK(); i++) {
      routed[b.topExperts()[i]] = true;
    }
    List<ExpertWeights> all = model.weights().layers().get(layer).experts();
    for (int e = 0; e < experts; e++) {
      if (!routed[e]) {
        for (WeightTensor w : expertMatrices(all.get(e))) {
          store.acquire(w);
          store.release(w);
        }
      }
    }
  }

  @Override
  public void close() {
    try {
      if (loader != null) {
        loader.close();
      }
    } finally {
      try {
        pool.close();
      } finally {
        store.close();
      }
    }
  }
}

package io.batchgen.engine.backend;

import io.batchgen.core.model.AttentionBatch;
import io.batchgen.core.model.KvStore;
import io.batchgen.core.model.ModelShape;
import io.batchgen.core.model.ModuleExecutor;
import io.batchgen.core.model.RowBatch;
import io.batchgen.engine.model.ExpertWeights;
import io.batchgen.engine.model.LayerWeights;
import io.batchgen.engine.model.LoadedModel;
import io.batchgen.engine.model.ModelConfig;
import io.batchgen.engine.model.RopeFrequencies;
import io.batchgen.engine.model.WeightTensor;

/**
 * The oracle: plain single-threaded Java that follows the architectures' reference code line by
 * line, one row at a time, accumulating in double. Slow on purpose; every fast backend is tested
 * against it.
 */
final class ReferenceExecutor implements ModuleExecutor {
  private final LoadedModel model;
  private final ModelConfig c;
  private final ModelShape shape;
  private final RopeFrequencies rope;

  ReferenceExecutor(LoadedModel model) {
    this.model = model;
    this.c = model.config();
    this.shape = model.shape();
    this.rope = new RopeFrequencies(c);
  }

  @Override
  public ModelShape shape() {
    return shape;
  }

  @Override
  public String describe() {
    return "reference(" + model.dtype().name().toLowerCase(java.util.Locale.ROOT) + ")";
  }

  @Override
  public KvStore createKvStore(int numBlocks, int blockSize) {
    return new HeapKvStore(numBlocks, blockSize, c.numKvHeads(), c.headDim());
  }

  @Override
  public long kvBytesPerBlock(int blockSize) {
    return 4L * blockSize * shape.kvFloatsPerTokenPerLayer();
  }

  @Override
  public void embed(int[] tokens, int offset, int count, float[] out, int outOffset) {
    for (int i = 0; i < count; i++) {
      model.weights().embed().readRow(tokens[offset + i], out, outOffset + i * c.hiddenSize());
    }
  }

  // ---- math helpers ----

  /** y = W x (+ b): W (rows, cols). */
  private static float[] matvec(WeightTensor w, float[] x, int xOff, float[] bias) {
    float[] row = new float[w.cols()];
    float[] y = new float[w.rows()];
    for (int n = 0; n < w.rows(); n++) {
      w.readRow(n, row, 0);
      double s = 0;
      for (int k = 0; k < w.cols(); k++) {
        s += (double) row[k] * x[xOff + k];
      }
      y[n] = (float) (bias == null ? s : s + bias[n]);
    }
    return y;
  }

  /** RMSNorm of x[off .. off+n) with weight w, written to out[outOff ..]. */
  private void rmsNorm(float[] x, int off, int n, float[] w, float[] out, int outOff) {
    double ss = 0;
    for (int i = 0; i < n; i++) {
      ss += (double) x[off + i] * x[off + i];
    }
    double inv = 1.0 / Math.sqrt(ss / n + c.rmsEps());
    for (int i = 0; i < n; i++) {
      out[outOff + i] = (float) (x[off + i] * inv * w[i]);
    }
  }

  static float silu(double g) {
    return (float) (g / (1.0 + Math.exp(-g)));
  }

  // ---- attention ----

  @Override
  public void attention(AttentionBatch b) {
    HeapKvStore kv = BatchChecks.attention(b, shape, HeapKvStore.class);
    LayerWeights lw = model.weights().layers().get(b.layer());
    int h = c.hiddenSize();
    int hd = c.headDim();
    int group = c.numHeads() / c.numKvHeads();
    float[] hidden = b.hidden();
    float[] cos = new float[hd / 2];
    float[] sin = new float[hd / 2];
    float[] xn = new float[h];
    for (int seg = 0; seg < b.segments(); seg++) {
      int r0 = b.segmentRowStart(seg);
      int rows = b.segmentRowCount(seg);
      int pos0 = b.segmentPosition(seg);
      int[] blocks = b.segmentBlocks(seg);
      float[][] qs = new float[rows][];
      // 1. project every row of the segment and store its K/V, so later rows see earlier ones
      for (int i = 0; i < rows; i++) {
        int r = r0 + i;
        int pos = pos0 + i;
        rmsNorm(hidden, r * h, h, lw.attnNorm(), xn, 0);
        float[] q = matvec(lw.wq(), xn, 0, lw.bq());
        float[] k = matvec(lw.wk(), xn, 0, lw.bk());
        float[] v = matvec(lw.wv(), xn, 0, lw.bv());
        if (c.clipQkv() > 0) {
          clip(q);
          clip(k);
          clip(v);
        }
        switch (c.qkNorm()) {
          case FULL -> {
            rmsNorm(q, 0, q.length, lw.qNorm(), q, 0);
            rmsNorm(k, 0, k.length, lw.kNorm(), k, 0);
          }
          case PER_HEAD -> {
            for (int hh = 0; hh < c.numHeads(); hh++) {
              rmsNorm(q, hh * hd, hd, lw.qNorm(), q, hh * hd);
            }
            for (int hh = 0; hh < c.numKvHeads(); hh++) {
              rmsNorm(k, hh * hd, hd, lw.kNorm(), k, hh * hd);
            }
          }
          default -> {
          }
        }
        rope.cosSin(pos, cos, sin);
        for (int hh = 0; hh < c.numHeads(); hh++) {
          rope.rotate(q, hh * hd, hd, cos, sin);
        }
        for (int hh = 0; hh < c.numKvHeads(); hh++) {
          rope.rotate(k, hh * hd, hd, cos, sin);
        }
        float[] block = kv.block(blocks[pos / kv.blockSize()]);
        int slot = pos % kv.blockSize();
        System.arraycopy(k, 0, block, slot * c.kvDim(), c.kvDim());
        System.arraycopy(v, 0, block, kv.vOffset() + slot * c.kvDim(), c.kvDim());
        qs[i] = q;
      }
      // 2. attend causally over positions [0, pos]
      for (int i = 0; i < rows; i++) {
        int r = r0 + i;
        int pos = pos0 + i;
        float[] attn = new float[c.qDim()];
        double scale = 1.0 / Math.sqrt(hd);
        for (int hh = 0; hh < c.numHeads(); hh++) {
          int kvh = hh / group;
          double[] scores = new double[pos + 1];
          double max = Double.NEGATIVE_INFINITY;
          for (int t = 0; t <= pos; t++) {
            float[] block = kv.block(blocks[t / kv.blockSize()]);
            int base = (t % kv.blockSize()) * c.kvDim() + kvh * hd;
            double s = 0;
            for (int d = 0; d < hd; d++) {
              s += (double) qs[i][hh * hd + d] * block[base + d];
            }
            scores[t] = s * scale;
            max = Math.max(max, scores[t]);
          }
          double sum = 0;
          for (int t = 0; t <= pos; t++) {
            scores[t] = Math.exp(scores[t] - max);
            sum += scores[t];
          }
          for (int d = 0; d < hd; d++) {
            double acc = 0;
            for (int t = 0; t <= pos; t++) {
              float[] block = kv.block(blocks[t / kv.blockSize()]);
              acc += scores[t] / sum
                  * block[kv.vOffset() + (t % kv.blockSize()) * c.kvDim() + kvh * hd + d];
            }
            attn[hh * hd + d] = (float) acc;
          }
        }
        float[] o = matvec(lw.wo(), attn, 0, null);
        for (int j = 0; j < h; j++) {
          hidden[r * h + j] += o[j];
        }
        rmsNorm(hidden, r * h, h, lw.ffnNorm(), b.ffnInput(), r * h);
        route(lw, b, r);
      }
    }
  }

  private void clip(float[] x) {
    float lim = c.clipQkv();
    for (int i = 0; i < x.length; i++) {
      x[i] = Math.max(-lim, Math.min(lim, x[i]));
    }
  }

  /** Softmax over all experts, top-k (ties to the lower id), renormalised when configured. */
  private void route(LayerWeights lw, AttentionBatch b, int r) {
    int k = c.topK();
    if (lw.router() == null) {
      b.topExperts()[r * k] = 0;
      b.topWeights()[r * k] = 1f;
      return;
    }
    float[] logits = matvec(lw.router(), b.ffnInput(), r * c.hiddenSize(), null);
    double max = Double.NEGATIVE_INFINITY;
    for (float l : logits) {
      max = Math.max(max, l);
    }
    double[] p = new double[logits.length];
    double sum = 0;
    for (int e = 0; e < p.length; e++) {
      p[e] = Math.exp(logits[e] - max);
      sum += p[e];
    }
    boolean[] taken = new boolean[p.length];
    double chosenSum = 0;
    int[] ids = new int[k];
    for (int j = 0; j < k; j++) {
      int best = -1;
      for (int e = 0; e < p.length; e++) {
        if (!taken[e] && (best < 0 || p[e] > p[best])) {
          best = e;
        }
      }
      taken[best] = true;
      ids[j] = best;
      chosenSum += p[best] / sum;
    }
    for (int j = 0; j < k; j++) {
      double w = p[ids[j]] / sum;
      b.topExperts()[r * k + j] = ids[j];
      b.topWeights()[r * k + j] = (float) (c.normTopkProb() ? w / chosenSum : w);
    }
  }

  // ---- FFN modules ----

  static float[] ffn(ExpertWeights w, float[] x, int off) {
    float[] g = matvec(w.gate(), x, off, null);
    float[] u = matvec(w.up(), x, off, null);
    float[] act = new float[g.length];
    for (int i = 0; i < g.length; i++) {
      act[i] = silu(g[i]) * u[i];
    }
    return matvec(w.down(), act, 0, null);
  }

  @Override
  public void expert(int layer, int expert, RowBatch batch) {
    BatchChecks.expert(shape, layer, expert);
    BatchChecks.rows(batch, c.hiddenSize(), c.hiddenSize(), "expert");
    ExpertWeights w = model.weights().layers().get(layer).experts().get(expert);
    int h = c.hiddenSize();
    for (int r = 0; r < batch.rows(); r++) {
      System.arraycopy(ffn(w, batch.input(), r * h), 0, batch.output(), r * h, h);
    }
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
    for (int r = 0; r < batch.rows(); r++) {
      float[] y = ffn(lw.shared(), batch.input(), r * h);
      double gate = 0;
      for (int k = 0; k < h; k++) {
        gate += (double) lw.sharedGate()[k] * batch.input()[r * h + k];
      }
      double sig = 1.0 / (1.0 + Math.exp(-gate));
      for (int j = 0; j < h; j++) {
        batch.output()[r * h + j] = (float) (sig * y[j]);
      }
    }
  }

  @Override
  public void lmHead(RowBatch batch) {
    BatchChecks.rows(batch, c.hiddenSize(), c.vocabSize(), "LM head");
    int h = c.hiddenSize();
    float[] xn = new float[h];
    for (int r = 0; r < batch.rows(); r++) {
      rmsNorm(batch.input(), r * h, h, model.weights().finalNorm(), xn, 0);
      float[] logits = matvec(model.weights().lmHead(), xn, 0, null);
      System.arraycopy(logits, 0, batch.output(), r * c.vocabSize(), c.vocabSize());
    }
  }

  @Override
  public void close() {
  }
}

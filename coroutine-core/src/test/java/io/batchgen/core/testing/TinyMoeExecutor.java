package io.batchgen.core.testing;

import io.batchgen.core.model.AttentionBatch;
import io.batchgen.core.model.KvStore;
import io.batchgen.core.model.ModelShape;
import io.batchgen.core.model.ModuleExecutor;
import io.batchgen.core.model.RowBatch;
import java.util.Random;

/**
 * A tiny but real MoE transformer for runtime tests: RMS norm, Q/K/V projections with a rotary
 * position encoding, causal attention that reads every earlier position back from the
 * {@link KvStore} (so wrong block tables, lost or stale KV change the tokens), softmax top-k
 * routing, SwiGLU-free ReLU² experts and an optional gated shared expert, and an LM head.
 * Weights come from a seed. Every row is computed alone in a fixed order, so outputs are bitwise
 * independent of batch composition, as the SPI demands.
 */
public final class TinyMoeExecutor implements ModuleExecutor {
  public static final int HIDDEN = 16;
  public static final int LAYERS = 2;
  public static final int EXPERTS = 4;
  public static final int TOP_K = 2;
  public static final int KV_HEADS = 2;
  public static final int HEAD_DIM = 4;
  public static final int VOCAB = 64;
  private static final int KV_DIM = KV_HEADS * HEAD_DIM;
  private static final int FFN = 12;

  private final ModelShape shape;
  private final float[] embed;           // (vocab, hidden)
  private final float[][] wq;            // per layer (kvDim, hidden)
  private final float[][] wk;
  private final float[][] wv;
  private final float[][] wo;            // per layer (hidden, kvDim)
  private final float[][] router;        // per layer (experts, hidden)
  private final float[][][] up;          // per layer, expert (ffn, hidden)
  private final float[][][] down;        // per layer, expert (hidden, ffn)
  private final float[][] sharedUp;      // per layer (ffn, hidden)
  private final float[][] sharedDown;    // per layer (hidden, ffn)
  private final float[][] sharedGate;    // per layer (hidden)
  private final float[] lmHead;          // (vocab, hidden)
  private final float[] q = new float[KV_DIM];
  private final float[] k = new float[KV_DIM];
  private final float[] v = new float[KV_DIM];
  private final float[] att = new float[KV_DIM];
  private final float[] norm = new float[HIDDEN];
  private final float[] mid = new float[FFN];
  private float[] scores = new float[64];

  public TinyMoeExecutor(long seed, boolean sharedExpert, int... eos) {
    this(seed, sharedExpert, 256, eos);
  }

  public TinyMoeExecutor(long seed, boolean sharedExpert, int maxPositions, int[] eos) {
    shape = new ModelShape(LAYERS, HIDDEN, EXPERTS, TOP_K, sharedExpert, KV_HEADS, HEAD_DIM,
        VOCAB, maxPositions, eos);
    Random r = new Random(seed);
    embed = random(r, VOCAB * HIDDEN, 1.0f);
    wq = new float[LAYERS][];
    wk = new float[LAYERS][];
    wv = new float[LAYERS][];
    wo = new float[LAYERS][];
    router = new float[LAYERS][];
    up = new float[LAYERS][EXPERTS][];
    down = new float[LAYERS][EXPERTS][];
    sharedUp = new float[LAYERS][];
    sharedDown = new float[LAYERS][];
    sharedGate = new float[LAYERS][];
    float s = (float) (1 / Math.sqrt(HIDDEN));
    for (int l = 0; l < LAYERS; l++) {
      wq[l] = random(r, KV_DIM * HIDDEN, s);
      wk[l] = random(r, KV_DIM * HIDDEN, s);
      wv[l] = random(r, KV_DIM * HIDDEN, s);
      wo[l] = random(r, HIDDEN * KV_DIM, 1.5f / (float) Math.sqrt(KV_DIM));
      router[l] = random(r, EXPERTS * HIDDEN, 2 * s);
      for (int e = 0; e < EXPERTS; e++) {
        up[l][e] = random(r, FFN * HIDDEN, s);
        down[l][e] = random(r, HIDDEN * FFN, (float) (1 / Math.sqrt(FFN)));
      }
      sharedUp[l] = random(r, FFN * HIDDEN, s);
      sharedDown[l] = random(r, HIDDEN * FFN, (float) (1 / Math.sqrt(FFN)));
      sharedGate[l] = random(r, HIDDEN, s);
    }
    lmHead = random(r, VOCAB * HIDDEN, 3 * s);
  }

  private static float[] random(Random r, int n, float scale) {
    float[] a = new float[n];
    for (int i = 0; i < n; i++) {
      a[i] = (float) r.nextGaussian() * scale;
    }
    return a;
  }

  @Override
  public ModelShape shape() {
    return shape;
  }

  @Override
  public String describe() {
    return "tiny-moe(test)";
  }

  @Override
  public KvStore createKvStore(int numBlocks, int blockSize) {
    return new TinyKvStore(numBlocks, blockSize, KV_DIM);
  }

  @Override
  public long kvBytesPerBlock(int blockSize) {
    return 2L * blockSize * KV_DIM * Float.BYTES;
  }

  @Override
  public void embed(int[] tokens, int offset, int count, float[] out, int outOffset) {
    for (int i = 0; i < count; i++) {
      System.arraycopy(embed, tokens[offset + i] * HIDDEN, out, outOffset + i * HIDDEN, HIDDEN);
    }
  }

  @Override
  public void attention(AttentionBatch b) {
    TinyKvStore kv = (TinyKvStore) b.kv();
    int layer = b.layer();
    float[] hidden = b.hidden();
    for (int s = 0; s < b.segments(); s++) {
      int[] blocks = b.segmentBlocks(s);
      int start = b.segmentRowStart(s);
      for (int i = 0; i < b.segmentRowCount(s); i++) {
        int row = start + i;
        int pos = b.segmentPosition(s) + i;
        rmsNorm(hidden, row * HIDDEN, norm, 0);
        matVec(wq[layer], norm, 0, q, KV_DIM, HIDDEN);
        matVec(wk[layer], norm, 0, k, KV_DIM, HIDDEN);
        matVec(wv[layer], norm, 0, v, KV_DIM, HIDDEN);
        rotate(q, pos);
        rotate(k, pos);
        int bs = kv.blockSize();
        float[] own = kv.block(blocks[pos / bs]);
        System.arraycopy(k, 0, own, kv.keyOffset(pos % bs), KV_DIM);
        System.arraycopy(v, 0, own, kv.valueOffset(pos % bs), KV_DIM);
        attend(kv, blocks, pos);
        for (int o = 0; o < HIDDEN; o++) {
          float acc = 0;
          for (int j = 0; j < KV_DIM; j++) {
            acc += wo[layer][o * KV_DIM + j] * att[j];
          }
          hidden[row * HIDDEN + o] += acc;
        }
        rmsNorm(hidden, row * HIDDEN, b.ffnInput(), row * HIDDEN);
        route(layer, b.ffnInput(), row * HIDDEN, b.topExperts(), b.topWeights(), row * TOP_K);
      }
    }
  }

  private void attend(TinyKvStore kv, int[] blocks, int pos) {
    int bs = kv.blockSize();
    if (scores.length < pos + 1) {
      scores = new float[2 * (pos + 1)];
    }
    for (int h = 0; h < KV_HEADS; h++) {
      int off = h * HEAD_DIM;
      float max = Float.NEGATIVE_INFINITY;
      for (int t = 0; t <= pos; t++) {
        float[] blk = kv.block(blocks[t / bs]);
        int ko = kv.keyOffset(t % bs) + off;
        float dot = 0;
        for (int d = 0; d < HEAD_DIM; d++) {
          dot += q[off + d] * blk[ko + d];
        }
        scores[t] = dot / (float) Math.sqrt(HEAD_DIM);
        max = Math.max(max, scores[t]);
      }
      float sum = 0;
      for (int t = 0; t <= pos; t++) {
        scores[t] = (float) Math.exp(scores[t] - max);
        sum += scores[t];
      }
      for (int d = 0; d < HEAD_DIM; d++) {
        att[off + d] = 0;
      }
      for (int t = 0; t <= pos; t++) {
        float[] blk = kv.block(blocks[t / bs]);
        int vo = kv.valueOffset(t % bs) + off;
        float p = scores[t] / sum;
        for (int d = 0; d < HEAD_DIM; d++) {
          att[off + d] += p * blk[vo + d];
        }
      }
    }
  }

  private static void rotate(float[] x, int pos) {
    for (int i = 0; i < KV_DIM; i += 2) {
      double theta = pos * Math.pow(100.0, -(double) (i % HEAD_DIM) / HEAD_DIM);
      float c = (float) Math.cos(theta);
      float s = (float) Math.sin(theta);
      float a = x[i];
      float b = x[i + 1];
      x[i] = a * c - b * s;
      x[i + 1] = a * s + b * c;
    }
  }

  private void route(int layer, float[] x, int xOff, int[] experts, float[] weights, int out) {
    float[] logits = new float[EXPERTS];
    float max = Float.NEGATIVE_INFINITY;
    for (int e = 0; e < EXPERTS; e++) {
      float acc = 0;
      for (int i = 0; i < HIDDEN; i++) {
        acc += router[layer][e * HIDDEN + i] * x[xOff + i];
      }
      logits[e] = acc;
      max = Math.max(max, acc);
    }
    float sum = 0;
    for (int e = 0; e < EXPERTS; e++) {
      logits[e] = (float) Math.exp(logits[e] - max);
      sum += logits[e];
    }
    boolean[] taken = new boolean[EXPERTS];
    float kept = 0;
    for (int j = 0; j < TOP_K; j++) {
      int best = -1;
      for (int e = 0; e < EXPERTS; e++) {
        if (!taken[e] && (best < 0 || logits[e] > logits[best])) {
          best = e;
        }
      }
      taken[best] = true;
      experts[out + j] = best;
      weights[out + j] = logits[best] / sum;
      kept += weights[out + j];
    }
    for (int j = 0; j < TOP_K; j++) {
      weights[out + j] /= kept;
    }
  }

  @Override
  public void expert(int layer, int expert, RowBatch batch) {
    ffn(up[layer][expert], down[layer][expert], batch, null);
  }

  @Override
  public void sharedExpert(int layer, RowBatch batch) {
    if (!shape.sharedExpert()) {
      throw new IllegalStateException("sharedExpert called on a model without one");
    }
    ffn(sharedUp[layer], sharedDown[layer], batch, sharedGate[layer]);
  }

  private void ffn(float[] w1, float[] w2, RowBatch batch, float[] gate) {
    float[] in = batch.input();
    float[] out = batch.output();
    for (int r = 0; r < batch.rows(); r++) {
      matVec(w1, in, r * HIDDEN, mid, FFN, HIDDEN);
      for (int i = 0; i < FFN; i++) {
        float m = Math.max(0, mid[i]);
        mid[i] = m * m;
      }
      float g = 1;
      if (gate != null) {
        float dot = 0;
        for (int i = 0; i < HIDDEN; i++) {
          dot += gate[i] * in[r * HIDDEN + i];
        }
        g = (float) (1 / (1 + Math.exp(-dot)));
      }
      for (int o = 0; o < HIDDEN; o++) {
        float acc = 0;
        for (int i = 0; i < FFN; i++) {
          acc += w2[o * FFN + i] * mid[i];
        }
        out[r * HIDDEN + o] = g * acc;
      }
    }
  }

  @Override
  public void lmHead(RowBatch batch) {
    float[] in = batch.input();
    float[] out = batch.output();
    for (int r = 0; r < batch.rows(); r++) {
      rmsNorm(in, r * HIDDEN, norm, 0);
      for (int t = 0; t < VOCAB; t++) {
        float acc = 0;
        for (int i = 0; i < HIDDEN; i++) {
          acc += lmHead[t * HIDDEN + i] * norm[i];
        }
        out[r * VOCAB + t] = acc;
      }
    }
  }

  private static void rmsNorm(float[] x, int off, float[] out, int outOff) {
    float ss = 0;
    for (int i = 0; i < HIDDEN; i++) {
      ss += x[off + i] * x[off + i];
    }
    float inv = (float) (1 / Math.sqrt(ss / HIDDEN + 1e-6));
    for (int i = 0; i < HIDDEN; i++) {
      out[outOff + i] = x[off + i] * inv;
    }
  }

  private static void matVec(float[] w, float[] x, int xOff, float[] out, int rows, int cols) {
    for (int o = 0; o < rows; o++) {
      float acc = 0;
      for (int i = 0; i < cols; i++) {
        acc += w[o * cols + i] * x[xOff + i];
      }
      out[o] = acc;
    }
  }

  @Override
  public void close() {
  }
}

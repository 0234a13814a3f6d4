package io.batchgen.engine.forward;

import io.batchgen.core.model.AttentionBatch;
import io.batchgen.core.model.KvStore;
import io.batchgen.core.model.ModelShape;
import io.batchgen.core.model.ModuleExecutor;
import io.batchgen.core.model.MoeCombine;
import io.batchgen.core.model.RowBatch;
import java.util.ArrayList;
import java.util.List;

/**
 * A plain driver for a {@link ModuleExecutor}: embed, then per layer attention, the routed experts
 * (one batch per expert), the shared expert and {@link MoeCombine}, then the LM head for every
 * row. Used by the logits tool and the equivalence tests; the coroutine runtime is the real
 * driver.
 *
 * <p>A {@link Session} holds several sequences with their own KV blocks; each {@link Session#step}
 * advances any subset of them by a chunk of tokens in one mixed batch, which is exactly what
 * batch-invariance tests need. Not thread-safe.
 */
public final class SimpleForward {
  private SimpleForward() {
  }

  /** Logits {@code (tokens.length, vocab)} row-major for every position of one prompt. */
  public static float[] logits(ModuleExecutor ex, int[] tokens) {
    try (Session s = new Session(ex, 1, tokens.length, 16)) {
      return s.step(new int[] {0}, List.of(tokens)).get(0);
    }
  }

  /** Greedy decoding: {@code steps} new tokens after {@code prompt} (argmax, lowest id on ties). */
  public static int[] greedy(ModuleExecutor ex, int[] prompt, int steps) {
    int[] out = new int[steps];
    int vocab = ex.shape().vocabSize();
    try (Session s = new Session(ex, 1, prompt.length + steps, 16)) {
      float[] logits = s.step(new int[] {0}, List.of(prompt)).get(0);
      int last = prompt.length - 1;
      for (int i = 0; i < steps; i++) {
        out[i] = argmax(logits, last * vocab, vocab);
        if (i + 1 < steps) {
          logits = s.step(new int[] {0}, List.of(new int[] {out[i]})).get(0);
          last = 0;
        }
      }
    }
    return out;
  }

  /** Index of the largest of {@code x[off .. off + n)}, the lowest on ties. */
  public static int argmax(float[] x, int off, int n) {
    int best = 0;
    for (int i = 1; i < n; i++) {
      if (x[off + i] > x[off + best]) {
        best = i;
      }
    }
    return best;
  }

  /**
   * Grows {@code batch}'s segment tables to {@code n} up front. Older builds of
   * {@link AttentionBatch#addSegment} lost earlier segments when growing; reserving once makes
   * every later batch of up to {@code n} segments safe with either build.
   */
  public static void reserveSegments(AttentionBatch batch, int n, KvStore kv) {
    int[] block = {0};
    batch.reset(0, n, 1, 1, kv);
    for (int i = 0; i < n; i++) {
      batch.addSegment(i, 1, 0, block);
    }
  }

  /** Several sequences sharing one executor and one KV store. */
  public static final class Session implements AutoCloseable {
    private final ModuleExecutor ex;
    private final ModelShape shape;
    private final KvStore kv;
    private final int blockSize;
    private final int maxLen;
    private final int[] length;
    private final int[][][] blocks; // (sequence, layer, block index) -> block id
    private final AttentionBatch attn = new AttentionBatch();
    private final RowBatch rows = new RowBatch();

    /** Room for {@code sequences} sequences of up to {@code maxLen} tokens each. */
    public Session(ModuleExecutor ex, int sequences, int maxLen, int blockSize) {
      this.ex = ex;
      this.shape = ex.shape();
      this.blockSize = blockSize;
      this.maxLen = maxLen;
      int perLayer = (maxLen + blockSize - 1) / blockSize;
      this.kv = ex.createKvStore(sequences * shape.numLayers() * perLayer, blockSize);
      this.length = new int[sequences];
      this.blocks = new int[sequences][shape.numLayers()][perLayer];
      // Interleave block ids across sequences so tables are not trivially contiguous.
      int next = 0;
      for (int b = 0; b < perLayer; b++) {
        for (int l = 0; l < shape.numLayers(); l++) {
          for (int s = 0; s < sequences; s++) {
            blocks[s][l][b] = next++;
          }
        }
      }
      reserveSegments(attn, sequences, kv);
    }

    /** Tokens seen so far by sequence {@code s}. */
    public int length(int s) {
      return length[s];
    }

    /**
     * Appends {@code chunks.get(i)} to sequence {@code seqs[i]} for every i, all in one batch, and
     * returns each chunk's logits {@code (chunk length, vocab)}.
     */
    public List<float[]> step(int[] seqs, List<int[]> chunks) {
      int h = shape.hiddenSize();
      int k = shape.topK();
      int total = 0;
      for (int i = 0; i < seqs.length; i++) {
        if (length[seqs[i]] + chunks.get(i).length > maxLen) {
          throw new IllegalArgumentException("Sequence " + seqs[i] + " would exceed " + maxLen
              + " tokens");
        }
        total += chunks.get(i).length;
      }
      float[] hidden = new float[total * h];
      int r = 0;
      for (int[] c : chunks) {
        ex.embed(c, 0, c.length, hidden, r * h);
        r += c.length;
      }
      float[] expertOut = new float[total * k * h];
      float[] sharedOut = shape.sharedExpert() ? new float[total * h] : null;
      for (int l = 0; l < shape.numLayers(); l++) {
        attn.reset(l, total, h, k, kv);
        r = 0;
        for (int i = 0; i < seqs.length; i++) {
          attn.addSegment(r, chunks.get(i).length, length[seqs[i]], blocks[seqs[i]][l]);
          r += chunks.get(i).length;
        }
        System.arraycopy(hidden, 0, attn.hidden(), 0, total * h);
        ex.attention(attn);
        System.arraycopy(attn.hidden(), 0, hidden, 0, total * h);
        runExperts(l, total, expertOut);
        if (sharedOut != null) {
          rows.reset(total, h, h);
          System.arraycopy(attn.ffnInput(), 0, rows.input(), 0, total * h);
          ex.sharedExpert(l, rows);
          System.arraycopy(rows.output(), 0, sharedOut, 0, total * h);
        }
        float[] acc = new float[h];
        for (int row = 0; row < total; row++) {
          java.util.Arrays.fill(acc, 0f);
          for (int j = 0; j < k; j++) {
            MoeCombine.accumulate(acc, 0, expertOut, (row * k + j) * h,
                attn.topWeights()[row * k + j], h);
          }
          if (sharedOut != null) {
            MoeCombine.add(acc, 0, sharedOut, row * h, h);
          }
          MoeCombine.add(hidden, row * h, acc, 0, h);
        }
      }
      int vocab = shape.vocabSize();
      rows.reset(total, h, vocab);
      System.arraycopy(hidden, 0, rows.input(), 0, total * h);
      ex.lmHead(rows);
      List<float[]> out = new ArrayList<>();
      r = 0;
      for (int i = 0; i < seqs.length; i++) {
        int n = chunks.get(i).length;
        float[] logits = new float[n * vocab];
        System.arraycopy(rows.output(), r * vocab, logits, 0, n * vocab);
        out.add(logits);
        r += n;
        length[seqs[i]] += n;
      }
      return out;
    }

    /** Gathers the rows routed to each expert, runs it once, scatters by (row, rank). */
    private void runExperts(int layer, int total, float[] expertOut) {
      int h = shape.hiddenSize();
      int k = shape.topK();
      int[] picks = new int[total * k];
      for (int e = 0; e < shape.numExperts(); e++) {
        int n = 0;
        for (int i = 0; i < total * k; i++) {
          if (attn.topExperts()[i] == e) {
            picks[n++] = i;
          }
        }
        if (n == 0) {
          continue;
        }
        rows.reset(n, h, h);
        for (int i = 0; i < n; i++) {
          System.arraycopy(attn.ffnInput(), (picks[i] / k) * h, rows.input(), i * h, h);
        }
        ex.expert(layer, e, rows);
        for (int i = 0; i < n; i++) {
          System.arraycopy(rows.output(), i * h, expertOut, picks[i] * h, h);
        }
      }
    }

    @Override
    public void close() {
      kv.close();
    }
  }
}

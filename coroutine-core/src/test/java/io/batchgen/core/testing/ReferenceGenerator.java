package io.batchgen.core.testing;

import io.batchgen.core.model.AttentionBatch;
import io.batchgen.core.model.KvStore;
import io.batchgen.core.model.ModelShape;
import io.batchgen.core.model.ModuleExecutor;
import io.batchgen.core.model.MoeCombine;
import io.batchgen.core.model.RowBatch;
import io.batchgen.core.sampling.Sampler;
import java.util.Arrays;

/**
 * The obviously-correct twin of the runtime: one sequence, one token at a time, straight through
 * the model with its own KV store and contiguous blocks. Greedy only; stops at
 * {@code maxNewTokens} or an EOS id.
 */
public final class ReferenceGenerator {
  private ReferenceGenerator() {
  }

  public static int[] greedy(ModuleExecutor ex, int[] prompt, int maxNewTokens) {
    ModelShape shape = ex.shape();
    int h = shape.hiddenSize();
    int k = shape.topK();
    int blockSize = 4;
    int maxLen = prompt.length + maxNewTokens;
    int blocksPerLayer = (maxLen + blockSize - 1) / blockSize;
    int[][] tables = new int[shape.numLayers()][blocksPerLayer];
    for (int l = 0; l < shape.numLayers(); l++) {
      for (int b = 0; b < blocksPerLayer; b++) {
        tables[l][b] = l * blocksPerLayer + b;
      }
    }
    int[] tokens = Arrays.copyOf(prompt, maxLen);
    int n = prompt.length;
    int[] eos = shape.eosTokenIds();
    try (KvStore kv = ex.createKvStore(shape.numLayers() * blocksPerLayer, blockSize)) {
      AttentionBatch att = new AttentionBatch();
      RowBatch rows = new RowBatch();
      float[] acc = new float[h];
      for (int pos = 0; pos < maxLen - 1 || pos == 0; pos++) {
        float[] x = new float[h];
        ex.embed(tokens, pos, 1, x, 0);
        for (int l = 0; l < shape.numLayers(); l++) {
          att.reset(l, 1, h, k, kv);
          System.arraycopy(x, 0, att.hidden(), 0, h);
          att.addSegment(0, 1, pos, Arrays.copyOf(tables[l], pos / blockSize + 1));
          ex.attention(att);
          System.arraycopy(att.hidden(), 0, x, 0, h);
          Arrays.fill(acc, 0);
          for (int j = 0; j < k; j++) {
            rows.reset(1, h, h);
            System.arraycopy(att.ffnInput(), 0, rows.input(), 0, h);
            ex.expert(l, att.topExperts()[j], rows);
            MoeCombine.accumulate(acc, 0, rows.output(), 0, att.topWeights()[j], h);
          }
          if (shape.sharedExpert()) {
            rows.reset(1, h, h);
            System.arraycopy(att.ffnInput(), 0, rows.input(), 0, h);
            ex.sharedExpert(l, rows);
            MoeCombine.add(acc, 0, rows.output(), 0, h);
          }
          MoeCombine.add(x, 0, acc, 0, h);
        }
        if (pos < n - 1) {
          continue; // still reading the prompt
        }
        rows.reset(1, h, shape.vocabSize());
        System.arraycopy(x, 0, rows.input(), 0, h);
        ex.lmHead(rows);
        int next = Sampler.argmax(rows.output(), 0, shape.vocabSize());
        tokens[n++] = next;
        boolean stop = false;
        for (int e : eos) {
          stop |= e == next;
        }
        if (stop || n - prompt.length == maxNewTokens) {
          break;
        }
      }
    }
    return Arrays.copyOfRange(tokens, prompt.length, n);
  }
}

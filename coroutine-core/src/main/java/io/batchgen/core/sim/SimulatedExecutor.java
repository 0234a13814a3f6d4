package io.batchgen.core.sim;

import io.batchgen.core.model.AttentionBatch;
import io.batchgen.core.model.KvStore;
import io.batchgen.core.model.ModelShape;
import io.batchgen.core.model.ModuleExecutor;
import io.batchgen.core.model.RowBatch;
import java.util.Arrays;

/**
 * A {@link ModuleExecutor} that computes nothing heavy and charges virtual time: the device of
 * one simulated executor. The scheduler above it is the real one; only the arithmetic is gone.
 *
 * <p>The residual stream of a row is two numbers, {@code (token, position)}: embedding writes the
 * token, attention the position, the experts add nothing. Routing is a hash of the sequence (its
 * first KV block), the position and the layer onto {@code topK} distinct experts, so expert
 * batches form as they would with a real router; routing decides batching only, never tokens.
 * The LM head puts all the mass on {@link #nextToken}, never on EOS, so each row generates
 * exactly its {@code maxNewTokens} tokens, and a row's tokens are a function of its prompt alone:
 * wherever it ran, migrated or not, they are the same.
 *
 * <p>Every call adds its {@link CostModel} cost to {@link #takeCharged()}; each simulated layer
 * stands for {@code costs.layers() / shape.numLayers()} real ones. KV is not stored (attention
 * reads none of it): {@link NullKvStore}.
 */
final class SimulatedExecutor implements ModuleExecutor {
  static final int HIDDEN = 2;
  static final int VOCAB = 32;
  static final int EOS = 0;

  private final ModelShape shape;
  private final CostModel costs;
  private final double layerScale;
  private double charged;

  SimulatedExecutor(CostModel costs, int simulatedLayers, int maxPositions) {
    if (simulatedLayers < 1 || simulatedLayers > costs.layers()) {
      throw new IllegalArgumentException("simulated layers must be in [1, " + costs.layers()
          + "] for cost model [" + costs.name() + "], got " + simulatedLayers);
    }
    this.shape = new ModelShape(simulatedLayers, HIDDEN, costs.experts(), costs.topK(), false, 1,
        1, VOCAB, maxPositions, new int[] {EOS});
    this.costs = costs;
    this.layerScale = (double) costs.layers() / simulatedLayers;
  }

  /** The token the model generates after {@code token} at {@code position}: never EOS. */
  static int nextToken(int token, int position) {
    return 1 + (int) Long.remainderUnsigned(mix(token * 0x9E3779B97F4A7C15L + position),
        VOCAB - 1);
  }

  static long mix(long z) {
    z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
    z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
    return z ^ (z >>> 31);
  }

  /** Virtual nanoseconds charged since the last call, which resets the count. */
  double takeCharged() {
    double c = charged;
    charged = 0;
    return c;
  }

  @Override
  public ModelShape shape() {
    return shape;
  }

  @Override
  public String describe() {
    return "simulated(" + costs.name() + ")";
  }

  @Override
  public KvStore createKvStore(int numBlocks, int blockSize) {
    return new NullKvStore(numBlocks, blockSize);
  }

  @Override
  public long kvBytesPerBlock(int blockSize) {
    return 2L * blockSize * Float.BYTES;
  }

  @Override
  public void embed(int[] tokens, int offset, int count, float[] out, int outOffset) {
    for (int i = 0; i < count; i++) {
      out[outOffset + i * HIDDEN] = tokens[offset + i];
      out[outOffset + i * HIDDEN + 1] = 0;
    }
  }

  @Override
  public void attention(AttentionBatch b) {
    float[] hidden = b.hidden();
    int[] experts = b.topExperts();
    float[] weights = b.topWeights();
    int topK = shape.topK();
    int numExperts = shape.numExperts();
    long context = 0;
    for (int s = 0; s < b.segments(); s++) {
      int start = b.segmentRowStart(s);
      int position = b.segmentPosition(s);
      int count = b.segmentRowCount(s);
      context += position + count;
      // The sequence's first KV block tells sequences apart (tokens alone do not: two
      // sequences that once produce the same token at the same position stay alike).
      long sequence = b.segmentBlocks(s)[0];
      for (int i = 0; i < count; i++) {
        int row = start + i;
        hidden[row * HIDDEN + 1] = position + i;
        long h = mix((sequence << 32) ^ ((long) (position + i) << 8) ^ b.layer());
        route(h, numExperts, topK, experts, weights, row * topK);
      }
    }
    Arrays.fill(b.ffnInput(), 0, b.rows() * HIDDEN, 0f);
    charged += layerScale * costs.attention().nanos(b.rows(), context);
  }

  /** {@code topK} distinct experts drawn from the hash, equal weights. */
  private static void route(long h, int numExperts, int topK, int[] experts, float[] weights,
      int out) {
    for (int j = 0; j < topK; j++) {
      int e = (int) Long.remainderUnsigned(h, numExperts);
      h = mix(h + j + 1);
      boolean taken = true;
      while (taken) {
        taken = false;
        for (int i = 0; i < j; i++) {
          if (experts[out + i] == e) {
            taken = true;
            e = (e + 1) % numExperts;
            break;
          }
        }
      }
      experts[out + j] = e;
      weights[out + j] = 1f / topK;
    }
  }

  @Override
  public void expert(int layer, int expert, RowBatch batch) {
    Arrays.fill(batch.output(), 0, batch.rows() * HIDDEN, 0f);
    charged += layerScale * costs.expert().nanos(batch.rows(), 0);
  }

  @Override
  public void sharedExpert(int layer, RowBatch batch) {
    throw new IllegalStateException("the simulated model has no shared expert");
  }

  @Override
  public void lmHead(RowBatch batch) {
    float[] in = batch.input();
    float[] out = batch.output();
    int rows = batch.rows();
    Arrays.fill(out, 0, rows * VOCAB, 0f);
    for (int r = 0; r < rows; r++) {
      out[r * VOCAB + nextToken((int) in[r * HIDDEN], (int) in[r * HIDDEN + 1])] = 1f;
    }
    charged += costs.lmHead().nanos(rows, 0);
  }

  @Override
  public void close() {
  }

  /** KV memory that holds nothing: the simulated attention never reads it back. */
  static final class NullKvStore implements KvStore {
    private final int numBlocks;
    private final int blockSize;

    NullKvStore(int numBlocks, int blockSize) {
      this.numBlocks = numBlocks;
      this.blockSize = blockSize;
    }

    @Override
    public int numBlocks() {
      return numBlocks;
    }

    @Override
    public int blockSize() {
      return blockSize;
    }

    @Override
    public int floatsPerBlock() {
      return 2 * blockSize;
    }

    @Override
    public void readBlock(int block, float[] dst, int offset) {
      Arrays.fill(dst, offset, offset + floatsPerBlock(), 0f);
    }

    @Override
    public void writeBlock(int block, float[] src, int offset) {
    }

    @Override
    public void close() {
    }
  }
}

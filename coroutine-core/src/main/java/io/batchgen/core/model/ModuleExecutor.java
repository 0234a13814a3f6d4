package io.batchgen.core.model;

/**
 * Runs module batches of one model on one device: the seam between the coroutine runtime
 * (coroutine-core) and the compute backends (gpu-executor: {@code reference}, {@code cpu},
 * {@code cuda}).
 *
 * <p>Lifecycle: created by a backend for a loaded model; the runtime calls the module methods
 * from its single scheduler thread, one call at a time (an implementation may use its own worker
 * threads inside a call); {@link #close()} releases device memory and weights. Batches are lent
 * for the duration of one call and must not be retained.
 *
 * <p>Invariance contract: a row's outputs must be bitwise identical whichever other rows share
 * its batch and however many rows there are (fixed reduction order per row). Greedy output
 * depending on batch composition or migration is a bug.
 *
 * <p>Failure: a {@link RuntimeException} from a module call fails the sequences in that batch
 * (finish reason {@code error}); the executor must remain usable for other batches.
 * {@link OutOfMemoryError} and other errors are fatal to the runtime.
 */
public interface ModuleExecutor extends AutoCloseable {

  /** The model's shape; constant for the executor's lifetime. */
  ModelShape shape();

  /** Short human-readable description for logs, e.g. {@code "cpu(threads=2, bf16)"}. */
  String describe();

  /** Allocates KV memory for {@code numBlocks} per-layer blocks of {@code blockSize} positions. */
  KvStore createKvStore(int numBlocks, int blockSize);

  /** Bytes one per-layer block of {@code blockSize} positions occupies on the device. */
  long kvBytesPerBlock(int blockSize);

  /**
   * Looks up token embeddings: {@code out[(i) * hidden ...]} receives the embedding of
   * {@code tokens[offset + i]} for {@code i < count}. Token ids are validated by the caller.
   */
  void embed(int[] tokens, int offset, int count, float[] out, int outOffset);

  /** Runs attention (and the router) of {@link AttentionBatch#layer()}; see that class. */
  void attention(AttentionBatch batch);

  /**
   * Runs routed expert {@code expert} of {@code layer} over every row: input {@code (rows,
   * hidden)} is the post-attention norm, output {@code (rows, hidden)} is the expert FFN output,
   * <em>not</em> scaled by the routing weight (the runtime scales and sums, see
   * {@link MoeCombine}).
   */
  void expert(int layer, int expert, RowBatch batch);

  /**
   * Runs the shared expert of {@code layer} over every row, its gate included (for Qwen2-MoE:
   * {@code sigmoid(x · w_gate) * ffn(x)}). Only called when {@link ModelShape#sharedExpert()}.
   */
  void sharedExpert(int layer, RowBatch batch);

  /** Final RMS norm and LM head: input {@code (rows, hidden)} residual, output {@code (rows, vocab)} logits. */
  void lmHead(RowBatch batch);

  /**
   * A hint that {@code key} will run soon, so a memory-constrained backend can start streaming its
   * weights. Default: nothing to do (all weights resident).
   */
  default void prefetch(ModuleKey key) {
  }

  /**
   * Whether this executor streams weights (its weight budget is smaller than the model), so the
   * scheduler should tell it what comes next ({@link #prefetch(List)}) and may prefer modules whose
   * weights are {@link #resident}. Constant for the executor's lifetime. Default: false.
   */
  default boolean streamsWeights() {
    return false;
  }

  /**
   * The modules with rows waiting, most waiting rows first; replaces the previous call's list.
   * Called by the scheduler thread after it plans each module batch, only when
   * {@link #streamsWeights()}; must return quickly (loading happens on the executor's own
   * threads). What it loads or keeps must never change a result. Default: {@link
   * #prefetch(ModuleKey)} for each.
   */
  default void prefetch(java.util.List<ModuleKey> next) {
    for (ModuleKey k : next) {
      prefetch(k);
    }
  }

  /**
   * Whether {@code key}'s weights are in memory now, so running it needs no load. Scheduler
   * thread; a hint that may change at any time. Default: true.
   */
  default boolean resident(ModuleKey key) {
    return true;
  }

  /**
   * What the backend's weight store brought in so far; {@link WeightTraffic#NONE} for a backend
   * that holds every weight resident. Any thread may call it.
   */
  default WeightTraffic weightTraffic() {
    return WeightTraffic.NONE;
  }

  @Override
  void close();
}

package io.batchgen.core.runtime;

import io.batchgen.core.model.ModuleKind;
import java.util.EnumMap;
import java.util.Map;

/**
 * A point-in-time copy of a runtime's counters.
 *
 * @param generatedTokens     tokens sampled
 * @param prefillTokens       prompt (and recomputed) tokens processed
 * @param finishedSequences   sequences that finished (any reason)
 * @param batches             per module kind, the number of module batches run
 * @param rows                per module kind, the rows those batches held
 * @param queueWaitNanos      per module kind, summed time rows waited in the wait queue
 * @param moduleNanos         per module kind, time spent in module calls
 * @param kvBlocksUsed        KV blocks in use now
 * @param kvBlocksTotal       KV blocks in the pool
 * @param kvBlocksPeak        most KV blocks in use at once
 * @param parkPreemptions     sequences parked to the host tier
 * @param recomputePreemptions sequences whose KV was dropped for recompute
 * @param hostKvBytesUsed     bytes parked in the host tier now
 * @param queued              sequences waiting for admission (includes recompute)
 * @param running             sequences holding KV
 * @param parked              sequences parked
 * @param positionsLeft       token positions the live sequences still have to process before
 *                            their next token can be sampled (prompts not yet prefilled, and
 *                            whatever preemption sent back for recompute)
 * @param newTokensBound      tokens the live sequences may still generate at most (each one's
 *                            max new tokens, within the model's context, less what it generated)
 * @param cachedPositions     positions the live sequences have in the KV cache (what migrating
 *                            them with their KV ships)
 * @param liveGenerated       tokens the live sequences have generated so far
 * @param completedGenerated  tokens the sequences that stopped by themselves here (a stop or
 *                            their length; not errors or cancels) generated, counting what they
 *                            generated elsewhere before a migration
 * @param completedBound      the same sequences' bounds on new tokens (max new tokens within the
 *                            model's context): with {@code completedGenerated}, how much of its
 *                            bound a sequence uses
 * @param expertBatchSizes    routed-expert module batches by size: bucket {@code b} counts
 *                            batches of {@code 2^b} to {@code 2^(b+1) - 1} rows, the last bucket
 *                            everything from {@code 2^(EXPERT_BATCH_BUCKETS - 1)} rows up
 */
public record RuntimeMetrics(
    long generatedTokens,
    long prefillTokens,
    long finishedSequences,
    Map<ModuleKind, Long> batches,
    Map<ModuleKind, Long> rows,
    Map<ModuleKind, Long> queueWaitNanos,
    Map<ModuleKind, Long> moduleNanos,
    int kvBlocksUsed,
    int kvBlocksTotal,
    int kvBlocksPeak,
    long parkPreemptions,
    long recomputePreemptions,
    long hostKvBytesUsed,
    int queued,
    int running,
    int parked,
    long positionsLeft,
    long newTokensBound,
    long cachedPositions,
    long liveGenerated,
    long completedGenerated,
    long completedBound,
    long[] expertBatchSizes) {

  /** Buckets of {@link #expertBatchSizes}: 1, 2-3, 4-7, ..., 2048 and more rows. */
  public static final int EXPERT_BATCH_BUCKETS = 12;

  public RuntimeMetrics {
    expertBatchSizes = expertBatchSizes.clone();
    batches = Map.copyOf(batches);
    rows = Map.copyOf(rows);
    queueWaitNanos = Map.copyOf(queueWaitNanos);
    moduleNanos = Map.copyOf(moduleNanos);
  }

  /** A snapshot without expert-batch sizes (simulations and tests that do not count them). */
  public RuntimeMetrics(long generatedTokens, long prefillTokens, long finishedSequences,
      Map<ModuleKind, Long> batches, Map<ModuleKind, Long> rows,
      Map<ModuleKind, Long> queueWaitNanos, Map<ModuleKind, Long> moduleNanos, int kvBlocksUsed,
      int kvBlocksTotal, int kvBlocksPeak, long parkPreemptions, long recomputePreemptions,
      long hostKvBytesUsed, int queued, int running, int parked, long positionsLeft,
      long newTokensBound, long cachedPositions, long liveGenerated, long completedGenerated,
      long completedBound) {
    this(generatedTokens, prefillTokens, finishedSequences, batches, rows, queueWaitNanos,
        moduleNanos, kvBlocksUsed, kvBlocksTotal, kvBlocksPeak, parkPreemptions,
        recomputePreemptions, hostKvBytesUsed, queued, running, parked, positionsLeft,
        newTokensBound, cachedPositions, liveGenerated, completedGenerated, completedBound,
        new long[EXPERT_BATCH_BUCKETS]);
  }

  @Override
  public long[] expertBatchSizes() {
    return expertBatchSizes.clone();
  }

  /** The bucket of {@link #expertBatchSizes} a batch of {@code rows} (at least 1) counts in. */
  public static int expertBatchBucket(int rows) {
    return Math.min(EXPERT_BATCH_BUCKETS - 1, 31 - Integer.numberOfLeadingZeros(rows));
  }

  /** The rows of bucket {@code b}, as text: {@code 1}, {@code 2-3}, ..., {@code 2048+}. */
  public static String expertBatchBucketLabel(int b) {
    int lo = 1 << b;
    return b == EXPERT_BATCH_BUCKETS - 1 ? lo + "+" : lo == 1 ? "1" : lo + "-" + (2 * lo - 1);
  }

  /** Mean rows per batch of {@code kind}; 0 when none ran. */
  public double meanBatchRows(ModuleKind kind) {
    long b = batches.getOrDefault(kind, 0L);
    return b == 0 ? 0 : (double) rows.getOrDefault(kind, 0L) / b;
  }

  /** Mean rows per routed-expert batch: the figure module-based batching exists to raise. */
  public double meanExpertBatchRows() {
    return meanBatchRows(ModuleKind.EXPERT);
  }

  /** Mean time a row of {@code kind} waited in its queue, in microseconds. */
  public double meanQueueWaitMicros(ModuleKind kind) {
    long r = rows.getOrDefault(kind, 0L);
    return r == 0 ? 0 : queueWaitNanos.getOrDefault(kind, 0L) / 1e3 / r;
  }

  public long preemptions() {
    return parkPreemptions + recomputePreemptions;
  }

  static Map<ModuleKind, Long> perKind(long[] values) {
    Map<ModuleKind, Long> m = new EnumMap<>(ModuleKind.class);
    for (ModuleKind k : ModuleKind.values()) {
      m.put(k, values[k.ordinal()]);
    }
    return m;
  }
}

package io.batchgen.core.runtime;

/**
 * Everything that tunes a {@link SequenceRuntime}; no system properties are read.
 *
 * @param mode                       coroutine scheduling, or the lock-step baseline
 * @param policy                     which module runs next (coroutine mode; lock-step runs in
 *                                   model order)
 * @param kvBlockSize                token positions per KV block
 * @param kvBudgetBytes              device bytes for KV blocks; the pool gets
 *                                   {@code kvBudgetBytes / executor.kvBytesPerBlock} blocks
 * @param hostKvBudgetBytes          host bytes for parked sequences' KV
 * @param preemption                 park, recompute, or choose by measured cost
 * @param kvOffload                  keep every sequence's KV in the host tier and page one layer
 *                                   of one attention batch at a time into the device pool
 *                                   (MoE-Gen style): the device budget then bounds attention
 *                                   batches, not the sequences in flight, so expert batches can
 *                                   gather rows from many more sequences. Admission reserves host
 *                                   bytes for a sequence's full length, so nothing is preempted
 * @param hostCopyBytesPerSecond     initial estimate of host copy speed for the park-vs-recompute
 *                                   choice, replaced by measurements once the runtime has parked
 * @param prefillChunkTokens         prompt tokens a sequence processes per step
 * @param maxAttentionRows           rows (tokens) per attention batch
 * @param maxAttentionContextTokens  cached positions all segments of one attention batch may read
 *                                   together: attention batches are sized by KV memory
 * @param maxExpertRows              rows per expert or shared-expert batch: sized by compute
 * @param maxLmHeadRows              rows per LM-head batch
 * @param maxRunningSequences        sequences holding KV at once
 * @param starvationLimitBatches     a row that waited this many batches more than one sweep over
 *                                   all of the model's modules runs next regardless of the policy
 */
public record RuntimeConfig(
    SchedulingMode mode,
    SchedulingPolicy policy,
    int kvBlockSize,
    long kvBudgetBytes,
    long hostKvBudgetBytes,
    PreemptionMode preemption,
    boolean kvOffload,
    double hostCopyBytesPerSecond,
    int prefillChunkTokens,
    int maxAttentionRows,
    int maxAttentionContextTokens,
    int maxExpertRows,
    int maxLmHeadRows,
    int maxRunningSequences,
    int starvationLimitBatches) {

  public RuntimeConfig {
    require(mode != null, "mode", "must be set");
    require(policy != null, "policy", "must be set");
    require(kvBlockSize > 0, "kvBlockSize", "must be positive, got " + kvBlockSize);
    require(kvBudgetBytes > 0, "kvBudgetBytes", "must be positive, got " + kvBudgetBytes);
    require(hostKvBudgetBytes >= 0, "hostKvBudgetBytes", "must be >= 0, got " + hostKvBudgetBytes);
    require(preemption != null, "preemption", "must be set");
    require(hostCopyBytesPerSecond > 0, "hostCopyBytesPerSecond",
        "must be positive, got " + hostCopyBytesPerSecond);
    require(prefillChunkTokens > 0, "prefillChunkTokens",
        "must be positive, got " + prefillChunkTokens);
    require(maxAttentionRows >= prefillChunkTokens, "maxAttentionRows",
        "must be >= prefillChunkTokens (" + prefillChunkTokens + "), got " + maxAttentionRows);
    require(maxAttentionContextTokens > 0, "maxAttentionContextTokens",
        "must be positive, got " + maxAttentionContextTokens);
    require(maxExpertRows > 0, "maxExpertRows", "must be positive, got " + maxExpertRows);
    require(maxLmHeadRows > 0, "maxLmHeadRows", "must be positive, got " + maxLmHeadRows);
    require(maxRunningSequences > 0, "maxRunningSequences",
        "must be positive, got " + maxRunningSequences);
    require(starvationLimitBatches > 0, "starvationLimitBatches",
        "must be positive, got " + starvationLimitBatches);
  }

  private static void require(boolean ok, String field, String why) {
    if (!ok) {
      throw new IllegalArgumentException("Runtime config '" + field + "' " + why);
    }
  }

  /**
   * Defaults for a CPU run: coroutine mode, the weight-aware sweep policy (the sweep itself unless
   * weights stream), 16-token blocks, 1 GiB of KV,
   * 4 GiB of host tier, cost-chosen preemption, 64-token prefill chunks.
   */
  public static RuntimeConfig defaults() {
    return new RuntimeConfig(SchedulingMode.COROUTINE, SchedulingPolicy.weightAware(), 16,
        1L << 30,
        4L << 30, PreemptionMode.AUTO, false, 4e9, 64, 512, 64 * 1024, 1024, 256, 256, 64);
  }

  public RuntimeConfig withMode(SchedulingMode m) {
    return new RuntimeConfig(m, policy, kvBlockSize, kvBudgetBytes, hostKvBudgetBytes, preemption,
        kvOffload, hostCopyBytesPerSecond, prefillChunkTokens, maxAttentionRows,
        maxAttentionContextTokens, maxExpertRows, maxLmHeadRows, maxRunningSequences,
        starvationLimitBatches);
  }

  public RuntimeConfig withPolicy(SchedulingPolicy p) {
    return new RuntimeConfig(mode, p, kvBlockSize, kvBudgetBytes, hostKvBudgetBytes, preemption,
        kvOffload, hostCopyBytesPerSecond, prefillChunkTokens, maxAttentionRows,
        maxAttentionContextTokens, maxExpertRows, maxLmHeadRows, maxRunningSequences,
        starvationLimitBatches);
  }

  public RuntimeConfig withKv(int blockSize, long budgetBytes, long hostBudgetBytes) {
    return new RuntimeConfig(mode, policy, blockSize, budgetBytes, hostBudgetBytes, preemption,
        kvOffload, hostCopyBytesPerSecond, prefillChunkTokens, maxAttentionRows,
        maxAttentionContextTokens, maxExpertRows, maxLmHeadRows, maxRunningSequences,
        starvationLimitBatches);
  }

  public RuntimeConfig withKvOffload(boolean offload) {
    return new RuntimeConfig(mode, policy, kvBlockSize, kvBudgetBytes, hostKvBudgetBytes,
        preemption, offload, hostCopyBytesPerSecond, prefillChunkTokens, maxAttentionRows,
        maxAttentionContextTokens, maxExpertRows, maxLmHeadRows, maxRunningSequences,
        starvationLimitBatches);
  }

  public RuntimeConfig withPreemption(PreemptionMode p) {
    return new RuntimeConfig(mode, policy, kvBlockSize, kvBudgetBytes, hostKvBudgetBytes, p,
        kvOffload, hostCopyBytesPerSecond, prefillChunkTokens, maxAttentionRows,
        maxAttentionContextTokens, maxExpertRows, maxLmHeadRows, maxRunningSequences,
        starvationLimitBatches);
  }

  /** Sets the prefill chunk and the per-kind batch row limits. */
  public RuntimeConfig withBatchLimits(int prefillChunk, int attentionRows, int attentionContext,
      int expertRows, int lmHeadRows) {
    return new RuntimeConfig(mode, policy, kvBlockSize, kvBudgetBytes, hostKvBudgetBytes,
        preemption, kvOffload, hostCopyBytesPerSecond, prefillChunk, attentionRows,
        attentionContext, expertRows, lmHeadRows, maxRunningSequences, starvationLimitBatches);
  }

  public RuntimeConfig withMaxRunningSequences(int n) {
    return new RuntimeConfig(mode, policy, kvBlockSize, kvBudgetBytes, hostKvBudgetBytes,
        preemption, kvOffload, hostCopyBytesPerSecond, prefillChunkTokens, maxAttentionRows,
        maxAttentionContextTokens, maxExpertRows, maxLmHeadRows, n, starvationLimitBatches);
  }

  public RuntimeConfig withStarvationLimitBatches(int n) {
    return new RuntimeConfig(mode, policy, kvBlockSize, kvBudgetBytes, hostKvBudgetBytes,
        preemption, kvOffload, hostCopyBytesPerSecond, prefillChunkTokens, maxAttentionRows,
        maxAttentionContextTokens, maxExpertRows, maxLmHeadRows, maxRunningSequences, n);
  }
}

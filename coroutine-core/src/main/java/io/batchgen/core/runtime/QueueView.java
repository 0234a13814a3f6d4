package io.batchgen.core.runtime;

import io.batchgen.core.model.ModuleKey;

/**
 * What a {@link SchedulingPolicy} sees: the non-empty wait queues, indexed {@code 0 .. size()-1}.
 * Ticks count dispatched module batches, a logical clock that makes scheduling reproducible.
 * Valid only during one {@link SchedulingPolicy#choose} call.
 */
public interface QueueView {

  /** Non-empty queues. */
  int size();

  ModuleKey key(int i);

  /** Rows waiting (entries may include a few of preempted sequences that are skipped). */
  int rows(int i);

  /** Tick at which the oldest row of queue {@code i} started waiting. */
  long oldestTick(int i);

  /** Batches dispatched so far. */
  long nowTick();

  /** Used fraction of the KV block pool, in [0, 1]. */
  double kvUtilization();

  /** Position of the queue's module in one forward pass: 0 for attention of layer 0, ... */
  int modelOrder(int i);

  /**
   * Whether queue {@code i}'s module has its weights in memory now (always true unless the
   * backend streams weights).
   */
  default boolean resident(int i) {
    return true;
  }
}

package io.batchgen.core.rebalance;

import java.util.List;

/**
 * Decides which sequences move between executors. The driver calls {@link #plan} on one thread,
 * every rebalance interval, with the latest load of every live executor; executors carry the
 * moves out. Implementations may keep state between calls (hysteresis) and must not block.
 */
public interface RebalancePolicy {

  /**
   * The moves to make now, possibly none.
   *
   * @param loads                    one entry per live executor and model setting; idle
   *                                 executors appear with {@link ExecutorLoad#idle}
   * @param transportBytesPerSecond  measured speed of moving sequence state between executors;
   *                                 0 when not measured yet
   * @param nowNanos                 the caller's clock
   */
  List<Move> plan(List<ExecutorLoad> loads, double transportBytesPerSecond, long nowNanos);
}

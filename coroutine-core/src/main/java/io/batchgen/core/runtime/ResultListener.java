package io.batchgen.core.runtime;

/**
 * Receives a sequence's result when it finishes.
 *
 * <p>Called on the runtime's scheduler thread, exactly once per submitted sequence (unless the
 * sequence is detached by a migration snapshot). It must return quickly and never block: hand the
 * result to a queue (see {@link ResultQueue}) or another thread. A throw is logged and ignored.
 */
@FunctionalInterface
public interface ResultListener {
  void onResult(SequenceResult result);

  /**
   * The positions this listener's sequences hold in this runtime's KV cache changed by
   * {@code delta}: when one enters (restored with its cache: by its position), after each of its
   * steps (by the positions the step processed: prompt positions, or the token a decode step
   * fed), when a preemption drops its cache to recompute it (by minus its position), and when it
   * leaves (finished, failed, or detached for a migration: by minus its position). So the sum over
   * calls is the work done so far on the sequences in flight, which a progress display counts
   * before their results arrive. Called on the scheduler thread like {@link #onResult}, once per
   * sequence and step: it must only add to a counter. Does nothing unless overridden.
   */
  default void inFlightPositions(long delta) {
  }
}

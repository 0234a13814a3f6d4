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
   * The positions this listener's sequences processed in this runtime and still hold changed by
   * {@code delta}: after each step of one of them, by the positions the step processed (prompt
   * positions, or the token a decode step fed); when one leaves (it finished, failed, or was
   * detached for a migration), by minus all it processed here. So the sum over calls is the work
   * done so far on the sequences in flight, which a progress display counts before their results
   * arrive. Called on the scheduler thread like {@link #onResult}, once per sequence and step: it
   * must only add to a counter. Does nothing unless overridden.
   */
  default void inFlightPositions(long delta) {
  }
}

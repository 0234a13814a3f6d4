package io.batchgen.core.runtime;

/**
 * Where a {@link SequenceCoroutine} posts what it waits for next: the scheduler's wait queues.
 * Called on the scheduler thread from within {@code resume}.
 */
interface AwaitSink {

  /**
   * {@code seq} awaits module {@code keyOrder} (see {@link ModuleKeys}) for row {@code row} of
   * its current step; {@code rank} is the router rank for expert awaits, else 0.
   */
  void await(int keyOrder, SequenceCoroutine seq, int row, int rank);

  /** {@code seq} finished its step (a prefill chunk, or a sampled token); it may be finished. */
  void stepDone(SequenceCoroutine seq);
}

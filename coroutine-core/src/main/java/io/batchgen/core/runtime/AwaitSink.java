package io.batchgen.core.runtime;

/**
 * Where a {@link SequenceCoroutine} posts what it waits for next: its {@link SequenceSlot}, which
 * forwards to the scheduler's wait queues. Called on the scheduler thread from within
 * {@code beginStep} and {@code resume}.
 */
interface AwaitSink {

  /**
   * The sequence awaits module {@code keyOrder} (see {@link ModuleKeys}) for row {@code row} of
   * its current step; {@code rank} is the router rank for expert awaits, else 0.
   */
  void await(int keyOrder, int row, int rank);

  /** The sequence finished its step (a prefill chunk, or a sampled token); it may be finished. */
  void stepDone();
}

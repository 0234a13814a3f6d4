package io.batchgen.core.runtime;

import java.time.Duration;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;

/**
 * One caller's bounded stream of results: {@link #submit} blocks while {@code capacity} of this
 * caller's sequences are in flight or finished but not yet taken, so a slow consumer holds at
 * most {@code capacity} results in memory and never blocks the scheduler thread.
 *
 * <p>Thread-safe: any threads may submit and take. Results arrive in finishing order.
 */
public final class ResultQueue {
  private final SequenceRuntime runtime;
  private final Semaphore permits;
  private final LinkedBlockingQueue<GenerationResult> results = new LinkedBlockingQueue<>();
  private final ResultListener listener = results::add;

  ResultQueue(SequenceRuntime runtime, int capacity) {
    if (capacity <= 0) {
      throw new IllegalArgumentException("Result queue capacity must be positive, got "
          + capacity);
    }
    this.runtime = runtime;
    this.permits = new Semaphore(capacity);
  }

  /** Submits a request, waiting while the queue is at capacity. */
  public void submit(GenerationRequest request) throws InterruptedException {
    permits.acquire();
    try {
      runtime.submit(request, listener);
    } catch (RuntimeException e) {
      permits.release();
      throw e;
    }
  }

  /** Restores a snapshot whose result should arrive here, waiting while at capacity. */
  public void restore(io.batchgen.core.snapshot.SequenceSnapshot snapshot)
      throws InterruptedException {
    permits.acquire();
    try {
      runtime.restore(snapshot, listener);
    } catch (RuntimeException e) {
      permits.release();
      throw e;
    }
  }

  /** The next finished result, waiting for one. */
  public GenerationResult take() throws InterruptedException {
    GenerationResult r = results.take();
    permits.release();
    return r;
  }

  /** The next finished result, or null after {@code timeout}. */
  public GenerationResult poll(Duration timeout) throws InterruptedException {
    GenerationResult r = results.poll(timeout.toNanos(), TimeUnit.NANOSECONDS);
    if (r != null) {
      permits.release();
    }
    return r;
  }

  /**
   * Tells the queue that a sequence submitted through it was detached by a migration snapshot
   * and will not deliver here, freeing its slot.
   */
  public void forget() {
    permits.release();
  }
}

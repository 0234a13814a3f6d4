package io.batchgen.core.runtime;

import java.time.Duration;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

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
  /** How often a waiting caller checks that the runtime is still alive. */
  private static final Duration LIVENESS_CHECK = Duration.ofMillis(100);

  private final int capacity;
  private final LinkedBlockingQueue<SequenceResult> results = new LinkedBlockingQueue<>();
  /** Positions this queue's sequences in flight hold in the runtime's KV cache. */
  private final AtomicLong inFlightPositions = new AtomicLong();
  private final ResultListener listener = new ResultListener() {
    @Override
    public void onResult(SequenceResult result) {
      results.add(result);
    }

    @Override
    public void inFlightPositions(long delta) {
      inFlightPositions.addAndGet(delta);
    }
  };

  ResultQueue(SequenceRuntime runtime, int capacity) {
    if (capacity <= 0) {
      throw new IllegalArgumentException("Result queue capacity must be positive, got "
          + capacity);
    }
    this.runtime = runtime;
    this.capacity = capacity;
    this.permits = new Semaphore(capacity);
  }

  /**
   * Submits a request, waiting while the queue is at capacity.
   *
   * @throws RuntimeFailedException when the runtime fails or closes, also while waiting
   */
  public void submit(GenerationRequest request) throws InterruptedException {
    acquire();
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
    acquire();
    try {
      runtime.restore(snapshot, listener);
    } catch (RuntimeException e) {
      permits.release();
      throw e;
    }
  }

  /** Takes a slot, checking while it waits that the runtime can still free one. */
  private void acquire() throws InterruptedException {
    while (!permits.tryAcquire(LIVENESS_CHECK.toNanos(), TimeUnit.NANOSECONDS)) {
      // A failed runtime refuses at once; a closed one only once nothing is left to take.
      if (runtime.failure() != null || results.isEmpty()) {
        runtime.checkDelivering();
      }
    }
  }

  /**
   * The next finished result, waiting for one as long as the runtime can still deliver it.
   *
   * @throws RuntimeFailedException when the runtime fails or closes while this caller waits
   */
  public SequenceResult take() throws InterruptedException {
    while (true) {
      SequenceResult r = poll(LIVENESS_CHECK);
      if (r != null) {
        return r;
      }
    }
  }

  /**
   * The next finished result, or null after {@code timeout}.
   *
   * @throws RuntimeFailedException when the runtime fails, or has closed with nothing left here
   */
  public SequenceResult poll(Duration timeout) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (true) {
      if (runtime.failure() != null) {
        runtime.checkDelivering();
      }
      long left = deadline - System.nanoTime();
      SequenceResult r = results.poll(Math.max(0, Math.min(left, LIVENESS_CHECK.toNanos())),
          TimeUnit.NANOSECONDS);
      if (r != null) {
        if (runtime.failure() != null) {
          runtime.checkDelivering(); // results after a failure include its casualties
        }
        permits.release();
        return r;
      }
      if (permits.availablePermits() < capacity) {
        runtime.checkDelivering(); // something is still owed: is anyone left to deliver it?
      }
      if (System.nanoTime() - deadline >= 0) {
        return null;
      }
    }
  }

  /**
   * Where results of this queue's sequences go. A sequence that was detached for migration and
   * finished in another runtime delivers its result here (the slot it took at submit is still
   * held, and is freed when the result is taken).
   */
  public ResultListener listener() {
    return listener;
  }

  /**
   * Positions (prompt positions prefilled, tokens fed back) that this queue's sequences still
   * in the runtime hold in its KV cache: the work done on them before their results arrive.
   * Sequences detached for a migration, and work a preemption dropped, no longer count here.
   */
  public long inFlightPositions() {
    return Math.max(0, inFlightPositions.get());
  }

  /**
   * Tells the queue that a sequence submitted through it was detached by a migration snapshot
   * and will not deliver here, freeing its slot.
   */
  public void forget() {
    permits.release();
  }
}
